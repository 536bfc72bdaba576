"""Runs inside DicomRTTool's own virtual environment (no rtconform there):
the tool's documented DicomReaderWriter API, nothing else.

    contour CT_DIR OUT_DIR      walk_through_folders, get_images, prediction_array_to_RT
    load DIR                    walk_through_folders; get_images; every ROI's mask back
    version
"""

import json
import sys
from importlib.metadata import version

import numpy as np


def reader_of(folder):
    from DicomRTTool.ReaderWriter import DicomReaderWriter

    reader = DicomReaderWriter(description="rtconform", arg_max=True, verbose=False)
    reader.walk_through_folders(folder, thread_count=1)
    if not reader.series_instances_dictionary:
        raise SystemExit(f"DicomRTTool found no image series in {folder}")
    reader.set_index(0)
    return reader


def structures(reader):
    """Thresholded body (HU > -500) and a 30 mm sphere target at the body's
    centre, as DicomRTTool's prediction array (slices, rows, cols, 1 + ROIs)."""

    hu = reader.ArrayDicom  # (slices, rows, cols), rescaled by SimpleITK
    body = hu > -500
    handle = reader.dicom_handle
    k, r, c = np.indices(body.shape)
    points = np.array([handle.TransformContinuousIndexToPhysicalPoint((float(x), float(y),
                                                                      float(z)))
                       for z, y, x in [(np.mean(k[body]), np.mean(r[body]),
                                        np.mean(c[body]))]])[0]
    spacing = np.array(handle.GetSpacing())  # x, y, z
    origin = np.array(handle.GetOrigin())
    x = origin[0] + c * spacing[0]
    y = origin[1] + r * spacing[1]
    z = origin[2] + k * spacing[2]
    target = (x - points[0]) ** 2 + (y - points[1]) ** 2 + (z - points[2]) ** 2 <= 30.0 ** 2
    out = np.zeros((*body.shape, 3), dtype=np.uint8)
    out[..., 1] = body
    out[..., 2] = target
    return out


def main(argv):
    command = argv[0]
    if command == "version":
        print(version("dicomrttool"))
        return 0
    if command == "contour":
        reader = reader_of(argv[1])
        reader.get_images()
        reader.prediction_array_to_RT(prediction_array=structures(reader), output_dir=argv[2],
                                      ROI_Names=["BODY", "PTV"], ROI_Types=["EXTERNAL", "PTV"])
        return 0
    if command == "load":
        reader = reader_of(argv[1])
        reader.get_images()
        rois = reader.return_rois(print_rois=False)
        out = {"images": int(reader.ArrayDicom.shape[0]), "rois": rois}
        if rois:
            reader.set_contour_names_and_associations(contour_names=rois)
            reader.get_mask()
            out["roi_volumes_cc"] = {k: round(float(v), 2) for k, v in reader.roi_volumes.items()}
        print(json.dumps(out))
        return 0
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

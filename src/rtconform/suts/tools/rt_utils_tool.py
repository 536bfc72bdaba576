"""Runs inside rt-utils' own virtual environment (no rtconform there): the
tool's documented API, nothing else. The driver (rtconform.suts.rt_utils)
hands it files and reads what it writes.

    contour CT_DIR OUT_DIR          RTStructBuilder.create_new + add_roi, save
    load CT_DIR [RTSTRUCT]          load_sorted_image_series / create_from, masks back
    edit CT_DIR RTSTRUCT OUT_DIR    create_from + add_roi, save
    version
"""

import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np


def volume(series):
    """The CT in Hounsfield units, shaped (rows, columns, slices) as rt-utils'
    masks are, in the order rt-utils sorted the series."""
    return np.stack([s.pixel_array * float(getattr(s, "RescaleSlope", 1))
                     + float(getattr(s, "RescaleIntercept", 0)) for s in series], axis=-1)


def structures(series):
    """Thresholded body (HU > -500) and a 30 mm sphere target at the body's centre."""
    hu = volume(series)
    body = hu > -500
    rows, cols, slices = np.indices(body.shape)
    spacing = [float(v) for v in series[0].PixelSpacing]
    z = np.array([float(s.ImagePositionPatient[2]) for s in series])
    centre = [float(np.mean(i[body])) for i in (rows, cols)]
    zc = float(np.mean(z[slices[body]]))
    dist2 = (((rows - centre[0]) * spacing[0]) ** 2 + ((cols - centre[1]) * spacing[1]) ** 2
             + (z[slices] - zc) ** 2)
    return body, dist2 <= 30.0 ** 2


def main(argv):
    command = argv[0]
    if command == "version":
        print(version("rt-utils"))
        return 0
    from rt_utils import RTStructBuilder, image_helper

    if command == "contour":
        ct_dir, out_dir = argv[1], Path(argv[2])
        rtstruct = RTStructBuilder.create_new(dicom_series_path=ct_dir)
        body, target = structures(rtstruct.series_data)
        rtstruct.add_roi(mask=body, color=[0, 255, 0], name="BODY")
        rtstruct.add_roi(mask=target, color=[255, 0, 255], name="PTV")
        rtstruct.save(str(out_dir / "rtstruct.dcm"))
        return 0
    if command == "edit":
        ct_dir, rs, out_dir = argv[1], argv[2], Path(argv[3])
        rtstruct = RTStructBuilder.create_from(dicom_series_path=ct_dir, rt_struct_path=rs)
        body, _ = structures(rtstruct.series_data)
        rtstruct.add_roi(mask=body & ~structures(rtstruct.series_data)[1], name="Ring")
        rtstruct.save(str(out_dir / "rtstruct.dcm"))
        return 0
    if command == "load":
        ct_dir = argv[1]
        if len(argv) < 3:
            series = image_helper.load_sorted_image_series(ct_dir)
            print(json.dumps({"images": len(series)}))
            return 0
        rtstruct = RTStructBuilder.create_from(dicom_series_path=ct_dir, rt_struct_path=argv[2])
        voxels = {name: int(rtstruct.get_roi_mask_by_name(name).sum())
                  for name in rtstruct.get_roi_names()}
        print(json.dumps({"images": len(rtstruct.series_data), "roi_voxels": voxels}))
        return 0
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

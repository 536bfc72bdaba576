"""The synthetic patient's CT images, and the CT series a reference
Contourer derives from given ones (resampled, combined: IHE-RO TRO RO-11)."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset, FileDataset

from rtconform.dicom.uids import (
    CT_IMAGE_STORAGE,
    DEFAULT_UID_ROOT,
    derived_uid,
)
from rtconform.phantom.design import (
    BODY_A,
    BODY_B,
    MATRIX,
    PIXEL_MM,
    SLICE_MM,
    STUDY_DATE,
    STUDY_TIME,
    X0,
)
from rtconform.phantom.patient import Patient, ds_number


class CTImages(Patient):
    """The CT series (and, for RO-6, two more overlapping ones)."""

    def ct_pixels(self) -> np.ndarray:
        x = X0 + PIXEL_MM * np.arange(MATRIX)
        xx, yy = np.meshgrid(x, x)
        hu = np.full((MATRIX, MATRIX), -1000, dtype=np.int32)
        hu[(xx / BODY_A) ** 2 + (yy / BODY_B) ** 2 <= 1.0] = 0
        hu[(xx - 0) ** 2 + (yy - 75) ** 2 <= 12**2] = 700  # vertebra
        return (hu + 1024).astype(np.uint16)

    def ct(self, series: str | None = None, uids: list[str] | None = None,
           slices: range | None = None, series_number: int = 1, prefix: str = "CT"
           ) -> dict[str, FileDataset]:
        pixels = self.ct_pixels().tobytes()
        series = series or self.uid["ct_series"]
        uids = uids or self.ct_uids
        out = {}
        for n, k in enumerate(slices or range(len(self.z)), start=1):
            ds = self.base(CT_IMAGE_STORAGE, uids[k], "CT", series, series_number)
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.ContentDate = STUDY_DATE
            ds.ContentTime = STUDY_TIME
            ds.PatientPosition = "HFS"
            ds.BodyPartExamined = "PELVIS"
            self.frame_of_reference(ds)
            ds.InstanceNumber = n
            ds.AcquisitionNumber = 1
            ds.KVP = "120"
            ds.SliceThickness = ds_number(SLICE_MM)
            ds.ImagePositionPatient = [ds_number(X0), ds_number(X0), ds_number(self.z[k])]
            ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
            ds.SliceLocation = ds_number(self.z[k])
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.Rows = MATRIX
            ds.Columns = MATRIX
            ds.PixelSpacing = [ds_number(PIXEL_MM), ds_number(PIXEL_MM)]
            ds.BitsAllocated = 16
            ds.BitsStored = 12
            ds.HighBit = 11
            ds.PixelRepresentation = 0
            ds.RescaleIntercept = "-1024"
            ds.RescaleSlope = "1"
            ds.RescaleType = "HU"
            ds.WindowCenter = "40"
            ds.WindowWidth = "400"
            ds.PixelData = pixels
            out[f"{prefix}_{n:03d}.dcm"] = ds
        return out

    def extra_series(self) -> dict[str, FileDataset]:
        """The same positions again as two overlapping series of the same study
        and Frame of Reference (what RO-6 gives a Contourer to combine)."""
        half = len(self.z) // 2
        out = {}
        for number, (label, slices) in enumerate(
                (("A", range(0, half + 3)), ("B", range(half, len(self.z)))), start=5):
            series = self.sample_uid("ct-series", label)
            uids = {k: self.sample_uid("ct", label, k) for k in slices}
            out.update(self.ct(series, uids, slices, number, f"CT2{label}"))
        return out


def resample_series(images: list[Dataset], uid_root: str = DEFAULT_UID_ROOT,
                    step: int = 2, kind: str = "resampled") -> list[Dataset]:
    """A resampled CT series (every `step`-th slice, thicker): a new Series
    Instance UID and new SOP Instance UIDs, same Frame of Reference and patient
    (IHE-RO TRO RO-11; IHE-RO test tool BRTO-RO11-16, -20)."""
    import copy

    images = sorted(images, key=lambda ds: float(ds.ImagePositionPatient[2]))
    source = str(images[0].SeriesInstanceUID)
    series_uid = derived_uid(uid_root, f"rtconform-{kind}", source, step)
    out = []
    for number, ds in enumerate(images[::step], start=1):
        new = copy.deepcopy(ds)
        new.SeriesInstanceUID = series_uid
        new.SOPInstanceUID = derived_uid(uid_root, f"rtconform-{kind}", source, step,
                                         str(ds.SOPInstanceUID))
        new.file_meta.MediaStorageSOPInstanceUID = new.SOPInstanceUID
        new.SeriesNumber = int(ds.get("SeriesNumber", 1)) + 100
        new.SeriesDescription = f"{kind} x{step}"
        new.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        new.InstanceNumber = number
        new.SliceThickness = ds_number(float(ds.get("SliceThickness", SLICE_MM)) * step)
        new.InstanceCreationDate = STUDY_DATE
        new.InstanceCreationTime = STUDY_TIME
        out.append(new)
    return out


def combine_series(images: list[Dataset], uid_root: str = DEFAULT_UID_ROOT) -> list[Dataset]:
    """One new series from several of the same Frame of Reference (RO-6 →
    RO-11): one image per position, the first series' image where they
    overlap, new Series and SOP Instance UIDs."""
    by_z: dict[float, Dataset] = {}
    for ds in sorted(images, key=lambda d: (int(d.get("SeriesNumber", 0)),
                                              float(d.ImagePositionPatient[2]))):
        by_z.setdefault(round(float(ds.ImagePositionPatient[2]), 3), ds)
    return resample_series(list(by_z.values()), uid_root, step=1, kind="combined")

"""Who the synthetic patient is, the UIDs of its objects, and the modules
every one of its objects shares (Patient, General Study, General Series,
Frame of Reference, SOP Common, the file meta information).

`Patient` is the base of the object builders (`images`, `structure_sets`,
`plans`, `doses`); `rtconform.phantom.builder.PatientBuilder` combines them.
It builds an object from what comes before it, so the reference actors can
contour the CT they retrieved, plan on the structure set they retrieved, and
copy the patient's identity unchanged (IHE-RO critical attributes).
"""

from __future__ import annotations

from typing import Self

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from rtconform import __version__
from rtconform.dicom.uids import (
    DEFAULT_UID_ROOT,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    derived_uid,
)
from rtconform.phantom.design import (
    GANTRY_ANGLES,
    N_SLICES,
    STUDY_DATE,
    STUDY_TIME,
    slice_z,
)

PATIENT_NAME = "RTCONFORM^Phantom"
PATIENT_ID = "RTC-PHANTOM-0001"
PATIENT_BIRTH_DATE = "19700101"


def ds_number(value: float) -> str:
    """A DS string of at most 16 characters."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text



class Patient:
    """The patient's identity and the UIDs of its objects; the modules every
    object shares."""

    def __init__(self, uid_root: str, z: list[float] | None = None, seed: str = "") -> None:
        self.root = uid_root
        self.seed = seed  # a run's seed: its own UIDs, the same again for the same seed
        self.uid = {
            key: self.sample_uid(key)
            for key in (
                "study", "ct_series", "for", "ss_series", "ss", "plan_series", "geo_plan",
                "dos_plan", "dose_series", "plan_dose",
            )
        }
        self.z = list(z) if z is not None else [slice_z(k) for k in range(N_SLICES)]
        self.ct_uids = [self.sample_uid("ct", k) for k in range(len(self.z))]
        self.patient = {"PatientName": PATIENT_NAME, "PatientID": PATIENT_ID,
                        "PatientBirthDate": PATIENT_BIRTH_DATE, "PatientSex": "O"}
        self.beam_dose_uids = [self.sample_uid("beam-dose", n + 1)
                               for n in range(len(GANTRY_ANGLES))]

    def sample_uid(self, *parts: object) -> str:
        """A UID of the synthetic patient: fixed for a root (and seed), so
        `rtconform sample` writes the same files on every run."""
        return derived_uid(self.root, "rtconform-sample", *([self.seed] if self.seed else []),
                           *parts)

    def _adopt(self, ds: Dataset) -> None:
        """Take study, frame of reference and patient from an input object."""
        self.uid["study"] = str(ds.StudyInstanceUID)
        if "FrameOfReferenceUID" in ds:
            self.uid["for"] = str(ds.FrameOfReferenceUID)
        for keyword in self.patient:
            self.patient[keyword] = str(ds.get(keyword, ""))
        # derived objects get UIDs of their own, stable for the same input
        for key in ("ss_series", "ss", "plan_series", "geo_plan", "dos_plan", "dose_series",
                    "plan_dose"):
            self.uid[key] = derived_uid(self.root, "rtconform-derived", self.uid["study"], key)
        self.beam_dose_uids = [derived_uid(self.root, "rtconform-derived", self.uid["study"],
                                           "beam-dose", n + 1)
                               for n in range(len(GANTRY_ANGLES))]

    @classmethod
    def from_images(cls, images: list[Dataset], uid_root: str = DEFAULT_UID_ROOT
                    ) -> Self:
        """Contour on these CT images (sorted along z)."""
        images = sorted(images, key=lambda ds: float(ds.ImagePositionPatient[2]))
        builder = cls(uid_root)
        builder._adopt(images[0])
        builder.uid["ct_series"] = str(images[0].SeriesInstanceUID)
        builder.ct_uids = [str(ds.SOPInstanceUID) for ds in images]
        builder.z = [float(ds.ImagePositionPatient[2]) for ds in images]
        return builder

    @classmethod
    def from_structure_set(cls, ss: Dataset, uid_root: str = DEFAULT_UID_ROOT,
                           geometric_plan: Dataset | None = None) -> Self:
        """Plan on this structure set (and, for a dosimetric plan, from this
        geometric plan)."""
        builder = cls(uid_root)
        frame = ss.ReferencedFrameOfReferenceSequence[0]
        builder._adopt(ss)
        builder.uid["for"] = str(frame.FrameOfReferenceUID)
        builder.uid["ss"] = str(ss.SOPInstanceUID)
        if geometric_plan is not None:
            builder.uid["geo_plan"] = str(geometric_plan.SOPInstanceUID)
            builder.uid["plan_series"] = str(geometric_plan.SeriesInstanceUID)
        return builder

    # -- common modules -------------------------------------------------
    def base(self, sop_class: str, sop_instance: str, modality: str, series: str,
             series_number: int) -> FileDataset:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = sop_instance
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        meta.SourceApplicationEntityTitle = "RTCONFORM"
        ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
        # built in memory, encoded as its file meta says: Explicit VR Little Endian
        ds.set_original_encoding(False, True, "ISO_IR 100")
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.InstanceCreationDate = STUDY_DATE
        ds.InstanceCreationTime = STUDY_TIME
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = sop_instance
        ds.StudyDate = STUDY_DATE
        ds.StudyTime = STUDY_TIME
        ds.AccessionNumber = ""
        ds.Modality = modality
        ds.Manufacturer = "rtconform"
        ds.ReferringPhysicianName = ""
        ds.StationName = "RTCONFORM"
        ds.StudyDescription = "rtconform synthetic phantom"
        ds.SeriesDescription = f"rtconform {modality}"
        ds.ManufacturerModelName = "rtconform sample"
        ds.SoftwareVersions = __version__
        for keyword, value in self.patient.items():
            setattr(ds, keyword, value)
        ds.StudyInstanceUID = self.uid["study"]
        ds.SeriesInstanceUID = series
        ds.StudyID = "RTC1"
        ds.SeriesNumber = series_number
        if modality != "CT":
            ds.OperatorsName = ""
        return ds

    def frame_of_reference(self, ds: Dataset) -> None:
        ds.FrameOfReferenceUID = self.uid["for"]
        ds.PositionReferenceIndicator = ""

    @staticmethod
    def ref(sop_class: str, sop_instance: str) -> Dataset:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        return item

"""UIDs: the grammar check (PS3.5 §9.1), deterministic generation, and the SOP
classes the TRO profile is about.

A UID is checked here before it is trusted anywhere else, including before it
becomes part of a file name.
"""

from __future__ import annotations

import re

from pydicom import uid as dicom_uid
from pydicom.uid import UID, generate_uid

from rtconform import __version__

# PS3.5 9.1: components of digits separated by '.', no leading zero in a
# multi-digit component, at most 64 characters.
_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")

# pydicom's registered root; any root can be given to the sample generator.
DEFAULT_UID_ROOT = "1.2.826.0.1.3680043.8.498."
# What rtconform's files and associations say they were made by (PS3.7 D.3.3.2,
# PS3.10 7.1): the synthetic patient's file meta and every actor's A-ASSOCIATE.
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.8.498.1"
IMPLEMENTATION_VERSION_NAME = f"RTCONFORM_{__version__.replace('.', '')}"[:16]

# The one SOP class table: pydicom's registry, by the names used here.
CT_IMAGE_STORAGE = str(dicom_uid.CTImageStorage)
MR_IMAGE_STORAGE = str(dicom_uid.MRImageStorage)
PET_IMAGE_STORAGE = str(dicom_uid.PositronEmissionTomographyImageStorage)
RT_STRUCTURE_SET_STORAGE = str(dicom_uid.RTStructureSetStorage)
RT_PLAN_STORAGE = str(dicom_uid.RTPlanStorage)
RT_DOSE_STORAGE = str(dicom_uid.RTDoseStorage)
RT_IMAGE_STORAGE = str(dicom_uid.RTImageStorage)
RT_BEAMS_TREATMENT_RECORD_STORAGE = str(dicom_uid.RTBeamsTreatmentRecordStorage)
SPATIAL_REGISTRATION_STORAGE = str(dicom_uid.SpatialRegistrationStorage)
SECONDARY_CAPTURE_STORAGE = str(dicom_uid.SecondaryCaptureImageStorage)

IMAGE_SOP_CLASSES = frozenset({CT_IMAGE_STORAGE, MR_IMAGE_STORAGE, PET_IMAGE_STORAGE})
# the SOP class of each modality a TRO transaction carries
SOP_CLASS_BY_MODALITY = {"CT": CT_IMAGE_STORAGE, "RTSTRUCT": RT_STRUCTURE_SET_STORAGE,
                         "RTPLAN": RT_PLAN_STORAGE, "RTDOSE": RT_DOSE_STORAGE}
# Storage SOP classes every receiving actor accepts (RT and the images RT uses),
# by their names in PS3.6
STORAGE_SOP_CLASSES = {UID(str(u)).name: str(u) for u in (
    dicom_uid.CTImageStorage, dicom_uid.EnhancedCTImageStorage, dicom_uid.MRImageStorage,
    dicom_uid.EnhancedMRImageStorage, dicom_uid.PositronEmissionTomographyImageStorage,
    dicom_uid.RTImageStorage, dicom_uid.RTDoseStorage, dicom_uid.RTStructureSetStorage,
    dicom_uid.RTBeamsTreatmentRecordStorage, dicom_uid.RTPlanStorage,
    dicom_uid.RTBrachyTreatmentRecordStorage, dicom_uid.RTTreatmentSummaryRecordStorage,
    dicom_uid.RTIonPlanStorage, dicom_uid.RTIonBeamsTreatmentRecordStorage,
    dicom_uid.SpatialRegistrationStorage, dicom_uid.DeformableSpatialRegistrationStorage,
    dicom_uid.SecondaryCaptureImageStorage)}


def uid_problem(value: object) -> str | None:
    """Why `value` is not a valid UID, or None when it is."""
    text = str(value) if value is not None else ""
    if not text:
        return "empty UID"
    if len(text) > 64:
        return f"UID longer than 64 characters ({len(text)})"
    if not _UID_RE.match(text):
        return "UID does not follow the PS3.5 grammar (digits, dots, no leading zeros)"
    if text.split(".")[0] not in ("0", "1", "2"):
        return "illegal root: the first component of a UID must be 0, 1 or 2"
    return None


def is_valid_uid(value: object) -> bool:
    return uid_problem(value) is None


def derived_uid(root: str, *parts: object) -> str:
    """A UID that is the same on every run for the same root and parts."""
    if not root.endswith("."):
        root += "."
    return generate_uid(prefix=root, entropy_srcs=[str(p) for p in parts])


def safe_file_stem(uid: object, fallback: str) -> str:
    """A file name made from a UID only when it passes the grammar; never from
    anything else a peer sent (patient names, free text)."""
    return str(uid) if is_valid_uid(uid) else fallback


def uid_name(uid: str) -> str:
    """The registry name of a UID ('Explicit VR Little Endian'), else the UID."""
    name = UID(uid).name
    return name if name != uid else uid

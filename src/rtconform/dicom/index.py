"""The instance index: one light record per file, read header-only and streamed.

Images keep only what geometry and identity checks need; RT objects (structure
sets, plans, doses) keep their header dataset because the TRO rules walk their
sequences. That is what keeps memory flat on a folder of 10,000 CT files.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import UID

from rtconform.dicom.read import (
    DEFAULT_MAX_OBJECT_BYTES,
    NotDicom,
    UnreadableFile,
    read_header,
    undecodable_element,
)
from rtconform.dicom.uids import (
    IMAGE_SOP_CLASSES,
    RT_DOSE_STORAGE,
    RT_PLAN_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
)

KIND_BY_CLASS = {
    RT_STRUCTURE_SET_STORAGE: "rtstruct",
    RT_PLAN_STORAGE: "rtplan",
    RT_DOSE_STORAGE: "rtdose",
}
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


def is_dicomdir(ds: Dataset) -> bool:
    """A DICOMDIR names its class only in the file meta (it has no SOP Common).
    Called where decoding errors are caught (read_instance)."""
    meta = getattr(ds, "file_meta", None) or {}
    return (str(meta.get("MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY
            or "DirectoryRecordSequence" in ds)


def person_name(value: object) -> str:
    """PN with insignificant trailing delimiters removed (PS3.5 6.2.1):
    'IHE_RO^Patient^^^' and 'IHE_RO^Patient' are the same name."""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(person_name(v) for v in value)  # type: ignore[union-attr]
    groups = str(value or "").split("=")
    return "=".join(g.rstrip("^ ") for g in groups).rstrip("=")


# Attributes an actor copies from its input (IHE-RO critical attributes) and
# the few image-level values BRTO judges: kept for every object, images too,
# so the BRTO rules can compare a produced object with its source.
COPIED_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
    "AccessionNumber", "StudyDescription", "FrameOfReferenceUID", "PositionReferenceIndicator",
)
KEPT_KEYWORDS = (*COPIED_KEYWORDS, "SpecificCharacterSet", "ImageType")


def _kept(ds: Dataset) -> dict[str, str | None]:
    """keyword → its value as text, or None when the attribute is absent."""
    out: dict[str, str | None] = {}
    for keyword in KEPT_KEYWORDS:
        if keyword not in ds:
            out[keyword] = None
            continue
        value = ds[keyword].value
        if value is None:
            out[keyword] = ""
        elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            out[keyword] = "\\".join(str(v).strip() for v in value)
        else:
            out[keyword] = str(value).strip()
    return out


def _floats(value: object) -> tuple[float, ...] | None:
    try:
        return tuple(float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None


@dataclass
class Instance:
    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    kind: str  # image | rtstruct | rtplan | rtdose | other
    modality: str = ""
    study_uid: str = ""
    series_uid: str = ""
    frame_of_reference_uid: str = ""
    patient: tuple[str, str, str] = ("", "", "")  # name, ID, birth date
    transfer_syntax: str = ""
    part10: bool = True
    pixel_data_length: int | None = None
    # image geometry
    position: tuple[float, ...] | None = None
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, ...] | None = None
    matrix: tuple[int, int] | None = None
    attributes: dict[str, str | None] = field(default_factory=dict, repr=False)
    dataset: Dataset | None = field(default=None, repr=False)
    dicomdir: bool = False  # a File-set's directory, not an object of the set

    @property
    def label(self) -> str:
        return self.path.name

    @classmethod
    def from_dataset(cls, path: Path, ds: Dataset, transfer_syntax: str, part10: bool,
                     pixel_data_length: int | None) -> Instance:
        sop_class = str(ds.get("SOPClassUID", ""))
        kind = "image" if sop_class in IMAGE_SOP_CLASSES else KIND_BY_CLASS.get(sop_class, "other")
        inst = cls(
            path=path,
            sop_class_uid=sop_class,
            sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
            kind=kind,
            modality=str(ds.get("Modality", "")),
            study_uid=str(ds.get("StudyInstanceUID", "")),
            series_uid=str(ds.get("SeriesInstanceUID", "")),
            frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "")),
            patient=(person_name(ds.get("PatientName", "")), str(ds.get("PatientID", "")),
                     str(ds.get("PatientBirthDate", ""))),
            transfer_syntax=transfer_syntax,
            part10=part10,
            pixel_data_length=pixel_data_length,
            attributes=_kept(ds),
            dicomdir=is_dicomdir(ds),
        )
        if kind == "image":
            inst.position = _floats(ds.get("ImagePositionPatient"))
            inst.orientation = _floats(ds.get("ImageOrientationPatient"))
            inst.pixel_spacing = _floats(ds.get("PixelSpacing"))
            if "Rows" in ds and "Columns" in ds:
                inst.matrix = (int(ds.Rows), int(ds.Columns))
        else:
            inst.dataset = ds
        return inst


@dataclass
class Unreadable:
    path: Path
    reason: str
    not_dicom: bool = False  # no sign it was meant to be DICOM (a PDF, a log …)


@dataclass
class InstanceIndex:
    instances: list[Instance] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths, recursively, in a stable order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def read_instance(path: Path, max_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
                  ) -> tuple[Instance, Dataset] | Unreadable:
    """One file → its index record and header dataset, or why it is unreadable.
    Whatever a file holds, the answer is one of the two: never an exception."""
    ds = None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read forever
            return Unreadable(path, "not a regular file (FIFO, socket or device): not read")
        ds, structure = read_header(path, max_bytes)
        inst = Instance.from_dataset(path, ds, structure.transfer_syntax, structure.part10,
                                     structure.pixel_data_length)
    except NotDicom as exc:
        return Unreadable(path, str(exc), not_dicom=True)
    except UnreadableFile as exc:
        return Unreadable(path, str(exc))
    except OSError as exc:
        return Unreadable(path, f"cannot be read: {exc.strerror or exc}")
    except RecursionError:
        return Unreadable(path, "sequences nested too deep to decode")
    except Exception as exc:  # a value pydicom cannot convert, on any attribute: say which
        where = ""
        with contextlib.suppress(Exception, RecursionError):
            where = undecodable_element(ds)
        return Unreadable(path, f"cannot be decoded: {where}" if where else
                          f"cannot be decoded: a value does not match its VR "
                          f"({type(exc).__name__})")
    return inst, ds


def known_sop_class(uid: str) -> bool:
    return UID(uid).is_valid and UID(uid).name != uid

"""A DICOM File-set (a DICOMDIR and the files it indexes, as on a CD or a
USB export): what a media reader relies on, checked where a DICOMDIR is
present (PS3.10 8, PS3.3 F.3, PS3.11 General Purpose profiles).

pydicom's FileSet checks the record tree; each referenced file is then
compared with its record (pydicom drops a record whose file is absent, so
the records are walked here), and every DICOM file under the File-set root
is expected to be indexed."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from rtconform.findings import Severity
from rtconform.rules.registry import Issue, rule

FILE_ID_COMPONENT = re.compile(r"^[A-Z0-9_]{1,8}$")  # PS3.10 8.2 (and 8.5: ISO 646 subset)
MAX_DEPTH = 8
LISTED = 10  # names shown in one finding


def _is_dicom(path: Path) -> bool:
    try:
        with path.open("rb") as fp:
            return fp.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def records(path: str) -> tuple[list[tuple[Dataset, Path | None]], str]:
    """(record, file it references) for each directory record with a
    Referenced File ID — None where the ID would leave the File-set — and
    why pydicom cannot read the DICOMDIR as a File-set ("" when it can). The
    File ID is data from the file: a path is built from it only when every
    component is a plain name."""
    from pydicom.fileset import FileSet

    try:
        full = pydicom.dcmread(path, force=True)
    except Exception as exc:  # pydicom raises many kinds on a broken file
        return [], f"its elements cannot be decoded ({type(exc).__name__})"
    problem = offset_problem(full)
    if not problem:
        try:
            with warnings.catch_warnings():  # a missing file is our finding, not a warning
                warnings.simplefilter("ignore")
                FileSet(full)  # the record tree and its offsets are consistent
        except Exception as exc:  # the records are still walked below
            problem = (f"its directory record hierarchy cannot be followed "
                       f"({type(exc).__name__})")
    root = Path(path).parent
    out = []
    for record in full.get("DirectoryRecordSequence", []):
        if "ReferencedFileID" not in record:
            continue
        value = record.ReferencedFileID
        parts = [str(value)] if isinstance(value, str) else [str(v) for v in value]
        safe = parts and all(p and p not in (".", "..") and "/" not in p and "\\" not in p
                             and "\0" not in p for p in parts)
        out.append((record, root.joinpath(*parts) if safe else None))
    return out, problem


_OFFSETS = (
    ("OffsetOfTheNextDirectoryRecord", "(0004,1400)"),
    ("OffsetOfReferencedLowerLevelDirectoryEntity", "(0004,1420)"),
)
_ROOT_OFFSETS = (
    ("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity", "(0004,1200)"),
    ("OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity", "(0004,1202)"),
)


def offset_problem(ds: Dataset) -> str:
    """The first record offset (PS3.3 F.3.2.1) that points where no directory
    record starts, said as what is wrong with the file ("" when none)."""
    try:
        items = list(ds.get("DirectoryRecordSequence", []))
        starts = {getattr(item, "seq_item_tell", None) for item in items}
        checks = [("the DICOMDIR", keyword, tag, ds) for keyword, tag in _ROOT_OFFSETS]
        checks += [(f"directory record {i + 1}", keyword, tag, item)
                   for i, item in enumerate(items) for keyword, tag in _OFFSETS]
        for where, keyword, tag, holder in checks:
            offset = holder.get(keyword)
            if offset is not None and offset != 0 and offset not in starts:
                return (f"{where}: {keyword} {tag} is byte {offset}, where no directory "
                        "record starts")
    except Exception as exc:  # an element that does not decode
        return f"its directory records cannot be decoded ({type(exc).__name__})"
    return ""


@rule("FILESET-DICOMDIR", Severity.ERROR,
      "A DICOMDIR can be read and every file it references exists and matches its record",
      "DICOM PS3.10 8.6 (DICOMDIR); PS3.3 F.3.2.2 (Referenced File ID, Referenced SOP "
      "Class/Instance/Transfer Syntax UID in File)", scope="input", tags=("file-set",))
def dicomdir_references(path: str, ds: Dataset) -> Iterator[Issue]:
    found, why = records(path)
    if why:
        yield Issue(f"the DICOMDIR cannot be read as a File-set: {why}", "DirectoryRecordSequence")
    missing, differ, escaping = [], [], []
    for record, file in found:
        if file is None:
            escaping.append(str(record.ReferencedFileID))
            continue
        if not file.is_file():
            missing.append(str(file.relative_to(Path(path).parent)))
            continue
        try:
            head = pydicom.dcmread(file, stop_before_pixels=True, force=True)
        except Exception as exc:
            differ.append(f"{file.name}: not readable as DICOM ({type(exc).__name__})")
            continue
        meta = getattr(head, "file_meta", Dataset())
        for field, actual in (
                ("ReferencedSOPInstanceUIDInFile", head.get("SOPInstanceUID")),
                ("ReferencedSOPClassUIDInFile", head.get("SOPClassUID")),
                ("ReferencedTransferSyntaxUIDInFile", meta.get("TransferSyntaxUID"))):
            expected = record.get(field)
            if expected is not None and actual is not None and str(expected) != str(actual):
                differ.append(f"{file.name}: {field} {expected} but the file has {actual}")
    if escaping:
        yield Issue(f"{len(escaping)} Referenced File ID(s) are not plain names within the "
                    f"File-set (not followed): {', '.join(escaping[:LISTED])}",
                    "ReferencedFileID")
    if missing:
        yield Issue(f"{len(missing)} referenced file(s) absent: {', '.join(missing[:LISTED])}",
                    "ReferencedFileID")
    if differ:
        yield Issue(f"{len(differ)} file(s) differ from their directory record: "
                    f"{'; '.join(differ[:LISTED])}", "DirectoryRecordSequence")


@rule("FILESET-FILE-ID", Severity.ERROR,
      "Files of a File-set are named as PS3.10 requires: up to 8 components of 1–8 "
      "characters A–Z, 0–9, _",
      "DICOM PS3.10 8.2 (File ID), 8.5 (character set); PS3.11 (media profiles)",
      scope="input", tags=("file-set",))
def file_ids(path: str, ds: Dataset) -> Iterator[Issue]:
    root = Path(path).parent
    bad = []
    for file in sorted(root.rglob("*")):
        if not file.is_file() or (file.name == "DICOMDIR" and file.parent == root):
            continue
        if not _is_dicom(file):
            continue
        parts = file.relative_to(root).parts
        if len(parts) > MAX_DEPTH or not all(FILE_ID_COMPONENT.match(p) for p in parts):
            bad.append("/".join(parts))
    if bad:
        yield Issue(f"{len(bad)} file(s) of the File-set have a File ID a media reader may "
                    f"refuse: {', '.join(bad[:LISTED])}", "ReferencedFileID")


@rule("FILESET-UNREFERENCED", Severity.WARNING,
      "Every DICOM file under a DICOMDIR's folder is indexed by it",
      "DICOM PS3.10 8.6 (the DICOMDIR indexes the File-set); PS3.11 (media profiles)",
      scope="input", tags=("file-set",))
def unreferenced(path: str, ds: Dataset) -> Iterator[Issue]:
    found, _ = records(path)
    root = Path(path).parent.resolve()
    indexed = {file.resolve() for _, file in found if file is not None}
    extra = [str(f.relative_to(root)) for f in sorted(root.rglob("*"))
             if f.is_file() and f.resolve() != Path(path).resolve() and f.resolve() not in indexed
             and _is_dicom(f)]
    if extra:
        yield Issue(f"{len(extra)} DICOM file(s) in the File-set folder are not in the "
                    f"DICOMDIR: {', '.join(extra[:LISTED])}", "DirectoryRecordSequence")

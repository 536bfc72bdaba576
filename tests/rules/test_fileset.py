"""File-sets (a DICOMDIR and its files, PS3.10/PS3.11): a clean one written
by pydicom passes; each defect a media reader meets is named; a Referenced
File ID that would leave the File-set is never followed; the report's media
section shows the checks."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from helpers import rule_ids, tro_findings
from rtconform.report.model import media

FILESET = {"FILESET-DICOMDIR", "FILESET-FILE-ID", "FILESET-UNREFERENCED"}


@pytest.fixture
def file_set(tmp_path, sample_dir) -> Path:
    fs = FileSet()
    for path in sorted(sample_dir.glob("*.dcm")):
        fs.add(pydicom.dcmread(path))
    fs.write(tmp_path / "media")
    return tmp_path / "media"


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("IM*") if p.is_file())


def test_a_clean_file_set_passes(file_set):
    assert not rule_ids(tro_findings(file_set)) & FILESET
    assert len([p for p in file_set.rglob("*") if p.is_file()]) == 65  # 64 and DICOMDIR


@pytest.mark.parametrize(("defect", "expected", "said"), [
    ("missing", "FILESET-DICOMDIR", "referenced file(s) absent"),
    ("other uid", "FILESET-DICOMDIR", "ReferencedSOPInstanceUIDInFile"),
    ("lower-case name", "FILESET-FILE-ID", "extra.dcm"),
    ("unreferenced", "FILESET-UNREFERENCED", "not in the DICOMDIR"),
])
def test_each_defect_is_named(file_set, sample_dir, defect, expected, said):
    image = _images(file_set)[3]
    if defect == "missing":
        image.unlink()
    elif defect == "other uid":
        ds = pydicom.dcmread(image)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
        ds.save_as(image)
    elif defect == "lower-case name":
        (file_set / "extra.dcm").write_bytes((sample_dir / "CT_001.dcm").read_bytes())
    else:
        (file_set / "EXTRA").write_bytes((sample_dir / "CT_001.dcm").read_bytes())
    findings = [f for f in tro_findings(file_set) if f.rule_id in FILESET]
    assert {f.rule_id for f in findings} >= {expected}
    assert any(said in f.message for f in findings if f.rule_id == expected)


def test_a_file_id_leaving_the_file_set_is_not_followed(file_set, tmp_path):
    secret = tmp_path / "outside.dcm"
    secret.write_bytes(b"not for a media reader")
    ds = pydicom.dcmread(file_set / "DICOMDIR")
    record = next(r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r)
    record.ReferencedFileID = ["..", "outside.dcm"]
    ds.save_as(file_set / "DICOMDIR")
    findings = [f for f in tro_findings(file_set) if f.rule_id == "FILESET-DICOMDIR"]
    assert any("not plain names" in f.message for f in findings), findings


def test_report_media_section_shows_the_checks(file_set):
    _images(file_set)[0].unlink()
    section = media({"sut": {"export_dir": str(file_set)}})
    verdicts = {c["rule_id"]: c["verdict"] for c in section["file_set"]}
    assert section["dicomdir"] and verdicts == {"FILESET-DICOMDIR": "error",
                                                "FILESET-FILE-ID": "passed",
                                                "FILESET-UNREFERENCED": "passed"}


def test_a_record_offset_to_nowhere_is_said_not_a_raw_exception(file_set):
    """A DICOMDIR whose next-record offset points where no record starts: the
    finding says which offset and where, never pydicom's "KeyError: 1447"
    (issue 23 item 9)."""
    ds = pydicom.dcmread(file_set / "DICOMDIR")
    ds.DirectoryRecordSequence[0].OffsetOfTheNextDirectoryRecord = 1447  # odd: no record there
    ds.save_as(file_set / "DICOMDIR")
    findings = [f for f in tro_findings(file_set) if f.rule_id == "FILESET-DICOMDIR"]
    messages = " ".join(f.message for f in findings)
    assert "directory record 1: OffsetOfTheNextDirectoryRecord (0004,1400) is byte 1447, " \
           "where no directory record starts" in messages, messages
    assert "KeyError" not in messages

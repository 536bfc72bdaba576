"""Re-export regression on the synthetic patient: the same export twice
passes; content changed under the same UID, an APPROVED plan's study
re-exported with new UIDs, and a missing object are each named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest

from rtconform.cli import main
from rtconform.dicom.uids import DEFAULT_UID_ROOT
from rtconform.phantom.faults import write_sample


@pytest.fixture
def exports(tmp_path) -> tuple[Path, Path]:
    write_sample(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    return tmp_path / "a", tmp_path / "b"


def _run(a: Path, b: Path, out: Path, *extra: str) -> tuple[int, list[dict]]:
    code = main(["diff-export", str(a), str(b), "--json", str(out), *extra])
    return code, json.loads(out.read_text())["findings"]


def test_the_same_export_twice_passes(exports, tmp_path):
    code, findings = _run(*exports, tmp_path / "d.json")
    assert code == 0 and findings == []


def test_changed_content_under_the_same_uid(exports, tmp_path):
    a, b = exports
    plan = pydicom.dcmread(b / "RP_dosimetric.dcm")
    plan.BeamSequence[0].BeamName = "AP-changed"
    plan.InstanceCreationTime = "235959"  # volatile: not reported
    plan.save_as(b / "RP_dosimetric.dcm")
    code, findings = _run(a, b, tmp_path / "d.json")
    (finding,) = findings
    assert code == 1 and finding["rule_id"] == "EXPORT-CONTENT-SAME-UID"
    assert "BeamSequence[0].BeamName" in finding["message"]
    assert "InstanceCreationTime" not in finding["message"]
    code, _ = _run(a, b, tmp_path / "d.json", "--volatile", "BeamName",
                   "--volatile", "InstanceCreationTime")
    assert code == 0


def test_an_approved_plan_keeps_its_uids(tmp_path):
    for name, root in (("a", DEFAULT_UID_ROOT), ("b", "1.2.826.0.1.3680043.8.498.77.")):
        write_sample(tmp_path / name, uid_root=root)
        for path in (tmp_path / name).glob("RP_*.dcm"):
            plan = pydicom.dcmread(path)
            plan.ApprovalStatus = "APPROVED"
            plan.save_as(path)
    code, findings = _run(tmp_path / "a", tmp_path / "b", tmp_path / "d.json")
    approved = [f for f in findings if f["rule_id"] == "EXPORT-APPROVED-UIDS"]
    assert code == 1 and len(approved) == 64  # every object of the study
    assert not [f for f in findings if f["rule_id"] == "EXPORT-OBJECT-MISSING"]


def test_a_missing_object_is_named(exports, tmp_path):
    a, b = exports
    (b / "RD_plan.dcm").unlink()
    code, findings = _run(a, b, tmp_path / "d.json")
    assert code == 1 and [f["rule_id"] for f in findings] == ["EXPORT-OBJECT-MISSING"]


def test_documents_beside_the_export_are_listed_as_validate_lists_them(tmp_path, capsys):
    """The batch exporter's PDF, XML and log: FILE-NOT-DICOM (info, with their
    type), as validate says, never a Python exception; a `.dcm` that is not
    DICOM is an error in both."""
    write_sample(tmp_path / "a", export="patient-tree")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    code, findings = _run(tmp_path / "a", tmp_path / "b", tmp_path / "d.json")
    out = capsys.readouterr().out
    assert code == 0, out
    assert sorted((f["rule_id"], f["severity"], Path(f["file"]).suffix) for f in findings) == \
        [("FILE-NOT-DICOM", "info", s) for s in (".log", ".log", ".pdf", ".pdf", ".xml", ".xml")]
    assert "Error" not in out and "object has no attribute" not in out
    assert "PDF document" in out
    main(["validate", str(tmp_path / "b"), "--engines", "tro", "--json",
          str(tmp_path / "v.json"), "-q"])
    validated = {(f["rule_id"], f["message"]) for f in json.loads(
        (tmp_path / "v.json").read_text())["findings"] if f["rule_id"] == "FILE-NOT-DICOM"}
    assert validated == {(f["rule_id"], f["message"]) for f in findings
                         if f["file"].startswith(str(tmp_path / "b"))}
    (tmp_path / "b" / "notes.dcm").write_text("not DICOM at all")
    code, findings = _run(tmp_path / "a", tmp_path / "b", tmp_path / "e.json")
    assert code == 1 and [f["rule_id"] for f in findings
                          if f["file"].endswith("notes.dcm")] == ["FILE-UNREADABLE"]

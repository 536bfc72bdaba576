"""The synthetic patient as the two exporters a release pipeline gates write
it (`rtconform sample --export`): a planning system's flat export with beam
doses, a bolus and a density override, and a batch exporter's patient tree
with its documents; approved and unapproved plans through diff-export; each
export fault caught by its rule. Every command runs as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from helpers import require_program

UID_ROOT_2 = "1.2.826.0.1.3680043.10.544."


def rtconform(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtconform", *args], capture_output=True,
                          text=True, timeout=300)


def sample(folder: Path, *args: str) -> Path:
    proc = rtconform("sample", str(folder), *args)
    assert proc.returncode == 0, proc.stderr
    return folder


def errors(folder: Path, tmp_path: Path, *args: str) -> tuple[int, dict[str, int]]:
    out = tmp_path / f"{folder.name}.json"
    proc = rtconform("validate", str(folder), "--complete", "--json", str(out), *args)
    assert proc.returncode in (0, 1), proc.stderr
    counts: dict[str, int] = {}
    for f in json.loads(out.read_text())["findings"]:
        if f["severity"] == "error":
            counts[f["rule_id"]] = counts.get(f["rule_id"], 0) + 1
    return proc.returncode, counts


def test_planning_system_export_is_clean_and_has_what_a_clinical_export_has(tmp_path):
    require_program("dciodvfy", "dicom3tools")
    export = sample(tmp_path / "tps", "--export", "planning-system")
    assert errors(export, tmp_path, "--engines", "tro,dciodvfy") == (0, {})
    doses = [pydicom.dcmread(p, stop_before_pixels=True) for p in export.glob("RD_*.dcm")]
    assert sorted(str(d.DoseSummationType) for d in doses) == ["BEAM"] * 4 + ["PLAN"]
    ss = pydicom.dcmread(export / "RS_structure_set.dcm")
    (bolus,) = [o for o in ss.RTROIObservationsSequence if o.RTROIInterpretedType == "BOLUS"]
    assert bolus.ROIPhysicalPropertiesSequence[0].ROIPhysicalProperty == "REL_ELEC_DENSITY"
    plan = pydicom.dcmread(export / "RP_dosimetric.dcm")
    assert plan.BeamSequence[0].ReferencedBolusSequence[0].ReferencedROINumber == \
        bolus.ReferencedROINumber


@pytest.mark.parametrize("fault, rule_id", [
    ("bolus-not-bolus", "PLAN-BOLUS-REF"),
    ("override-without-value", "SS-ROI-PHYSICAL-PROPERTIES"),
    ("beam-dose-sum-off", "DOSE-BEAM-SUM"),
    ("beam-dose-missing", "DOSE-BEAM-SUM"),
])
def test_each_export_fault_is_caught_by_its_rule(tmp_path, fault, rule_id):
    export = sample(tmp_path / "tps", "--export", "planning-system", "--fault", fault)
    code, found = errors(export, tmp_path, "--engines", "tro")
    assert code == 1 and set(found) == {rule_id}, found


def test_patient_tree_export_passes_its_layout_and_a_misplaced_file_is_named(tmp_path):
    tree = sample(tmp_path / "tree", "--export", "patient-tree")
    (patient,) = [p for p in tree.iterdir() if p.is_dir()]
    assert patient.name == "RTCONFORM_Phantom_RTC-PHANTOM-0001"
    assert {p.name for p in patient.rglob("*") if p.is_dir()} >= \
        {"DICOM", "Documents", "Logs", "Plan_Files"}
    out = tmp_path / "tree.json"
    proc = rtconform("validate", str(tree), "--complete", "--engines", "tro", "--layout",
                     "patient-tree", "--json", str(out))
    assert proc.returncode == 0, proc.stdout
    listed = [f for f in json.loads(out.read_text())["findings"]]
    assert sorted(Path(f["file"]).suffix for f in listed) == [".log", ".pdf", ".xml"]
    assert {f["rule_id"] for f in listed} == {"FILE-NOT-DICOM"}

    other = tree / "DOE_Jane_MRN-2" / "DICOM"
    other.mkdir(parents=True)
    shutil.move(str(patient / "DICOM" / "CT_030.dcm"), other)
    code, found = errors(tree, tmp_path, "--engines", "tro", "--layout", "patient-tree")
    assert code == 1 and found.get("LAYOUT-PATIENT-FOLDER") == 1, found


def test_approved_and_unapproved_re_exports(tmp_path):
    """An APPROVED plan's re-export keeps every UID; new UIDs for the same
    content of an UNAPPROVED plan are allowed; changed content under an
    unchanged UID never is."""
    first = sample(tmp_path / "a1", "--export", "planning-system", "--approved")
    plan = pydicom.dcmread(first / "RP_dosimetric.dcm", stop_before_pixels=True)
    assert plan.ApprovalStatus == "APPROVED" and plan.ReviewerName and plan.ReviewDate
    again = sample(tmp_path / "a2", "--export", "planning-system", "--approved")
    assert rtconform("diff-export", str(first), str(again)).returncode == 0
    renamed = sample(tmp_path / "a3", "--export", "planning-system", "--approved",
                     "--uid-root", UID_ROOT_2)
    proc = rtconform("diff-export", str(first), str(renamed), "--json", str(tmp_path / "d.json"))
    found = json.loads((tmp_path / "d.json").read_text())["findings"]
    assert proc.returncode == 1
    assert {f["rule_id"] for f in found if f["severity"] == "error"} == {"EXPORT-APPROVED-UIDS"}

    draft = sample(tmp_path / "u1", "--export", "planning-system")
    redrafted = sample(tmp_path / "u2", "--export", "planning-system", "--uid-root", UID_ROOT_2)
    assert rtconform("diff-export", str(draft), str(redrafted)).returncode == 0
    changed = sample(tmp_path / "u3", "--export", "planning-system", "--fault",
                     "beam-dose-sum-off")
    proc = rtconform("diff-export", str(draft), str(changed))
    assert proc.returncode == 1 and "EXPORT-CONTENT-SAME-UID" in proc.stdout


def test_usage_errors(tmp_path):
    proc = rtconform("sample", str(tmp_path / "x"), "--approved")
    assert proc.returncode == 2 and "--export" in proc.stderr
    proc = rtconform("sample", str(tmp_path / "x"), "--export", "patient-tree", "--fault",
                     "beam-dose-missing")
    assert proc.returncode == 2 and "planning-system" in proc.stderr

"""Export trees (`validate --layout`): the batch patient exporter's tree
built from the synthetic patient passes, documents beside it included; an
object in another patient's folder, a plan outside its plan folder, a PDF in
a DICOM folder, an empty folder and an unsafe name are each named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest

from rtconform.cli import main

PATIENT = "RTCONFORM_Phantom_RTC-PHANTOM-0001"  # {family}_{given}_{PatientID}


@pytest.fixture
def tree(tmp_path, sample_dir) -> Path:
    root = tmp_path / "export"
    patient = root / PATIENT
    (patient / "DICOM").mkdir(parents=True)
    plan = patient / "Plan_1"
    for folder in ("DICOM", "Documents", "Logs", "Plan_Files"):
        (plan / folder).mkdir(parents=True)
    for path in sample_dir.glob("*.dcm"):
        target = plan / "DICOM" if path.name.startswith(("RP_", "RD_")) else patient / "DICOM"
        shutil.copy(path, target / path.name)
    (plan / "Documents" / "report.pdf").write_bytes(b"%PDF-1.7\n")
    (plan / "Logs" / "treatment.log").write_text("fraction 1 delivered\n")
    (plan / "Plan_Files" / "plan.xml").write_text("<?xml version='1.0'?><plan/>")
    return root


def _layout_findings(tree: Path, tmp_path: Path) -> tuple[int, dict[str, list[str]]]:
    out = tmp_path / "o.json"
    code = main(["validate", str(tree), "--engines", "tro", "--layout", "patient-tree",
                 "--json", str(out)])
    found: dict[str, list[str]] = {}
    for f in json.loads(out.read_text())["findings"]:
        if f["rule_id"].startswith("LAYOUT-"):
            found.setdefault(f["rule_id"], []).append(Path(f["file"]).name)
    return code, found


def test_the_exporter_tree_passes(tree, tmp_path):
    assert _layout_findings(tree, tmp_path) == (0, {})


def test_each_misplacement_is_named(tree, tmp_path):
    patient = tree / PATIENT
    other = tree / "DOE_Jane_MRN-2"
    (other / "DICOM").mkdir(parents=True)
    shutil.move(str(patient / "DICOM" / "CT_001.dcm"), other / "DICOM" / "CT_001.dcm")
    shutil.move(str(patient / "Plan_1" / "DICOM" / "RD_plan.dcm"), patient / "DICOM")
    (patient / "Plan_1" / "DICOM" / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    (patient / "Plan_1" / "Screenshots").mkdir()
    (patient / "Plan_1" / "Logs" / "run:1.log").write_text("x")
    code, found = _layout_findings(tree, tmp_path)
    assert code == 1
    assert found == {"LAYOUT-PATIENT-FOLDER": ["CT_001.dcm"], "LAYOUT-PLAN-FOLDER":
                     ["RD_plan.dcm"], "LAYOUT-DICOM-EXPECTED": ["scan.pdf"],
                     "LAYOUT-EMPTY-FOLDER": ["Screenshots"],
                     "LAYOUT-UNSAFE-NAME": ["run:1.log"]}, found
    ds = pydicom.dcmread(other / "DICOM" / "CT_001.dcm")
    assert str(ds.PatientID) == "RTC-PHANTOM-0001"  # the test data says what the rule says


def test_a_layout_file(tree, tmp_path):
    layout = tmp_path / "layout.yaml"
    layout.write_text("name: by ID\npatient_folder: '{PatientID}'\ndicom_folders: ['**']\n")
    out = tmp_path / "o.json"
    main(["validate", str(tree), "--engines", "tro", "--layout", str(layout), "--json",
          str(out)])
    rules = {f["rule_id"] for f in json.loads(out.read_text())["findings"]}
    assert "LAYOUT-PATIENT-FOLDER" in rules  # the folder is not named by the ID alone
    layout.write_text("name: x\npatient_folderr: '{PatientID}'\n")
    assert main(["validate", str(tree), "--layout", str(layout)]) == 2

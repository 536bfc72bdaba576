"""Export layouts as `rtconform.layout` checks them, without the command:
each LAYOUT-* finding on a small tree whose headers are given as the
validation pass hands them over (tests/validate/test_layout.py runs the command on an
exporter's real tree)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from rtconform.layout import BUILT_IN, LayoutError, check_tree, expected_folder, load_layout

PATIENT_TREE = BUILT_IN["patient-tree"]


def header(modality: str, uid: str, name: str = "Doe^Jane", patient_id: str = "MRN1") -> Dataset:
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.Modality, ds.SOPInstanceUID = name, patient_id, modality, uid
    return ds


def tree(root: Path, files: dict[str, Dataset | None]) -> dict[Path, object]:
    """Write the files (a header: DICOM, None: a document) and return the
    headers by path, as `read_dicom_headers` would."""
    dicom = {}
    for relative, ds in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        if ds is not None:
            dicom[path] = ds
    return dicom


def found(findings) -> set[tuple[str, str]]:
    return {(f.rule_id, Path(f.file).name) for f in findings}


def test_the_patient_folder_is_named_from_the_patient() -> None:
    assert expected_folder(PATIENT_TREE.patient_folder, header("CT", "1")) == "Doe_Jane_MRN1"
    assert expected_folder("{PatientID}-{Modality}", header("CT", "1")) == "MRN1-CT"
    no_name = Dataset()
    assert expected_folder(PATIENT_TREE.patient_folder, no_name) == "__"


def test_a_tree_as_the_exporter_writes_it_passes(tmp_path: Path) -> None:
    dicom = tree(tmp_path, {
        "Doe_Jane_MRN1/DICOM/CT_1.dcm": header("CT", "1.1"),
        "Doe_Jane_MRN1/Plan A/DICOM/RP.dcm": header("RTPLAN", "1.2"),
        "Doe_Jane_MRN1/Plan A/Documents/summary.pdf": None,
    })
    assert check_tree(tmp_path, PATIENT_TREE, dicom) == []


def test_each_misplacement_is_a_finding(tmp_path: Path) -> None:
    dicom = tree(tmp_path, {
        "Doe_Jane_MRN1/DICOM/CT_1.dcm": header("CT", "1.1"),
        "Doe_Jane_MRN1/DICOM/notes.txt": None,  # not DICOM in a DICOM folder
        "Doe_Jane_MRN1/DICOM/RD.dcm": header("RTDOSE", "1.3"),  # a plan object, not in a plan
        "Doe_Jane_MRN1/DICOM/CT_other.dcm": header("CT", "1.4", name="Roe^Rick"),
        "Doe_Jane_MRN1/Misc/CT_2.dcm": header("CT", "1.5"),  # no DICOM folder of the layout
        "stray.dcm": header("CT", "1.6"),  # outside every patient folder
    })
    (tmp_path / "Doe_Jane_MRN1" / "Empty").mkdir()
    assert found(check_tree(tmp_path, PATIENT_TREE, dicom)) == {
        ("LAYOUT-DICOM-EXPECTED", "notes.txt"),
        ("LAYOUT-PLAN-FOLDER", "RD.dcm"),
        ("LAYOUT-PATIENT-FOLDER", "CT_other.dcm"),
        ("LAYOUT-DICOM-PLACE", "CT_2.dcm"),
        ("LAYOUT-ORPHAN", "stray.dcm"),
        ("LAYOUT-EMPTY-FOLDER", "Empty"),
    }


@pytest.mark.parametrize(("name", "why"), [
    ("CON.dcm", "a reserved device name"),
    ("plan?.dcm", "a character Windows refuses"),
    ("trailing. ", "a trailing space or dot"),
])
def test_names_unsafe_on_common_file_systems(tmp_path: Path, name: str, why: str) -> None:
    dicom = tree(tmp_path, {name: None})
    [finding] = check_tree(tmp_path, BUILT_IN["flat"], dicom)
    assert finding.rule_id == "LAYOUT-UNSAFE-NAME" and why in finding.message


def test_a_layout_file_is_checked_and_located(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: by id\npatient_folder: '{PatientID}'\ndicom_folders: [DICOM]\n")
    layout = load_layout(str(good))
    assert (layout.patient_folder, layout.dicom_folders, layout.plan_dicom_folder) == (
        "{PatientID}", ["DICOM"], "*/DICOM")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\npatient_folder: '{PatientID}'\ndicom_folder: [DICOM]\n")
    with pytest.raises(LayoutError, match=r"bad.yaml:3: .*did you mean 'dicom_folders'\?"):
        load_layout(str(bad))
    assert load_layout("flat").patient_folder is None

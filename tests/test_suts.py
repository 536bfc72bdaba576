"""The SUT drivers: real open-source RT tools made TRO actors
(rtconform.suts), and what rtconform had to learn from them."""

from __future__ import annotations

from pathlib import Path

import pydicom

from helpers import rule_ids, tro_findings


def _sample(folder: Path) -> Path:
    from rtconform.dicom.sample import build_sample

    build_sample().write(folder)
    return folder


def test_an_empty_birth_date_is_unknown_not_another_patient(tmp_path):
    """plastimatch 1.9.4 writes its RT Structure Set with Patient Birth Date
    and Patient Sex empty (Type 2: unknown, PS3.5 7.4.3) over a CT that has
    them: information lost (a warning), not a second patient in the study
    (the error rtconform raised before). Another value stays an error."""
    folder = _sample(tmp_path / "p")
    ss = folder / "RS_structure_set.dcm"
    ds = pydicom.dcmread(ss)
    ds.PatientBirthDate, ds.PatientSex = "", ""
    ds.save_as(ss)
    findings = [f for f in tro_findings(folder) if f.rule_id == "REF-PATIENT-IDENTITY"]
    assert {(f.severity, f.tag_path) for f in findings} == {
        ("warning", "PatientBirthDate"), ("warning", "PatientSex")}
    assert all("empty (unknown)" in f.message for f in findings)
    ds.PatientBirthDate = "19800101"
    ds.save_as(ss)
    assert "REF-PATIENT-IDENTITY" in rule_ids(tro_findings(folder), ("error",))

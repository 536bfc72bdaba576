"""The BRTO profile: clean stimulus sets, comparisons with what the actor was
given (--given), the rules no fault can prove, and the IHE-RO reference data."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys

import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from helpers import rule_ids, tro_findings
from rtconform.findings import Severity
from rtconform.phantom.faults import write_sample
from rtconform.phantom.sets import SAMPLE_SETS
from rtconform.rules.registry import RuleContext
from rtconform.validate import ValidationOptions, validate_paths


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtconform", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("sample_set", sorted(SAMPLE_SETS))
def test_every_stimulus_set_is_clean_under_brto(sample_set, tmp_path, dciodvfy):
    paths = write_sample(tmp_path, sample_set=sample_set)
    findings = tro_findings(tmp_path, profile="brto", complete=True)
    expected = {("CT-SERIES-SPACING", Severity.WARNING)} if sample_set == "uneven" else set()
    assert {(f.rule_id, f.severity) for f in findings} == expected
    proc = _cli("validate", str(tmp_path), "--profile", "brto", "--complete",
                "--engines", "tro,dciodvfy", "--json", str(tmp_path / "out.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["counts"]["error"] == 0 and report["files"] == len(paths)


def test_stimulus_sets_have_their_shape(tmp_path):
    def series(folder):
        out = {}
        for p in folder.glob("CT*.dcm"):
            ds = pydicom.dcmread(p, stop_before_pixels=True)
            out.setdefault(str(ds.SeriesInstanceUID), []).append(float(ds.ImagePositionPatient[2]))
        return {uid: sorted(z) for uid, z in out.items()}

    write_sample(tmp_path / "multi", sample_set="multi-series")
    multi = series(tmp_path / "multi")
    assert len(multi) == 3
    full = max(multi.values(), key=len)
    a, b = sorted((z for z in multi.values() if z is not full), key=lambda z: z[0])
    assert sorted(set(a) | set(b)) == full and len(set(a) & set(b)) == 3
    write_sample(tmp_path / "uneven", sample_set="uneven")
    (z,) = series(tmp_path / "uneven").values()
    assert {round(b - a, 3) for a, b in itertools.pairwise(z)} == {5.0, 7.0}
    write_sample(tmp_path / "limited", sample_set="limited")
    ss = pydicom.dcmread(tmp_path / "limited" / "RS_structure_set.dcm")
    assert "StudyDescription" not in ss and "ROIDisplayColor" not in ss.ROIContourSequence[0]


def test_a_clean_sample_carries_only_a_plan_dose_and_beam_doses_on_request(tmp_path):
    write_sample(tmp_path / "a")
    write_sample(tmp_path / "b", beam_doses=True)
    assert [p.name for p in (tmp_path / "a").glob("RD_*")] == ["RD_plan.dcm"]
    assert len(list((tmp_path / "b").glob("RD_beam_*.dcm"))) == 4
    assert tro_findings(tmp_path / "b") == []  # legal DICOM …
    assert rule_ids(tro_findings(tmp_path / "b", profile="brto")) == {"BRTO-DOSE-SUMMATION"}


# -- what the actor was given --------------------------------------------------------------
def _stimulus_and_output(tmp_path, produced: str, change):
    given, out = tmp_path / "given", tmp_path / "out"
    write_sample(given)
    out.mkdir()
    ds = pydicom.dcmread(given / produced)
    change(ds)
    ds.save_as(out / produced)
    (given / produced).unlink()  # the actor was given everything but what it produced
    return given, out


def test_a_producer_that_reuses_an_input_uid_is_caught_only_with_the_input(tmp_path):
    given, out = tmp_path / "given", tmp_path / "out"
    write_sample(given)
    out.mkdir()
    ss = pydicom.dcmread(given / "RS_structure_set.dcm")
    ss.StructureSetLabel = "edited"  # an edited structure set with the old UID (C3)
    ss.save_as(out / "RS_structure_set.dcm")
    findings = tro_findings(out, profile="brto", given=(given,))
    assert "BRTO-NEW-SOP-INSTANCE" in rule_ids(findings)
    assert all(f.file.startswith(str(out)) or not f.file for f in findings)
    # the same output without its input: nothing to compare with, no false alarm
    alone = tro_findings(out, profile="brto")
    assert "BRTO-NEW-SOP-INSTANCE" not in rule_ids(alone)


def test_a_resampled_series_must_not_keep_the_input_series_uid(tmp_path):
    given, out = tmp_path / "given", tmp_path / "out"
    write_sample(given)
    out.mkdir()
    for k, path in enumerate(sorted(given.glob("CT_0[0-2]*.dcm"))):
        ds = pydicom.dcmread(path)
        uid = f"1.2.826.0.1.3680043.8.498.77.{k + 1}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.save_as(out / f"resampled_{k}.dcm")
    findings = [f for f in tro_findings(out, profile="brto", given=(given,))
                if f.rule_id == "BRTO-NEW-SOP-INSTANCE"]
    assert len(findings) == 1 and findings[0].tag_path == "SeriesInstanceUID"


def test_copied_attributes_are_compared_with_the_input(tmp_path):
    given, out = _stimulus_and_output(
        tmp_path, "RP_geometric.dcm",
        lambda ds: (setattr(ds, "PatientID", "OTHER"), setattr(ds, "PatientBirthDate", "")))
    findings = [f for f in tro_findings(out, profile="brto", given=(given,))
                if f.rule_id == "BRTO-COPIED-ATTRIBUTES"]
    by_tag = {f.tag_path: f.severity for f in findings}
    assert by_tag == {"PatientID": Severity.ERROR, "PatientBirthDate": Severity.WARNING}
    assert "the input the actor was given" in findings[0].message


def test_a_structure_set_may_start_a_new_study_but_a_plan_may_not(tmp_path):
    new_study = "1.2.826.0.1.3680043.8.498.4242"
    given, out = _stimulus_and_output(
        tmp_path, "RS_structure_set.dcm", lambda ds: setattr(ds, "StudyInstanceUID", new_study))
    assert "BRTO-COPIED-ATTRIBUTES" not in rule_ids(tro_findings(out, profile="brto",
                                                                 given=(given,)))
    given, out = _stimulus_and_output(
        tmp_path / "plan", "RP_geometric.dcm",
        lambda ds: setattr(ds, "StudyInstanceUID", new_study))
    assert "BRTO-COPIED-ATTRIBUTES" in rule_ids(tro_findings(out, profile="brto",
                                                             given=(given,)))


def test_given_on_the_command_line(tmp_path):
    given, out = _stimulus_and_output(tmp_path, "RP_geometric.dcm",
                                      lambda ds: setattr(ds, "PatientSex", "F"))
    proc = _cli("validate", str(out), "--profile", "brto", "--given", str(given),
                "--engines", "tro", "--json", str(tmp_path / "f.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    findings = json.loads((tmp_path / "f.json").read_text())["findings"]
    assert {(f["rule_id"], f["tag_path"]) for f in findings} == {
        ("BRTO-COPIED-ATTRIBUTES", "PatientSex"), ("REF-PATIENT-IDENTITY", "PatientSex")}
    assert all(f["file"].startswith(str(out)) for f in findings)  # the input is not judged


# -- rules no fault can prove --------------------------------------------------------------
def test_optional_attributes_are_logged_only_when_asked(sample_dir):
    quiet = validate_paths([sample_dir], ValidationOptions(profile="brto"))
    assert not [f for f in quiet.findings if f.rule_id == "BRTO-OPTIONAL-ATTRIBUTES"]
    logged = validate_paths([sample_dir], ValidationOptions(
        profile="brto", rule_tags=frozenset({"log"}), context=RuleContext()))
    notes = {f.file.rsplit("/", 1)[-1]: f for f in logged.findings
             if f.rule_id == "BRTO-OPTIONAL-ATTRIBUTES"}
    assert all(f.severity is Severity.INFO for f in notes.values())
    assert "BeamSequence[].TreatmentMachineName 4/4" in notes["RP_geometric.dcm"].message
    assert "InstanceCreatorUID absent" in notes["RD_plan.dcm"].message
    assert logged.exit_code == 0


def test_contour_data_beyond_explicit_vr_is_caught(tmp_path):
    write_sample(tmp_path)
    path = tmp_path / "RS_structure_set.dcm"
    ds = pydicom.dcmread(path)
    contour = ds.ROIContourSequence[0].ContourSequence[10]
    z = contour.ContourData[2]
    points = 3000  # 3000 × 3 values of up to 10 characters: > 65,534 bytes
    contour.ContourData = [v for i in range(points)
                           for v in (f"{-100 + i * 0.0667:.4f}", f"{-50.123456:.6f}", str(z))]
    contour.NumberOfContourPoints = points
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian  # the only encoding that holds it
    ds.save_as(path, enforce_file_format=True)
    findings = [f for f in tro_findings(tmp_path, profile="brto")
                if f.rule_id == "BRTO-SS-CONTOUR-DATA-LENGTH"]
    assert len(findings) == 1
    assert findings[0].tag_path == "ROIContourSequence[0].ContourSequence[10].ContourData"


def test_split_beam_dose_is_legal_dicom(tmp_path):
    """Brainlab RT Elements note 23: a BEAM dose may reference more than one beam."""
    write_sample(tmp_path, beam_doses=True)
    path = tmp_path / "RD_beam_1.dcm"
    ds = pydicom.dcmread(path)
    beams = ds.ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence[0]
    second = pydicom.Dataset()
    second.ReferencedBeamNumber = 2
    beams.ReferencedBeamSequence.append(second)
    ds.save_as(path)
    assert tro_findings(tmp_path) == []
    beams.ReferencedBeamSequence[1].ReferencedBeamNumber = 9
    ds.save_as(path)
    assert rule_ids(tro_findings(tmp_path)) == {"DOSE-BEAM-REF"}


# -- data we did not write -----------------------------------------------------------------
def test_ihe_ro_reference_data_under_brto(reference_dir):
    """IHE-RO's own patient: under BRTO only its documented true defects —
    UIDs with root 3 (Context Group Extension Creator UID) and the uneven
    5/7 mm CT spacing, which the checklist's reference data has by design."""
    findings = tro_findings(reference_dir, profile="brto")
    assert {(f.rule_id, f.severity) for f in findings} == {
        ("UID-VALID", Severity.ERROR), ("CT-SERIES-SPACING", Severity.WARNING)}
    assert all("ContextGroupExtensionCreatorUID" in f.tag_path
               for f in findings if f.rule_id == "UID-VALID")


def test_ihe_ro_reference_plan_and_dose_compared_with_their_input(reference_dir, tmp_path):
    """As a Dosimetric Planner given CT, structure set and geometric plan (DP1):
    IHE-RO's own dosimetric plan and dose copy every attribute and keep the beams."""
    given = tmp_path / "given"
    given.mkdir()
    for path in reference_dir.iterdir():
        if path.name.startswith(("CT1_", "RTStructureSet", "RTPlanGeometric")):
            shutil.copy(path, given / path.name)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("RTPlanDosimetric.dcm", "RT-Dose.dcm"):
        shutil.copy(reference_dir / name, out / name)
    findings = tro_findings(out, profile="brto", given=(given,))
    assert [f for f in findings if f.rule_id.startswith("BRTO-")] == []


def _dosimetric_plan_edited(tmp_path, edit):
    write_sample(tmp_path)
    path = tmp_path / "RP_dosimetric.dcm"
    ds = pydicom.dcmread(path)
    edit(ds)
    ds.save_as(path)
    return {profile: [(f.rule_id, f.severity, f.tag_path)
                      for f in tro_findings(tmp_path, profile=profile, complete=True)]
            for profile in ("dicom-rt", "brto")}


def _boost_group_and_imaging_beams(ds):
    """A boost plan's second fraction group, beam 1 a SETUP field and beam 2 a
    CBCT, both without Beam Meterset: legal DICOM (C.8.8.13: Type 3; one or
    more fraction groups)."""
    import copy

    ds.FractionGroupSequence.append(copy.deepcopy(ds.FractionGroupSequence[0]))
    ds.FractionGroupSequence[1].FractionGroupNumber = 2
    ds.BeamSequence[0].TreatmentDeliveryType = "SETUP"
    ds.BeamSequence[1].BeamDescription = "kV CBCT"
    for group in ds.FractionGroupSequence:
        for ref in group.ReferencedBeamSequence[:2]:
            del ref.BeamMeterset


def test_legal_dicom_plan_content_is_judged_by_brto_alone_and_once(tmp_path):
    """Two fraction groups and setup/imaging beams without metersets: nothing
    in the default profile; under brto the one-fraction-group row once
    (BRTO-RO4-16), and no meterset demanded of the SETUP and CBCT beams."""
    found = _dosimetric_plan_edited(tmp_path, _boost_group_and_imaging_beams)
    assert found["dicom-rt"] == []
    assert found["brto"] == [("BRTO-PLAN-FRACTION-GROUP", Severity.ERROR,
                              "FractionGroupSequence")]


def test_a_treatment_beam_without_meterset_fails_brto_only(tmp_path):
    def edit(ds):
        del ds.FractionGroupSequence[0].ReferencedBeamSequence[2].BeamMeterset

    found = _dosimetric_plan_edited(tmp_path, edit)
    assert found["dicom-rt"] == []
    assert found["brto"] == [("BRTO-DOSIMETRIC-PLAN", Severity.ERROR,
                              "FractionGroupSequence[0].ReferencedBeamSequence[2].BeamMeterset")]

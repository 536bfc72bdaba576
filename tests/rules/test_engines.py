"""Standard engines, run for real: dciodvfy (dicom3tools) and dicom-validator on
a local DocBook excerpt of the standard."""

from __future__ import annotations

import shutil

import pydicom
import pytest

from mini_standard import write_mini_standard
from rtconform.engines.dciodvfy import Dciodvfy, parse, tag_path
from rtconform.engines.dicom_validator import DicomValidator
from rtconform.findings import Severity
from rtconform.phantom.faults import write_sample
from rtconform.validate import ValidationOptions, validate_paths

# Lines as dciodvfy 2022 prints them (IHE-RO reference data, pydicom rtstruct).
DCIODVFY_OUTPUT = """\
Warning - </FileMetaInformationVersion(0002,0001)> - Bad FileMetaInformationVersion Attribute
Error - </ReferringPhysicianIdentificationSequence(0008,0096)[1]/\
PersonIdentificationCodeSequence(0040,1101)[1]/\
ContextGroupExtensionCreatorUID(0008,010d)> - Illegal root for UID = <3.26.1>
RTDose
Error - </SliceThickness(0018,0050)[1]> - Value is zero
Error - Missing attribute Type 1 Required Element=<ContourImageSequence> Module=<StructureSet>
"""


def test_dciodvfy_output_becomes_findings_with_tag_paths():
    findings = parse(DCIODVFY_OUTPUT, "f.dcm", "1.2.3")
    assert [(f.severity, f.tag_path) for f in findings] == [
        (Severity.WARNING, "FileMetaInformationVersion"),
        (Severity.ERROR, "ReferringPhysicianIdentificationSequence[0]."
                         "PersonIdentificationCodeSequence[0].ContextGroupExtensionCreatorUID"),
        (Severity.ERROR, "SliceThickness"),
        (Severity.ERROR, "ContourImageSequence"),
    ]
    assert findings[1].message == "Illegal root for UID = <3.26.1>"
    assert all(f.engine == "dciodvfy" and f.file == "f.dcm" for f in findings)


def test_tag_path_translation():
    assert tag_path("/A(0001,0001)[2]/B(0001,0002)[1]/C(0001,0003)") == "A[1].B[0].C"


def test_dciodvfy_finds_a_missing_type1_attribute(tmp_path, dciodvfy):
    write_sample(tmp_path, "missing-type1")
    findings = Dciodvfy().check_file(tmp_path / "RS_structure_set.dcm", "x")
    assert any(f.severity is Severity.ERROR and f.tag_path == "StructureSetLabel"
               for f in findings), findings


def test_missing_dciodvfy_is_said_once(monkeypatch, sample_dir):
    from rtconform.validate import ValidationOptions, validate_paths

    monkeypatch.setenv("PATH", "/nonexistent")
    engine = Dciodvfy()
    assert "dicom3tools" in engine.unavailable_reason()
    result = validate_paths([sample_dir], ValidationOptions(engines=[engine]))
    assert list(result.engine_notes) == ["dciodvfy"]  # said once, for the whole run
    assert result.files == 64 and not [f for f in result.findings if f.engine == "dciodvfy"]


@pytest.fixture
def mini_standard(tmp_path):
    return write_mini_standard(tmp_path / "standard")


def test_dicom_validator_on_local_standard(sample_dir, mini_standard, tmp_path):
    engine = DicomValidator(mini_standard)
    assert engine.unavailable_reason() is None
    assert engine.check_file(sample_dir / "RS_structure_set.dcm", "x") == []
    (unknown,) = engine.check_file(sample_dir / "CT_001.dcm", "x")
    assert unknown.rule_id == "DV-UNKNOWN-SOP-CLASS" and unknown.severity is Severity.INFO
    # JSON digest was cached beside the DocBook, as dicom-validator does
    assert (mini_standard / "2025b" / "json" / "iod_info.json").is_file()

    ds = pydicom.dcmread(sample_dir / "RS_structure_set.dcm")
    del ds.StructureSetLabel
    ds.ROIContourSequence[0].ContourSequence[0].ContourGeometricType = "CURVE"
    ds.PatientWeight = "70"
    bad = tmp_path / "bad.dcm"
    ds.save_as(bad)
    found = {(f.rule_id, f.severity, f.tag_path) for f in engine.check_file(bad, "x")}
    assert found == {
        ("DV-TAGMISSING", Severity.ERROR, "StructureSetLabel"),
        ("DV-ENUMVALUENOTALLOWED", Severity.ERROR,
         "ROIContourSequence.ContourSequence.ContourGeometricType"),
        ("DV-TAGUNEXPECTED", Severity.WARNING, "PatientWeight"),
    }


def test_dicom_validator_without_a_standard_says_so_and_others_run(tmp_path):
    engine = DicomValidator(tmp_path / "empty")
    reason = engine.unavailable_reason()
    assert "no DICOM standard" in reason and "--standard-path" in reason
    write_sample(tmp_path / "p", "contour-off-plane")
    result = validate_paths([tmp_path / "p"], ValidationOptions(engines=[engine]))
    assert result.engine_notes == {"dicom-validator": reason}
    assert {f.rule_id for f in result.findings} == {"SS-CONTOUR-ON-PLANE"}


def test_broken_standard_is_reported_not_raised(tmp_path):
    root = write_mini_standard(tmp_path / "standard")
    (root / "2025b" / "docbook" / "part03.xml").write_text("<book>")
    reason = DicomValidator(root).unavailable_reason()
    assert reason and "cannot read the DICOM standard" in reason


def test_standard_folder_is_not_modified_beyond_its_json_cache(tmp_path, mini_standard):
    def snapshot():
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
                for p in (mini_standard / "2025b" / "docbook").iterdir()}

    before = snapshot()
    DicomValidator(mini_standard).unavailable_reason()
    assert snapshot() == before  # names, bytes and times
    part = mini_standard / "2025b" / "docbook" / "part03.xml"  # control: a change is seen
    original = part.read_bytes()
    part.write_bytes(original + b" ")
    assert snapshot() != before
    part.write_bytes(original)
    shutil.rmtree(mini_standard / "2025b" / "json")
    assert DicomValidator(mini_standard).unavailable_reason() is None  # rebuilt


def test_a_crashing_dciodvfy_is_said_per_file(tmp_path, sample_dir):
    """An engine that dies (dciodvfy aborts on some 32-bit doses) is an
    ENGINE-FAILED finding on that file, never 'checked, no finding'."""
    stand_in = tmp_path / "dciodvfy"
    stand_in.write_text("#!/bin/sh\nkill -ABRT $$\n")
    stand_in.chmod(0o755)
    (finding,) = Dciodvfy(str(stand_in)).check_file(sample_dir / "RD_plan.dcm", "1.2.3")
    assert finding.rule_id == "ENGINE-FAILED" and "SIGABRT" in finding.message
    assert finding.file.endswith("RD_plan.dcm")


def test_one_defect_seen_by_two_engines_is_one_finding(tmp_path):
    """dciodvfy and UID-VALID on the same UID: one error naming both, and a
    waiver on either rule id still matches it."""
    import json

    from rtconform.cli import main
    from rtconform.phantom.faults import write_sample

    write_sample(tmp_path / "p", "invalid-uid")
    out = tmp_path / "o.json"
    assert main(["validate", str(tmp_path / "p"), "--engines", "tro,dciodvfy", "--json",
                 str(out)]) == 1
    errors = [f for f in json.loads(out.read_text())["findings"] if f["severity"] == "error"]
    (finding,) = errors
    assert finding["rule_id"] == "UID-VALID" and finding["tag_path"] == "SeriesInstanceUID"
    assert [a["rule_id"] for a in finding["extra"]["also"]] == ["DCIODVFY-ERROR"]
    assert "dciodvfy" in finding["source"].lower()
    waivers = tmp_path / "w.yaml"
    waivers.write_text("- rule: DCIODVFY-ERROR\n  reason: known leading zero, ticket 7\n")
    assert main(["validate", str(tmp_path / "p"), "--engines", "tro,dciodvfy", "--json",
                 str(out), "--waivers", str(waivers)]) == 0


# -- engine findings judged, not parroted (rtconform.engines.judgement) ---------------
def _real_ct(shared_dir, tmp_path, name="ct.dcm", **attributes):
    """A real CT (CERR, no Body Part Examined), with attributes changed."""
    ds = pydicom.dcmread(shared_dir / "data" / "real-world" / "cerr-ibsi" / "DCM_IMG_00000.dcm")
    for keyword, value in attributes.items():
        if value is None:
            delattr(ds, keyword)
        elif keyword == "AnatomicRegionSequence":
            item = pydicom.Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value
            ds.AnatomicRegionSequence = [item]
        else:
            setattr(ds, keyword, value)
    path = tmp_path / name
    ds.save_as(path)
    return path


def _laterality(findings):
    return [(f.rule_id, f.severity) for f in findings if f.tag_path == "Laterality"]


def test_laterality_is_evaluated_per_image_not_demoted_blanket(shared_dir, tmp_path, dciodvfy):
    engine = Dciodvfy()
    info = [("DCIODVFY-LATERALITY", Severity.INFO)]
    error = [("DCIODVFY-ERROR", Severity.ERROR)]
    # no body part at all: dciodvfy demands Laterality; PS3.3 C.7.3.1 does not
    (judged,) = [f for f in engine.check_file(_real_ct(shared_dir, tmp_path), "x")
                 if f.tag_path == "Laterality"]
    assert (judged.rule_id, judged.severity) == info[0]
    assert judged.message.startswith("Missing attribute for Type 2C Conditional")
    assert "no paired structure is known" in judged.message and "C.7.3.1" in judged.message
    assert judged.extra["engine_severity"] == "error"
    # an unpaired body part dciodvfy does not know, and a vendor's own term
    assert _laterality(engine.check_file(_real_ct(shared_dir, tmp_path, BodyPartExamined="HEAD "
                                                  "NECK"), "x")) == info
    # paired structures: the error stays, by Body Part Examined or by anatomic region
    for bpe in ("BREAST", "KIDNEY"):
        path = _real_ct(shared_dir, tmp_path, f"{bpe}.dcm", BodyPartExamined=bpe)
        assert _laterality(engine.check_file(path, "x")) == error, bpe
    region = _real_ct(shared_dir, tmp_path, "region.dcm",
                      AnatomicRegionSequence=("64033007", "SCT", "Kidney"))
    assert _laterality(engine.check_file(region, "x")) == error
    # --strict-engines: dciodvfy's own severity
    strict = Dciodvfy(strict=True).check_file(_real_ct(shared_dir, tmp_path), "x")
    assert _laterality(strict) == error


def test_a_breast_ct_without_laterality_is_an_error_with_or_without_dciodvfy(shared_dir,
                                                                             tmp_path, dciodvfy):
    _real_ct(shared_dir, tmp_path, "breast.dcm", BodyPartExamined="BREAST")
    for engines in ([], [Dciodvfy()]):
        result = validate_paths([tmp_path], ValidationOptions(engines=engines, jobs=1))
        (finding,) = [f for f in result.findings if f.tag_path == "Laterality"]
        assert (finding.rule_id, finding.severity) == ("IMAGE-LATERALITY", Severity.ERROR)
        assert "BREAST is a paired structure" in finding.message
        # one defect, one finding: dciodvfy's is merged into the rule's
        assert [a["rule_id"] for a in finding.extra.get("also", [])] == \
            (["DCIODVFY-ERROR"] if engines else [])
    # with Image Laterality the condition is met by it: no finding from either
    _real_ct(shared_dir, tmp_path, "breast.dcm", BodyPartExamined="BREAST", ImageLaterality="L")
    result = validate_paths([tmp_path], ValidationOptions(engines=[Dciodvfy()], jobs=1))
    assert not [f for f in result.findings if f.tag_path == "Laterality"]


def test_rt_structure_set_frame_of_reference_is_judged_by_module_usage(shared_dir, tmp_path,
                                                                       dciodvfy):
    """PS3.3 Table A.19.3-1: the Frame of Reference module is U in the RT
    Structure Set IOD. Absent as a whole: info; present but incomplete: the
    module's Type 2 attribute is still required."""
    ds = pydicom.dcmread(shared_dir / "data" / "real-world" / "rtutils-mim" / "rt.dcm")
    absent = tmp_path / "absent.dcm"
    ds.save_as(absent)
    judged = {(f.rule_id, f.severity, f.tag_path) for f in Dciodvfy().check_file(absent, "x")
              if "FrameOfReference" in f.message}
    assert judged == {("DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE", Severity.INFO, keyword)
                      for keyword in ("FrameOfReferenceUID", "PositionReferenceIndicator")}
    ds.FrameOfReferenceUID = ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
    half = tmp_path / "half.dcm"
    ds.save_as(half)
    kept = {(f.rule_id, f.severity, f.tag_path) for f in Dciodvfy().check_file(half, "x")
            if "FrameOfReference" in f.message}
    assert kept == {("DCIODVFY-ERROR", Severity.ERROR, "PositionReferenceIndicator")}
    strict = {(f.rule_id, f.severity) for f in Dciodvfy(strict=True).check_file(absent, "x")
              if "FrameOfReference" in f.message}
    assert strict == {("DCIODVFY-ERROR", Severity.ERROR)}


def test_strict_engines_changes_the_resume_fingerprint(monkeypatch):
    from rtconform.engines import make_engines
    from rtconform.engines.judgement import STRICT_ENV
    from rtconform.filecheck import FileSettings

    judged = FileSettings(make_engines(["dciodvfy"], strict=False)).fingerprint()
    strict = FileSettings(make_engines(["dciodvfy"], strict=True)).fingerprint()
    assert judged != strict
    monkeypatch.setenv(STRICT_ENV, "1")  # how `rtconform run --strict-engines` reaches it
    assert all(e.strict for e in make_engines(["dciodvfy", "dicom-validator"]))


# -- the same review for dicom-validator ------------------------------------------------
def test_dicom_validator_cannot_evaluate_the_laterality_condition():
    """dicom-validator parses PS3.3 C.7.3.1's Laterality condition, in both
    wordings the standard has used, as user-defined: it never reports a
    missing Laterality, not even for a breast. Its silence is no verdict;
    IMAGE-LATERALITY makes the check (test above)."""
    from dicom_validator.spec_reader.condition import ConditionType
    from dicom_validator.spec_reader.condition_parser import ConditionParser
    from pydicom.datadict import DicomDictionary

    dict_info = {f"({t >> 16:04X},{t & 0xFFFF:04X})": {"name": v[2], "vr": v[0], "vm": v[1],
                                                       "prop": ""}
                 for t, v in DicomDictionary.items()}
    parser = ConditionParser(dict_info)
    for text in (
        "Required if the body part examined is a paired structure and Image Laterality "
        "(0020,0062) is not sent.",
        "Required if the body part examined is a paired structure and Image Laterality "
        "(0020,0062) or Frame Laterality (0020,9072) or Measurement Laterality (0024,0113) "
        "are not present.",
    ):
        assert parser.parse(text).type is ConditionType.UserDefined


def test_dicom_validator_judges_the_frame_of_reference_module_by_its_usage(
        shared_dir, mini_standard, tmp_path):
    """With the module at usage U (Table A.19.3-1), dicom-validator says
    nothing of an RT Structure Set without it, and reports a half-present
    module: nothing to correct in its findings here."""
    engine = DicomValidator(mini_standard)
    ds = pydicom.dcmread(shared_dir / "data" / "real-world" / "rtutils-mim" / "rt.dcm")
    ds.save_as(tmp_path / "absent.dcm")
    absent = engine.check_file(tmp_path / "absent.dcm", "x")
    assert not [f for f in absent if "Frame of Reference" in f.message or
                f.tag_path in ("FrameOfReferenceUID", "PositionReferenceIndicator")]
    ds.FrameOfReferenceUID = ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
    ds.save_as(tmp_path / "half.dcm")
    half = {(f.rule_id, f.severity, f.tag_path)
            for f in engine.check_file(tmp_path / "half.dcm", "x") if f.severity == "error"}
    assert half == {("DV-TAGMISSING", Severity.ERROR, "PositionReferenceIndicator")}

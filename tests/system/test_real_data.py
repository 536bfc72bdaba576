"""Real data pinned: every set of ../shared/data/real-world/, IHE-RO's BRTO and
TPPC reference sets and pydicom's RT files, validated under the default profile
with the TRO rules and every engine that can run here (dciodvfy; dicom-validator
on tests/mini_standard.py, which holds the RT Structure Set IOD). Each error is
in KNOWN_DEFECTS with its citation; any other error fails with the finding, and
an entry no error matches fails too (the table stays true). Each set is
validated once per session."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest

from helpers import PYDICOM_TEST_FILES, require_program
from mini_standard import write_mini_standard
from rtconform.engines import make_engines
from rtconform.findings import Finding, Severity
from rtconform.rules.registry import RuleContext
from rtconform.validate import ValidationOptions, ValidationResult, validate_paths


@dataclass(frozen=True)
class Defect:
    """A real defect of a real file, and why it is one."""

    set: str  # "real-world/cerr-ibsi", "ihe-ro-brto-reference", "pydicom" …
    file: str  # regular expression matching the start of the file name
    rule_id: str
    tag_path: str  # the end of the finding's tag path
    message: str  # a substring of the finding's message
    citation: str


PS35_UID = "PS3.5 9.1: a UID component never begins with 0 and the root is 0, 1 or 2"
BRTO_RT = r"RT-Dose|RTPlanDosimetric|RTPlanGeometric|RTStructureSet"
KNOWN_DEFECTS = (
    # -- real-world exports ----------------------------------------------------------
    Defect("real-world/rtutils-mim", r"rt\.dcm", "UID-UNIQUE", "SOPInstanceUID",
           "is both its own SOP Instance UID and this object's Series UID",
           "PS3.5 9.1: one UID names one entity; MIM's structure set uses its SOP Instance "
           "UID as its Series Instance UID (dciodvfy says so too, merged into this finding)"),
    Defect("real-world/cerr-ibsi", r"DCM_RS_00060\.dcm", "DCIODVFY-ERROR", "OperatorsName",
           "Type 2 Required - Module=<RTSeries>",
           "PS3.3 C.8.8.1: Operators' Name (0008,1070) is Type 2 in the RT Series module; CERR "
           "leaves it out (dicom-validator reports it too, merged)"),
    # -- IHE-RO BRTO reference (2007 connectathon data) ------------------------------
    Defect("ihe-ro-brto-reference", r"CT1_\d+\.dcm|" + BRTO_RT, "UID-VALID",
           "ContextGroupExtensionCreatorUID", "illegal root", f"{PS35_UID} (root 3)"),
    Defect("ihe-ro-brto-reference", r"CT1_\d+\.dcm", "DCIODVFY-ERROR", "Laterality",
           "Attribute present when condition unsatisfied",
           "PS3.3 C.7.3.1: Laterality is Type 2C, sent only for a paired body part; "
           "Body Part Examined is ABDOMEN, and the CT sends it empty"),
    Defect("ihe-ro-brto-reference", r"RT-Dose\.dcm", "DCIODVFY-ERROR", "SliceThickness",
           "Value is zero", "PS3.3 C.7.6.2: a multi-frame dose grid's Slice Thickness is a "
                            "thickness; 0 is not one"),
    *(Defect("ihe-ro-brto-reference", r"RT-Dose\.dcm", "DCIODVFY-ERROR", keyword,
             "Missing attribute",
             "PS3.3 A.18.3: the dose carries an RT Dose ROI Sequence (dose points), which "
             "makes the Structure Set and ROI Contour modules required in the RT Dose IOD")
      for keyword in ("StructureSetLabel", "StructureSetDate", "StructureSetTime",
                      "StructureSetROISequence", "ROIContourSequence")),
    # -- IHE-RO TPPC reference (the test tool's plan-content data) --------------------
    Defect("ihe-ro-tppc-reference", r"RTPlanSlidingWindow", "DCIODVFY-ERROR",
           "FileMetaInformationVersion", "Empty attribute",
           "PS3.10 7.1: File Meta Information Version (0002,0001) is Type 1"),
    Defect("ihe-ro-tppc-reference", r"RTSTRUCT\.dcm", "DCIODVFY-ERROR", "OperatorsName",
           "Type 2 Required - Module=<RTSeries>",
           "PS3.3 C.8.8.1: Operators' Name is Type 2 in the RT Series module (dicom-validator "
           "agrees, merged)"),
    Defect("ihe-ro-tppc-reference", r"RTPlan(SlidingWindow|StepShoot)", "PLAN-STRUCTURE-SET-REF",
           "ReferencedSOPInstanceUID", "is not among the validated files",
           "PS3.3 C.8.8.9: two plans reference a structure set (…72) that the delivered, "
           "complete set does not hold"),
    Defect("ihe-ro-tppc-reference", r"RTPlan\w+|RTSTRUCT", "REF-PATIENT-IDENTITY",
           "PatientBirthDate", "differs from the study's",
           "PS3.3 C.7.1.1/C.7.2.1: one study is one patient; some plans send an empty Patient's "
           "Birth Date and the structure set 20110604 where the CT has 20100604"),
    # -- pydicom's RT test files -----------------------------------------------------
    Defect("pydicom", r"rtdose.*|badVR", "UID-VALID", "ReferencedSOPInstanceUID",
           "no leading zeros", f"{PS35_UID} ('0123')"),
    Defect("pydicom", r"rtdose(_expb)?(_1frame)?\.dcm|rtplan\.dcm|badVR", "FILE-META",
           "MediaStorageSOPInstanceUID", "differs from the dataset's",
           "PS3.10 7.1: anonymised without updating the File Meta Information"),
    Defect("pydicom", r"rtdose_rle.*", "DCIODVFY-ERROR", "OperatorsName",
           "Type 2 Required - Module=<RTSeries>",
           "PS3.3 C.8.8.1: Operators' Name is Type 2 (the RLE copies lost it)"),
    Defect("pydicom", r"rtstruct\.dcm", "DCIODVFY-ERROR", "ContourImageSequence",
           "Missing attribute for Type 1 Required",
           "PS3.3 C.8.8.5 Table C.8-41: Contour Image Sequence (3006,0016) is Type 1 in each "
           "RT Referenced Series Sequence item"),
    Defect("pydicom", r"rtplan_truncated", "FILE-UNREADABLE", "", "claims",
           "PS3.5 7.1: the file ends inside an element (pydicom ships it truncated)"),
    Defect("pydicom", r"ExplVR_(Big|Lit)EndNoMeta", "DCIODVFY-ERROR", "", "Missing attribute",
           "PS3.3 A.20.3: an encoding-test fragment of an RT Plan, without the Patient, General "
           "Study, RT Series and RT General Plan attributes the IOD requires"),
    Defect("pydicom", r"ExplVR_(Big|Lit)EndNoMeta", "UID-UNIQUE", "StudyInstanceUID",
           "is both its own Study UID and this object's Frame of Reference UID",
           "PS3.5 9.1: one UID names one entity (dciodvfy says so too, merged)"),
    Defect("pydicom", r"badVR", "DOSE-PIXEL-DATA-LENGTH", "PixelData", "needs",
           "PS3.5 8.1.1 / PS3.3 C.7.6.3: Pixel Data is Rows × Columns × frames × Bits "
           "Allocated long"),
)

# Engine findings rtconform judges (rtconform.engines.judgement): in these sets
# they must be info, with the reason — never an error, never dropped.
JUDGED = {
    "real-world/cerr-ibsi": {"DCIODVFY-LATERALITY": 60, "DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE": 2},
    "real-world/rtutils-mim": {"DCIODVFY-LATERALITY": 5,
                               "DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE": 2},
    "real-world/dicomrttool-varian": {"DCIODVFY-LATERALITY": 4},
    "ihe-ro-brto-reference": {"DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE": 2},
}


def _pydicom_rt_files() -> list[Path]:
    """pydicom's RT files, found by listing its folder (never get_testdata_files,
    which downloads)."""
    out = []
    for path in sorted(PYDICOM_TEST_FILES.glob("*.dcm")):
        try:
            modality = str(pydicom.dcmread(path, stop_before_pixels=True, force=True)
                           .get("Modality", ""))
        except Exception:  # a truncated RT file is still one: its name says so
            modality = ""
        if modality.startswith("RT") or path.name.lower().startswith("rt"):
            out.append(path)
    return out


@pytest.fixture(scope="session")
def real_results(shared_dir, tmp_path_factory) -> dict[str, ValidationResult]:
    """Each set validated once, as `rtconform validate DIR --complete` does it
    (a lone pydicom file: without --complete, it is no export)."""
    require_program("dciodvfy", "dicom3tools")
    standard = write_mini_standard(tmp_path_factory.mktemp("standard"))
    data = shared_dir / "data"
    sets: dict[str, tuple[list[Path], bool]] = {
        f"real-world/{p.name}": ([p], True)
        for p in sorted((data / "real-world").iterdir()) if p.is_dir()}
    sets["ihe-ro-brto-reference"] = ([data / "ihe-ro-brto-reference"], True)
    sets["ihe-ro-tppc-reference"] = ([data / "ihe-ro-tppc-reference"], True)
    for path in _pydicom_rt_files():
        sets[f"pydicom/{path.name}"] = ([path], False)
    out = {}
    for name, (paths, complete) in sets.items():
        engines = make_engines(["dciodvfy", "dicom-validator"], standard)
        out[name] = validate_paths(paths, ValidationOptions(
            engines=engines, context=RuleContext(complete=complete), jobs=2))
        assert not out[name].engine_notes, (name, out[name].engine_notes)
    return out


def _known(set_name: str, finding: Finding) -> Defect | None:
    group = "pydicom" if set_name.startswith("pydicom/") else set_name
    name = Path(finding.file).name
    for defect in KNOWN_DEFECTS:
        if defect.set == group and re.match(defect.file, name) \
                and finding.rule_id == defect.rule_id \
                and finding.tag_path.endswith(defect.tag_path) \
                and defect.message in finding.message:
            return defect
    return None


def test_every_error_on_real_data_is_a_cited_real_defect(real_results):
    unexplained, seen = [], set()
    for set_name, result in real_results.items():
        for f in result.findings:
            if not f.counts_as_error:
                continue
            defect = _known(set_name, f)
            if defect is None:
                unexplained.append(f"{set_name}: {f.rule_id} {Path(f.file).name} "
                                   f"{f.tag_path}: {f.message}")
            else:
                seen.add(defect)
        # exit 1 only for cited defects, 0 where there are none
        assert result.exit_code == (1 if any(f.counts_as_error for f in result.findings)
                                    else 0)
    assert unexplained == [], "\n".join(unexplained)
    assert [d for d in KNOWN_DEFECTS if d not in seen] == []  # no stale entry
    assert all(d.citation for d in KNOWN_DEFECTS)


def test_real_world_sets_fail_only_where_they_have_defects(real_results):
    codes = {name: r.exit_code for name, r in real_results.items()
             if name.startswith("real-world/")}
    assert codes == {"real-world/cerr-ibsi": 1, "real-world/dicomrttool-varian": 0,
                     "real-world/rtutils-mim": 1}


def test_no_laterality_or_frame_of_reference_error_on_real_exports(real_results):
    for name, result in real_results.items():
        if not name.startswith("real-world/"):
            continue
        assert not [f for f in result.findings if f.counts_as_error and (
            f.tag_path in ("Laterality", "FrameOfReferenceUID", "PositionReferenceIndicator"))]


def test_judged_engine_findings_are_listed_as_info_with_their_reason(real_results):
    for name, expected in JUDGED.items():
        judged = [f for f in real_results[name].findings if "judged" in f.extra]
        counts: dict[str, int] = {}
        for f in judged:
            counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
            assert f.severity is Severity.INFO and f.engine == "dciodvfy"
            assert f.extra["engine_severity"] == "error"
            assert f.extra["engine_rule_id"] == "DCIODVFY-ERROR"
            assert f.message.startswith("Missing attribute")  # dciodvfy's own text first
            reason = f.extra["judged"]["reason"]
            assert reason in f.message and f.extra["judged"]["citation"] in f.message
        assert counts == expected, name
    cerr_ct = next(f for f in real_results["real-world/cerr-ibsi"].findings
                   if f.rule_id == "DCIODVFY-LATERALITY")
    assert "no paired structure is known" in cerr_ct.extra["judged"]["reason"]
    assert "PS3.3 C.7.3.1" in cerr_ct.extra["judged"]["citation"]


def test_validate_on_a_real_export_says_why_and_strict_engines_restores_errors(shared_dir,
                                                                               dciodvfy):
    folder = shared_dir / "data" / "real-world" / "dicomrttool-varian"
    command = [sys.executable, "-m", "rtconform", "validate", str(folder), "--complete",
               "--engines", "tro,dciodvfy", "--jobs", "1"]
    judged = subprocess.run(command, capture_output=True, text=True, check=False)
    assert judged.returncode == 0, judged.stdout + judged.stderr
    assert "4 × dciodvfy error on Laterality judged info" in judged.stdout
    assert "no paired structure is known" in judged.stdout
    strict = subprocess.run([*command, "--strict-engines"], capture_output=True, text=True,
                            check=False)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "judged info" not in strict.stdout
    assert "Laterality" in strict.stdout and "4 errors" in strict.stdout

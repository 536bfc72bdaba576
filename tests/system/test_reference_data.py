"""IHE-RO's own reference patient (real connectathon data no one here wrote):
no false alarm from the TRO rules, the real defects the engines find asserted
one by one, and single-attribute mutations caught."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from helpers import rule_ids, tro_findings
from rtconform.engines.dciodvfy import Dciodvfy
from rtconform.findings import Severity
from rtconform.validate import ValidationOptions, validate_paths

BAD_ROOT = "3.26.154.116784.2.3.7.130678429.25320.344.19316"


def test_tro_rules_raise_no_false_alarm(reference_dir):
    findings = tro_findings(reference_dir)
    kinds = Counter((f.rule_id, f.severity) for f in findings)
    # Real defect: Context Group Extension Creator UID has root 3, which no
    # ISO OID arc allows (PS3.5 9.1); 5 code sequences per CT, 3 per RT object.
    assert kinds[("UID-VALID", Severity.ERROR)] == 39 * 5 + 4 * 3
    assert all(f.tag_path.endswith("ContextGroupExtensionCreatorUID") and BAD_ROOT in f.message
               for f in findings if f.rule_id == "UID-VALID")
    # Legal but worth knowing: the CT has 5 mm and 7 mm gaps.
    spacing = [f for f in findings if f.rule_id == "CT-SERIES-SPACING"]
    assert len(spacing) == 1 and "'5': 24, '7': 14" in spacing[0].message
    # Nothing else: structure set, plans, dose and references pass every TRO rule
    # (trailing '^' in Patient Name is insignificant, PS3.5 6.2.1).
    assert set(kinds) == {("UID-VALID", Severity.ERROR), ("CT-SERIES-SPACING", Severity.WARNING)}


def test_graph_of_the_reference_set(reference_dir):
    result = validate_paths([reference_dir], ValidationOptions(use_tro_rules=True))
    s = result.graph.summary()
    assert (s["patients"], s["images"], s["structure_sets"], s["plans"], s["doses"]) == \
        (1, 39, 1, 2, 1)
    from rtconform.profiles.dicom_rt.plan import plan_kind

    kinds = sorted(plan_kind(p) for p in result.graph.plans)
    assert kinds == ["dosimetric", "geometric"]


# Real defects dciodvfy (dicom3tools 2022) reports in the reference data, each
# with why it is real. Keys: (file prefix, attribute, message pattern).
DCIODVFY_DEFECTS = {
    ("CT1_", "ContextGroupExtensionCreatorUID", r"Illegal root for UID"):
        "root 3 is not an ISO OID arc (PS3.5 9.1)",
    ("CT1_", "Laterality", r"present when condition unsatisfied"):
        "Laterality is Type 2C, only for paired body parts; the pelvis is not one",
    ("RT-D", "ContextGroupExtensionCreatorUID", r"Illegal root for UID"): "as for the CT",
    ("RTPl", "ContextGroupExtensionCreatorUID", r"Illegal root for UID"): "as for the CT",
    ("RTSt", "ContextGroupExtensionCreatorUID", r"Illegal root for UID"): "as for the CT",
    ("RT-D", "SliceThickness", r"Value is zero"):
        "a multi-frame dose grid has a slice thickness; 0 is not one",
    ("RT-D", "StructureSetLabel", r"Type 1 Required"):
        "the dose carries an RT Dose ROI Sequence (dose points), which makes the Structure "
        "Set, ROI Contour modules required in the RT Dose IOD (PS3.3 A.18)",
    ("RT-D", "StructureSetDate", r"Type 2 Required"): "same cause",
    ("RT-D", "StructureSetTime", r"Type 2 Required"): "same cause",
    ("RT-D", "StructureSetROISequence", r"Type 1 Required"): "same cause",
    ("RT-D", "ROIContourSequence", r"Type 1 Required"): "same cause",
}
# dciodvfy errors rtconform judges not to be errors here: still listed, as info
# with the reason (rtconform.engines.judgement).
DCIODVFY_JUDGED = {
    ("RTSt", "FrameOfReferenceUID"): "DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE",
    ("RTSt", "PositionReferenceIndicator"): "DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE",
}


def test_dciodvfy_finds_the_real_defects_and_only_those(reference_dir, dciodvfy):
    engine = Dciodvfy()
    found, judged = set(), {}
    for path in sorted(reference_dir.glob("*.dcm")):
        for f in engine.check_file(path, ""):
            if "judged" in f.extra:
                assert f.severity is Severity.INFO and f.extra["engine_severity"] == "error"
                judged[(path.name[:4], f.tag_path)] = f.rule_id
                continue
            if f.severity is not Severity.ERROR:
                continue
            key = next((k for k in DCIODVFY_DEFECTS
                        if path.name.startswith(k[0]) and f.tag_path.endswith(k[1])
                        and re.search(k[2], f.message)), None)
            assert key is not None, f"unexpected dciodvfy error: {path.name} {f.tag_path} " \
                                    f"{f.message}"
            found.add(key)
    assert found == set(DCIODVFY_DEFECTS)
    assert judged == DCIODVFY_JUDGED


def _with_mutation(reference_dir: Path, tmp_path: Path, name: str, change) -> Path:
    """The reference set with one file changed (the others linked, not copied)."""
    for path in reference_dir.glob("*.dcm"):
        if path.name != name:
            (tmp_path / path.name).symlink_to(path)
    ds = pydicom.dcmread(reference_dir / name)
    change(ds)
    ds.save_as(tmp_path / name)
    return tmp_path


def _z_plus_one(ds):
    c = ds.ROIContourSequence[0].ContourSequence[0]
    c.ContourData = [v + 1 if i % 3 == 2 else v for i, v in enumerate(map(float, c.ContourData))]


MUTATIONS = {
    "contour off plane": ("RTStructureSet.dcm", _z_plus_one, "SS-CONTOUR-ON-PLANE"),
    "ROI observation to nowhere": (
        "RTStructureSet.dcm",
        lambda ds: setattr(ds.RTROIObservationsSequence[0], "ReferencedROINumber", 999),
        "SS-ROI-NUMBER-CONSISTENCY"),
    "display colour out of range": (
        "RTStructureSet.dcm",
        lambda ds: setattr(ds.ROIContourSequence[0], "ROIDisplayColor", [999, 0, 0]),
        "SS-ROI-DISPLAY-COLOR"),
    "plan to an absent structure set": (
        "RTPlanGeometric.dcm",
        lambda ds: setattr(ds.ReferencedStructureSetSequence[0], "ReferencedSOPInstanceUID",
                           "1.2.3.4.5"),
        "PLAN-STRUCTURE-SET-REF"),
    "grid frame offset vector short": (
        "RT-Dose.dcm",
        lambda ds: setattr(ds, "GridFrameOffsetVector", list(ds.GridFrameOffsetVector)[:-1]),
        "DOSE-GRID-FRAME-OFFSET"),
    "dose units": ("RT-Dose.dcm", lambda ds: setattr(ds, "DoseUnits", "CGY"), "DOSE-UNITS-TYPE"),
    "pixel spacing of one slice": (
        "CT1_05.dcm", lambda ds: setattr(ds, "PixelSpacing", [1.0, 1.0]), "CT-SERIES-GEOMETRY"),
}


@pytest.mark.parametrize("label", sorted(MUTATIONS))
def test_single_attribute_mutation_is_caught(reference_dir, tmp_path, label):
    name, change, expected = MUTATIONS[label]
    mutated = _with_mutation(reference_dir, tmp_path, name, change)
    new = rule_ids(tro_findings(mutated)) - {"UID-VALID", "CT-SERIES-SPACING"}
    assert new == {expected}

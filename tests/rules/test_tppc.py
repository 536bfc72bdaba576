"""The TPPC profile: every beam type detected from its content and judged by
its own rules, on the synthetic patient's 14 plans and on IHE-RO's own
reference plans (validated once per session), its checklist map against the
shared checklist, and profiles shipped by another package."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pydicom
import pytest

from helpers import require, rule_ids, tro_findings
from rtconform.cli import main
from rtconform.findings import Severity
from rtconform.phantom.faults import write_sample
from rtconform.phantom.techniques import TECHNIQUES
from rtconform.profiles.tppc.beams import BEAM_TYPES, detect
from rtconform.rules.coverage import load_coverage, totals
from rtconform.rules.profiles import rules_of
from rtconform.rules.registry import RuleContext
from rtconform.validate import ValidationOptions, validate_paths

ROW = re.compile(r"^(TPPC-(?:GEN|MOD-[A-Z]+|[A-Z]+)-\d+): (beam \d+ '[^']*') \(([a-z-]+)\)"
                 r"(?:, control point (\d+))?: ")
ROW_ID = re.compile(r"^(TPPC-(?:GEN|MOD-[A-Z]+|[A-Z]+)-\d+): ")


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtconform", *args], capture_output=True,
                          text=True, check=False, **kw)


@pytest.fixture(scope="session")
def plans(tmp_path_factory) -> Path:
    """`rtconform sample DIR --beam-type all`: CT, structure set, 14 plans."""
    folder = tmp_path_factory.mktemp("plans")
    assert main(["sample", str(folder), "--beam-type", "all"]) == 0
    return folder


@pytest.fixture(scope="session")
def tppc_reference(shared_dir) -> Path:
    path = shared_dir / "data" / "ihe-ro-tppc-reference"
    require(path.is_dir(), f"IHE-RO TPPC reference data {path} is absent")
    return path


@pytest.fixture(scope="session")
def reference_findings(tppc_reference):
    """IHE-RO's 14 reference plans, structure set and 142 CT under --profile
    tppc: validated once for every test that reads them."""
    return validate_paths([tppc_reference], ValidationOptions(profile="tppc")).findings


# -- the synthetic plans -------------------------------------------------------------------
def test_every_beam_type_is_written_and_detected_as_itself(plans):
    written = sorted(p.name for p in plans.glob("RP_*.dcm"))
    assert written == sorted(f"RP_{t}.dcm" for t in TECHNIQUES)
    for technique in TECHNIQUES:
        plan = pydicom.dcmread(plans / f"RP_{technique}.dcm")
        assert {detect(beam) for beam in plan.BeamSequence} == {technique}, technique


def test_the_plans_pass_tppc_and_dicom_rt_with_dciodvfy(plans, dciodvfy, tmp_path):
    assert tro_findings(plans, profile="tppc", complete=True) == []
    alone = tmp_path / "plans"  # dciodvfy on the plans and their structure set (the CT is the
    alone.mkdir()               # default patient's, checked with it)
    for path in [*plans.glob("RP_*.dcm"), plans / "RS_structure_set.dcm"]:
        shutil.copy(path, alone / path.name)
    proc = _cli("validate", str(alone), "--profile", "dicom-rt", "--engines", "tro,dciodvfy",
                "--json", str(tmp_path / "f.json"), "-j", "2")
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = json.loads((tmp_path / "f.json").read_text())
    assert report["engines"]["dciodvfy"] == "ran" and report["counts"]["error"] == 0
    assert report["files"] == 15


def test_sample_beam_types_are_written_alone(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "a"), "--beam-type", "vmat", "--export",
                 "patient-tree"]) == 2
    assert main(["sample", str(tmp_path / "b"), "--beam-type", "arc",
                 "--fault", "tppc-vmat-weights-down"]) == 2
    assert "give those beam types" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # not a beam type: argparse says which are
        main(["sample", str(tmp_path / "c"), "--beam-type", "photon"])
    assert exit_.value.code == 2 and "vmat" in capsys.readouterr().err


def test_the_plans_are_what_a_planning_system_writes(plans):
    """Consistent control point by control point, not merely valid."""
    vmat = pydicom.dcmread(plans / "RP_vmat.dcm")
    for arc in vmat.BeamSequence:
        cps = arc.ControlPointSequence
        weights = [float(cp.CumulativeMetersetWeight) for cp in cps]
        assert weights[0] == 0 and weights[-1] == float(arc.FinalCumulativeMetersetWeight)
        assert all(b > a for a, b in pairwise(weights))
        assert all("GantryAngle" in cp and "BeamLimitingDevicePositionSequence" in cp
                   for cp in cps)
        steps = {round((float(b.GantryAngle) - float(a.GantryAngle)) % 360, 3)
                 for a, b in pairwise(cps)}
        assert steps == ({4.0} if arc.ControlPointSequence[0].GantryRotationDirection == "CW"
                         else {356.0})
    electron = pydicom.dcmread(plans / "RP_static-electron.dcm")
    beam = electron.BeamSequence[0]
    assert beam.RadiationType == "ELECTRON" and beam.ApplicatorSequence[0].ApplicatorID
    assert beam.BlockSequence[0].BlockType == "APERTURE"  # the cut-out
    assert electron.PatientSetupSequence[0].SetupTechnique == "FIXED_SSD"
    assert float(beam.ControlPointSequence[0].SourceToSurfaceDistance) == 995
    structure_set = pydicom.dcmread(plans / "RS_structure_set.dcm")
    bolus = beam.ReferencedBolusSequence[0].ReferencedROINumber
    assert {o.RTROIInterpretedType for o in structure_set.RTROIObservationsSequence
            if o.ReferencedROINumber == bolus} == {"BOLUS"}
    sas = pydicom.dcmread(plans / "RP_step-and-shoot.dcm").BeamSequence[0].ControlPointSequence
    weights = [cp.CumulativeMetersetWeight for cp in sas]
    assert len(sas) % 2 == 0 and all(weights[k] == weights[k + 1]
                                     for k in range(1, len(sas) - 1, 2))


def test_an_electron_plan_fails_brto_only_on_its_radiation_type(tmp_path):
    write_sample(tmp_path, techniques=("static-electron",))
    assert tro_findings(tmp_path, profile="dicom-rt", complete=True) == []
    assert tro_findings(tmp_path, profile="tppc", complete=True) == []
    findings = tro_findings(tmp_path, profile="brto", complete=True)
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("BRTO-PLAN-RADIATION-TYPE", Severity.ERROR)]


def test_a_plan_mixing_beam_types_is_judged_beam_by_beam(tmp_path):
    """A VMAT arc, a fixed-SSD electron field and a wedged field in one plan:
    each beam by its own type's rules (the tool would judge all three by the
    one type its operator picked)."""
    write_sample(tmp_path, techniques=("vmat", "static-electron", "hard-wedge"))
    mixed = pydicom.dcmread(tmp_path / "RP_vmat.dcm")
    group = mixed.FractionGroupSequence[0]
    setup = copy.deepcopy(mixed.PatientSetupSequence[0])
    for technique, index in (("static-electron", 0), ("hard-wedge", 1)):
        other = pydicom.dcmread(tmp_path / f"RP_{technique}.dcm")
        beam = copy.deepcopy(other.BeamSequence[index])
        ref = copy.deepcopy(other.FractionGroupSequence[0].ReferencedBeamSequence[index])
        number = len(mixed.BeamSequence) + 1
        beam.BeamNumber = ref.ReferencedBeamNumber = number
        if technique == "static-electron":
            setup = copy.deepcopy(other.PatientSetupSequence[0])
            setup.PatientSetupNumber = 2
            mixed.PatientSetupSequence.append(setup)
            beam.ReferencedPatientSetupNumber = 2
        mixed.BeamSequence.append(beam)
        group.ReferencedBeamSequence.append(ref)
        (tmp_path / f"RP_{technique}.dcm").unlink()
    group.NumberOfBeams = len(mixed.BeamSequence)
    mixed.save_as(tmp_path / "RP_vmat.dcm")
    assert [detect(b) for b in mixed.BeamSequence] == [
        "vmat", "vmat", "static-electron", "hard-wedge"]
    assert tro_findings(tmp_path, profile="tppc", complete=True) == []
    # the wedged field without its wedge position: found in beam 4, named so
    mixed.BeamSequence[3].ControlPointSequence[0].WedgePositionSequence[0].WedgePosition = "OUT"
    mixed.save_as(tmp_path / "RP_vmat.dcm")
    (finding,) = tro_findings(tmp_path, profile="tppc", complete=True)
    assert finding.rule_id == "TPPC-WEDGE-POSITIONS"
    assert ROW.match(finding.message).groups() == (
        "TPPC-HW-12", "beam 4 'LAT W45'", "hard-wedge", "0")
    assert finding.tag_path == \
        "BeamSequence[3].ControlPointSequence[0].WedgePositionSequence[0].WedgePosition"


def test_a_setup_beam_need_not_be_referenced(tmp_path):
    """TPPC-BEAMS-REFERENCED (its fault: tppc-beam-not-referenced): a SETUP
    beam outside the fraction group is no defect."""
    write_sample(tmp_path, "tppc-beam-not-referenced")
    path = tmp_path / "RP_photon-applicator-arc.dcm"
    plan = pydicom.dcmread(path)
    plan.BeamSequence[2].TreatmentDeliveryType = "SETUP"
    plan.save_as(path)
    assert tro_findings(tmp_path, profile="tppc", complete=True) == []


def test_a_beam_of_no_tppc_type_is_a_warning_and_the_common_rules_still_apply(tmp_path):
    write_sample(tmp_path, techniques=("static-electron",))
    path = tmp_path / "RP_static-electron.dcm"
    plan = pydicom.dcmread(path)
    beam = plan.BeamSequence[0]
    beam.BeamType = "DYNAMIC"  # an electron arc
    beam.ControlPointSequence[0].GantryRotationDirection = "CW"
    beam.ControlPointSequence[1].GantryAngle = "40"
    beam.ControlPointSequence[1].GantryRotationDirection = "NONE"
    del beam.TreatmentMachineName
    plan.save_as(path)
    assert detect(beam) is None
    found = {(f.rule_id, f.severity) for f in tro_findings(tmp_path, profile="tppc")}
    assert found == {("TPPC-BEAM-TYPE", Severity.WARNING),
                     ("TPPC-BEAM-ATTRIBUTES", Severity.ERROR)}


def test_findings_name_row_beam_and_control_point(tmp_path):
    """The broken planner: a VMAT arc whose weights go down."""
    write_sample(tmp_path, "tppc-vmat-weights-down")
    findings = tro_findings(tmp_path, profile="tppc")
    assert [f.rule_id for f in findings] == ["TPPC-CONTROL-POINTS"]
    row, beam, kind, point = ROW.match(findings[0].message).groups()
    assert (row, beam, kind, point) == ("TPPC-GEN-45", "beam 1 'VMAT CW'", "vmat", "30")
    assert findings[0].tag_path == "BeamSequence[0].ControlPointSequence[30]" \
                                   ".CumulativeMetersetWeight"
    # dicom-rt's PLAN-CONTROL-POINTS sees the same defect; tppc replaces it
    assert rule_ids(tro_findings(tmp_path)) == {"PLAN-CONTROL-POINTS"}
    assert "PLAN-CONTROL-POINTS" not in {r.id for r in rules_of("tppc")}


def test_beams_log_says_what_each_beam_was_detected_as(plans):
    result = validate_paths([plans], ValidationOptions(
        profile="tppc", rule_tags=frozenset({"log"}), context=RuleContext()))
    logs = {Path(f.file).name: f.message for f in result.findings
            if f.rule_id == "TPPC-BEAMS-LOG"}
    assert set(logs) == {f"RP_{t}.dcm" for t in TECHNIQUES}
    assert all(f.severity is Severity.INFO for f in result.findings)
    assert "beam 1 'E AP 9MeV': static-electron, 0 wedge(s), 1 bolus(es), 1 block(s)" in \
        logs["RP_static-electron.dcm"]
    assert result.exit_code == 0


# -- IHE-RO's reference plans --------------------------------------------------------------
# Each true defect of the reference data: (rule, file, row id or what, how many).
REFERENCE_DEFECTS = {
    # the electron plan (FIXED_SSD) lacks what its own rules require (the checklist's note)
    ("TPPC-SSD", "RTPlanElectronBeamStaticElectronBeam.dcm", "TPPC-ELEC-12"): 1,
    # beams 2-6 of both cone plans lack Beam Dose Specification Point (the tool looks at the
    # first referenced beam only)
    ("TPPC-FRACTION-GROUP", "RTPlanPhotonApplicatorBeam.dcm", "TPPC-GEN-18"): 5,
    ("TPPC-FRACTION-GROUP", "RTPlanPhotonApplicatorArcBeam.dcm", "TPPC-GEN-18"): 5,
    # the motorized wedge of beam 2 has no Effective Wedge Angle (the tool: beam 1 only)
    ("TPPC-WEDGES", "RTPlanMotorizedWedgeBeam.dcm", "TPPC-MW-14"): 1,
    # dicom-rt: four plans send an empty Patient Birth Date and the structure set another one
    # (20110604) than the CT's (20100604)
    ("REF-PATIENT-IDENTITY", "RTPlanArcBeam.dcm", "PatientBirthDate"): 1,
    ("REF-PATIENT-IDENTITY", "RTPlanPhotonApplicatorBeam.dcm", "PatientBirthDate"): 1,
    ("REF-PATIENT-IDENTITY", "RTPlanPhotonApplicatorArcBeam.dcm", "PatientBirthDate"): 1,
    ("REF-PATIENT-IDENTITY", "RTPlanElectronBeamStaticElectronBeam.dcm", "PatientBirthDate"): 1,
    ("REF-PATIENT-IDENTITY", "RTSTRUCT.dcm", "PatientBirthDate"): 1,
    # dicom-rt (warning): the step-and-shoot and sliding-window plans were planned on another
    # structure set, in another study, that the data set does not hold
    ("PLAN-STRUCTURE-SET-REF", "RTPlanStepShootBeam.dcm",
     "ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID"): 1,
    ("PLAN-STRUCTURE-SET-REF", "RTPlanSlidingWindowBeam.dcm",
     "ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID"): 1,
}


def test_the_reference_plans_show_only_their_documented_defects(reference_findings):
    found = Counter()
    for f in reference_findings:
        row = ROW_ID.match(f.message)
        found[(f.rule_id, Path(f.file).name, row.group(1) if row else f.tag_path)] += 1
    assert dict(found) == REFERENCE_DEFECTS
    assert all(f.severity is Severity.WARNING for f in reference_findings
               if f.rule_id == "PLAN-STRUCTURE-SET-REF")


def test_each_reference_plan_is_detected_as_its_folders_beam_type(tppc_reference):
    by_scenario = {spec.scenario: key for key, spec in BEAM_TYPES.items()}
    seen = set()
    for path in sorted(tppc_reference.glob("*/RTPlan*.dcm")):
        plan = pydicom.dcmread(path)
        kinds = {detect(beam) for beam in plan.BeamSequence}
        assert kinds == {by_scenario[path.parent.name]}, (path.parent.name, kinds)
        seen.add(path.parent.name)
    assert len(seen) == 14


# -- the checklist -----------------------------------------------------------------------
def test_the_coverage_map_agrees_with_the_shared_checklist(shared_dir):
    text = (shared_dir / "ihe-ro-tppc-checks.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (TPPC-[A-Z-]+-\d+) \| ([^|]*) \| `?([^|`]*)`?[^|]* \| [^|]* \| "
                      r"[^|]* \| [^|]* \| ([^|]*) \|", text, re.M)
    assert len(rows) == 333
    mapped = {r.id: r for r in load_coverage("tppc")}
    assert [r[0] for r in rows] == list(mapped)
    for row_id, module, _, status in rows:
        assert mapped[row_id].tool_status == status.strip().strip("*"), row_id
        assert mapped[row_id].object == module.strip(), row_id
    t = totals(list(mapped.values()))
    assert t["rows"] == 333 and t["not-applicable"] <= 5


def test_rules_coverage_for_tppc():
    proc = _cli("rules", "--coverage", "--profile", "tppc")
    assert proc.returncode == 0, proc.stderr
    t = totals(load_coverage("tppc"))
    assert proc.stdout.splitlines()[-1] == (
        f"333 rows: {t['covered']} covered, {t['partly']} partly, "
        f"{t['not-applicable']} not applicable")
    assert proc.stdout.count("TPPC-") >= 333


# -- a profile of another package ------------------------------------------------------------
ACME = '''
"""A third party's profile: BRTO, but for a clinic that plans electrons too."""
from collections.abc import Iterator

from rtconform.findings import Severity
from rtconform.rules.profiles import Profile
from rtconform.rules.registry import Issue, rule


@rule("ACME-RADIATION-TYPE", Severity.ERROR, "Photon or electron beams",
      "ACME clinic protocol 7", profile="acme-brto-electron")
def radiation(graph, ctx) -> Iterator[Issue]:
    for plan in graph.plans:
        for b, beam in enumerate(plan.dataset.get("BeamSequence", [])):
            if beam.get("RadiationType") not in ("PHOTON", "ELECTRON"):
                yield Issue("neither photon nor electron", f"BeamSequence[{b}]", plan)


PROFILE = Profile("acme-brto-electron", "BRTO with electron beams", "ACME clinic protocol 7",
                  package=__name__, includes=("brto",),
                  excludes=frozenset({"BRTO-PLAN-RADIATION-TYPE"}))
'''


def _install(site: Path, entry_points: str) -> dict:
    """A package with `rtconform.profiles` entry points, as pip would lay it out."""
    (site / "acme_profile.py").write_text(textwrap.dedent(ACME), encoding="utf-8")
    info = site / "acme_profile-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-profile\nVersion: 1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": str(site)}


def test_a_third_party_profile_excludes_an_inherited_rule(tmp_path):
    """Found by entry point; builds on brto and excludes its photon-only rule,
    checking photon or electron with a rule of its own: the electron plan that
    fails brto passes it. (tppc replaces a rule: test_findings_name_row_…)"""
    site = tmp_path / "site"
    site.mkdir()
    env = _install(site, "[rtconform.profiles]\nacme-brto-electron = acme_profile:PROFILE\n"
                         "broken = acme_missing_module:PROFILE\n")
    write_sample(tmp_path / "plan", techniques=("static-electron",))
    listed = _cli("rules", "--profile", "acme-brto-electron", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    ids = {r["id"] for r in json.loads(listed.stdout)}
    assert "ACME-RADIATION-TYPE" in ids and "BRTO-PLAN-BEAM-NAMES" in ids
    assert "BRTO-PLAN-RADIATION-TYPE" not in ids
    assert "profile 'broken' of acme-profile" in listed.stderr  # said, and left out
    brto = _cli("validate", str(tmp_path / "plan"), "--profile", "brto", "--engines", "tro",
                "-j", "1", env=env)
    assert brto.returncode == 1 and "BRTO-PLAN-RADIATION-TYPE" in brto.stdout
    acme = _cli("validate", str(tmp_path / "plan"), "--profile", "acme-brto-electron",
                "--engines", "tro", "-j", "1", env=env)
    assert acme.returncode == 0, acme.stdout[-2000:]
    doc = _cli("rules", "--markdown", "--profile", "acme-brto-electron", env=env)
    assert "- BRTO-PLAN-RADIATION-TYPE: excluded by acme-brto-electron" in doc.stdout


# -- the scenarios (rtconform run --profile tppc) ------------------------------------------------
def _sut(tmp_path: Path, **keys) -> Path:
    import yaml

    path = tmp_path / "sut.yaml"
    path.write_text(yaml.safe_dump({"name": "reference actors", "profile": "tppc", **keys}),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tppc_run(tmp_path_factory, shared_dir):
    """`rtconform run` with a SUT file naming the tppc profile and two beam
    types, on the embedded default (all 14: `rtconform run --profile tppc`,
    by hand): run once for the scenario and report tests."""
    from rtconform.run.runner import run

    folder = tmp_path_factory.mktemp("tppc-run")
    previous = os.environ.get("RTCONFORM_SHARED")
    os.environ["RTCONFORM_SHARED"] = str(shared_dir)  # IHE-RO's reference plans
    try:
        sut = _sut(folder, actors=["Archive", "Dosimetric Planner", "Dose Displayer"],
                   embedded={}, beam_types=["vmat", "static-electron"])
        code, results = run(sut, folder / "run")
    finally:
        if previous is None:
            os.environ.pop("RTCONFORM_SHARED", None)
        else:
            os.environ["RTCONFORM_SHARED"] = previous
    return folder / "run", code, results


def test_tppc_scenarios_pass_on_the_embedded_default(tppc_run):
    """Producer, Archive, consumer and IHE-RO's reference plans, for the two
    declared beam types; the SUT file's `profile:` and `beam_types:` choose them."""
    _, code, results = tppc_run
    by_status = Counter(r.status for r in results)
    assert code == 0 and by_status == {"passed": 7}, [(r.name, r.status) for r in results]
    assert {r.transaction for r in results} == {"TPPC"}
    names = {r.name for r in results}
    assert "The planning system under test stores a static-electron plan" in names
    assert any("reference plans" in n for n in names)


def test_the_report_shows_each_plans_beams_in_chromium(tppc_run):
    """A beam table per plan (type as detected …) and beam's-eye views, in
    a real headless Chromium like the other pictures."""
    from helpers import artifacts_dir, chromium_page
    from rtconform.report.render import render

    out, _, _ = tppc_run
    written = render(out, ("html", "json"))
    plans = json.loads(written["json"].read_text())["plans"]
    vmat = next(p for p in plans if p["title"] == "RT Plan RTC VMAT")
    assert [(b["beam"], b["type"], b["control_points"]) for b in vmat["beams"]] == [
        (1, "vmat", 90), (2, "vmat", 90)]
    assert vmat["beams"][0]["gantry"] == "182° → 178° CW (356°)"
    electron = next(p for p in plans if p["title"] == "RT Plan RTC Electron")
    assert electron["beams"][0] | {"name": ""} == {
        "beam": 1, "name": "", "type": "static-electron", "radiation": "ELECTRON",
        "energy": "9 MeV", "applicator": "A10 (ELECTRON_SQUARE)", "wedges": "",
        "modifiers": "1 bolus, 1 block", "control_points": 2, "gantry": "0°", "couch": "0°",
        "mu": "212"}
    assert {b["type"] for p in plans for b in p["beams"]} >= set(TECHNIQUES)  # + reference
    errors = []
    with chromium_page(viewport={"width": 1200, "height": 900}) as page:
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(written["html"].as_uri())
        views = page.evaluate("Array.from(document.querySelectorAll('div.bev img'))"
                              ".map(i => i.complete && i.naturalWidth)")
        tables = page.evaluate("document.querySelectorAll('table.beams').length")
        page.locator("#plans").scroll_into_view_if_needed()
        shot = artifacts_dir("report") / "report-beams.png"
        page.screenshot(path=str(shot))
    assert errors == []
    assert tables == len(plans) and len(views) >= 14 and all(w and w > 100 for w in views)
    assert shot.stat().st_size > 10_000


def test_a_broken_planner_fails_with_row_beam_and_control_point(tmp_path):
    """The embedded planner stores a VMAT plan whose weights go down."""
    from rtconform.run.runner import run

    sut = _sut(tmp_path, actors=["Dosimetric Planner"], beam_types=["vmat"],
               embedded={"fault": "tppc-vmat-weights-down"})
    code, results = run(sut, tmp_path / "run")
    (result,) = results
    assert code == 1 and result.status == "failed"
    assert "TPPC-GEN-45: beam 1 'VMAT CW' (vmat), control point 30: Cumulative Meterset " \
           "Weight decreases" in result.message
    assert "TPPC-CONTROL-POINTS" in result.rule_ids


def test_a_long_value_sent_as_un_compares_as_sent(tppc_reference, tmp_path):
    """An Archive returning IHE-RO's BasicStatic plan in Explicit VR must send
    its 70 KB Compensator Thickness Data as UN (PS3.5 6.2.2): unchanged."""
    import warnings

    from pydicom.uid import ExplicitVRLittleEndian

    from rtconform.dicom.compare import differences

    sent = pydicom.dcmread(tppc_reference / "BasicStaticBeam" / "RTPlanBasicStaticBeam.dcm")
    copy_ = pydicom.dcmread(tppc_reference / "BasicStaticBeam" / "RTPlanBasicStaticBeam.dcm")
    copy_.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom says it writes UN: that is the point
        copy_.save_as(tmp_path / "back.dcm", enforce_file_format=True)
    back = pydicom.dcmread(tmp_path / "back.dcm")
    assert back.BeamSequence[0].CompensatorSequence[0]["CompensatorThicknessData"].VR == "UN"
    assert differences(sent, back) == []
    back.BeamSequence[0].CompensatorSequence[0].CompensatorThicknessData = ["1"] * 4125
    assert [d.path for d in differences(sent, back)] == [
        "BeamSequence[0].CompensatorSequence[0].CompensatorThicknessData"]


def test_an_operator_judges_a_real_plan_consumer(tmp_path, monkeypatch):
    """A TMS or viewer under test (here a Storage SCP of its own, over a real
    association): the harness sends the plan, an operator answers at the
    console (a pipe here), and the answer is the recorded evidence."""
    from rtconform.actors.archive import Archive, ArchiveConfig
    from rtconform.actors.recorder import AssociationRecorder
    from rtconform.profiles.tppc import scenarios as tppc
    from rtconform.run.scenario import Scenario
    from rtconform.run.session import RunContext
    from rtconform.run.sut import SutConfig

    consumer = Archive(ArchiveConfig(ae_title="TMS", store_dir=tmp_path / "tms"),
                       AssociationRecorder(tmp_path / "tms.jsonl"))
    consumer.start()
    read, write = os.pipe()
    try:
        sut = SutConfig(name="a TMS", actors=("Dose Displayer",), peer=consumer.peer,
                        embedded=False, interactive=True, timeout=10)
        assert tppc.not_applicable(sut, {"beam_type": "vmat"}, {"sut_dose_displayer"}) is None
        quiet = SutConfig(name="a TMS", peer=consumer.peer, embedded=False)
        assert "--interactive" in tppc.not_applicable(quiet, {}, {"sut_dose_displayer"})
        ctx = RunContext(tmp_path / "run", sut, ())
        scenario = Scenario(ctx, "consumer", tmp_path / "run" / "scenario")
        scenario.workdir.mkdir(parents=True)
        tppc.send_to_consumer(scenario, "vmat")
        assert scenario.statuses == [0]
        os.write(write, b"yes, every arc as planned\n")
        monkeypatch.setattr(sys, "stdin", os.fdopen(read, "r"))
        verdict, evidence = tppc.consumer_shows(scenario, "vmat")
        scenario.stop()
        received = len(consumer.store.rows())
    finally:
        os.close(write)
        consumer.stop()
    assert verdict and evidence == "operator: yes, every arc as planned"
    notes = [json.loads(line) for line in ctx.recorder.path.read_text().splitlines()
             if '"operator"' in line]
    assert notes and notes[-1]["answer"] == "yes, every arc as planned"
    assert received == 1  # it really received the plan

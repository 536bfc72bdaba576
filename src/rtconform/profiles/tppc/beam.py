"""TPPC rules on each beam, by the beam type detected from its content
(`beams.detect`): the attributes every beam needs, its Beam and Radiation
Type, its modifiers' counts, its applicator, its number of control points,
its beam limiting devices and, with a fixed-SSD setup, its SSD. The IHE-RO
test tool checks beam 1 of a plan against the type its operator chose."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.values import integer, items, number, numbers, text
from rtconform.findings import Severity
from rtconform.profiles.tppc.beams import (
    BLD_GROUPS,
    JAWS,
    MLCS,
    UNLIMITED,
    Beam,
    beams,
    device_positions,
    why_none,
)
from rtconform.profiles.tppc.common import each_plan, has_value, missing, present, rule, tool
from rtconform.rules.registry import Issue, RuleContext

BEAM_ATTRIBUTES = (
    ("TPPC-GEN-54", "BeamName"), ("TPPC-GEN-58", "TreatmentMachineName"),
    ("TPPC-GEN-59", "PrimaryDosimeterUnit"), ("TPPC-GEN-61", "SourceAxisDistance"),
    ("TPPC-GEN-66", "ReferencedPatientSetupNumber"), ("TPPC-GEN-68", "TreatmentDeliveryType"),
    ("TPPC-GEN-69", "NumberOfWedges"), ("TPPC-GEN-70", "NumberOfCompensators"),
    ("TPPC-GEN-71", "NumberOfBoli"), ("TPPC-GEN-72", "NumberOfBlocks"),
    ("TPPC-GEN-74", "NumberOfControlPoints"), ("TPPC-MOD-WDG-02", "ControlPointSequence"),
    ("TPPC-GEN-77", "PrimaryFluenceModeSequence"))


def _issue(plan: Instance, beam: Beam, row: str, what: str, path: str,
           k: int | None = None, severity: Severity | None = None) -> Issue:
    return Issue(beam.say(row, what, k), path, plan, severity)


@rule("TPPC-BEAM-ATTRIBUTES", Severity.ERROR,
      "Every beam has Beam Number ≥ 1, Beam Name, Treatment Machine Name, Primary Dosimeter Unit "
      "MU, Source-Axis Distance, a Referenced Patient Setup Number ≥ 1, Treatment Delivery Type, "
      "the numbers of wedges, compensators, boli, blocks and control points, a Control Point "
      "Sequence and a Primary Fluence Mode (Fluence Mode ID FFF when NON_STANDARD)",
      tool("TPPC-GEN-53, -54, -58…61, -66…72, -74, -77…79", "TPPC-MOD-WDG-02",
           "(IsRequiredRule, ValueRule, ValueEqualOrHigherRule, "
           "ConditionalRequiredValueRuleTPPC; the tool: beam 1 for most)"))
@each_plan
def beam_attributes(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        ds = beam.dataset
        for row, message, path in missing(ds, BEAM_ATTRIBUTES, beam.path):
            yield _issue(plan, beam, row, message, path)
        for row, keyword in (("TPPC-GEN-53", "BeamNumber"),
                             ("TPPC-GEN-67", "ReferencedPatientSetupNumber")):
            value = integer(ds, keyword)
            if present(ds, keyword) and (value is None or value < 1):
                yield _issue(plan, beam, row, f"{keyword} {text(ds, keyword) or '(empty)'}, "
                             "expected an integer ≥ 1", f"{beam.path}.{keyword}")
        if not present(ds, "BeamNumber"):
            yield _issue(plan, beam, "TPPC-GEN-53", "Beam Number is absent",
                         f"{beam.path}.BeamNumber")
        unit = text(ds, "PrimaryDosimeterUnit")
        if present(ds, "PrimaryDosimeterUnit") and unit != "MU":
            yield _issue(plan, beam, "TPPC-GEN-60", f"Primary Dosimeter Unit {unit or '(empty)'}"
                         ", expected MU", f"{beam.path}.PrimaryDosimeterUnit")
        for f, fluence in enumerate(items(ds, "PrimaryFluenceModeSequence")):
            path = f"{beam.path}.PrimaryFluenceModeSequence[{f}]"
            if not present(fluence, "FluenceMode"):
                yield _issue(plan, beam, "TPPC-GEN-78", "Fluence Mode is absent",
                             f"{path}.FluenceMode")
            elif text(fluence, "FluenceMode") == "NON_STANDARD" and \
                    text(fluence, "FluenceModeID") != "FFF":
                yield _issue(plan, beam, "TPPC-GEN-79", "Fluence Mode NON_STANDARD with Fluence "
                             f"Mode ID {text(fluence, 'FluenceModeID') or '(absent)'}, expected "
                             "FFF", f"{path}.FluenceModeID")


@rule("TPPC-BEAM-TYPE", Severity.ERROR,
      "Every beam is one of TPPC's 14 beam types (detected from its content; a beam that is "
      "none is a warning), with the Beam Type (STATIC/DYNAMIC) and Radiation Type it requires",
      tool("TPPC-GEN-55, -56", "TPPC-<type>-01, -02 of each beam type",
           "(IsRequiredRule, ValueRule; the tool: beam 1 against the type the operator chose)",
           note="the type is detected per beam: radiation, applicator, gantry motion, leaf and "
                "jaw motion with or without beam, wedge types, dose-rate modulation"))
@each_plan
def beam_type(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        ds = beam.dataset
        for row, keyword in (("TPPC-GEN-55", "BeamType"), ("TPPC-GEN-56", "RadiationType")):
            if not present(ds, keyword):
                yield _issue(plan, beam, row, f"{keyword} is absent", f"{beam.path}.{keyword}")
        spec = beam.spec
        if spec is None:
            yield _issue(plan, beam, "TPPC beam types", f"none of TPPC's 14 beam types "
                         f"({why_none(ds)}): judged by the common rules only", beam.path,
                         severity=Severity.WARNING)
            continue
        for concept, keyword, want in (("beam_type", "BeamType", spec.beam_type),
                                       ("radiation", "RadiationType", spec.radiation)):
            got = text(ds, keyword)
            if present(ds, keyword) and got != want:
                yield _issue(plan, beam, spec.row(concept), f"{keyword} {got or '(empty)'}, "
                             f"expected {want} for a {spec.key} beam", f"{beam.path}.{keyword}")


@rule("TPPC-BEAM-HIGH-DOSE", Severity.ERROR,
      "High-Dose Technique Type, where sent, is one the beam type allows (NORMAL; NORMAL or HDR "
      "for VMAT, a warning there as the tool's information)",
      tool("TPPC-ARC-03", "TPPC-MFA-03", "TPPC-SAS-03", "TPPC-SW-03", "TPPC-VMAT-03",
           "(ValueRule, ValueListRule (info))"))
@each_plan
def high_dose(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        spec = beam.spec
        if spec is None or not spec.high_dose or not present(beam.dataset,
                                                              "HighDoseTechniqueType"):
            continue
        value = text(beam.dataset, "HighDoseTechniqueType")
        if value not in spec.high_dose:
            yield _issue(plan, beam, spec.row("high_dose"),
                         f"High-Dose Technique Type {value or '(empty)'}, expected "
                         f"{' or '.join(sorted(spec.high_dose))}",
                         f"{beam.path}.HighDoseTechniqueType",
                         severity=Severity.WARNING if spec.key == "vmat" else None)


def _allowed(bounds: tuple[int, int]) -> str:
    lo, hi = bounds
    if lo == hi:
        return f"{lo}"
    return f"at least {lo}" if hi == UNLIMITED else f"{lo} to {hi}"


@rule("TPPC-BEAM-MODIFIER-COUNTS", Severity.ERROR,
      "Number of Wedges, Compensators and Blocks within what the beam type allows",
      tool("TPPC-<type>-03…06 of each beam type (Number of Wedges, Compensators, Blocks)",
           "(ValueRule, ValueInRangeRule; absent passes: presence is TPPC-BEAM-ATTRIBUTES)"))
@each_plan
def modifier_counts(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        spec = beam.spec
        if spec is None:
            continue
        for concept, keyword, bounds in (("wedges", "NumberOfWedges", spec.wedges),
                                         ("compensators", "NumberOfCompensators",
                                          spec.compensators),
                                         ("blocks", "NumberOfBlocks", spec.blocks)):
            if not present(beam.dataset, keyword):
                continue
            value = integer(beam.dataset, keyword)
            if value is None or not bounds[0] <= value <= bounds[1]:
                yield _issue(plan, beam, spec.row(concept),
                             f"{keyword} {text(beam.dataset, keyword) or '(empty)'}, a "
                             f"{spec.key} beam has {_allowed(bounds)}",
                             f"{beam.path}.{keyword}")


@rule("TPPC-BEAM-APPLICATOR", Severity.ERROR,
      "An electron or photon applicator beam has exactly one applicator with its ID and type "
      "(a photon cone: PHOTON_CIRC with a SYM_CIRCULAR aperture and its opening); other beam "
      "types have none",
      tool("TPPC-<type>-06/07 (absent)", "TPPC-ELEC-06…09", "TPPC-PA-06…13", "TPPC-PAA-06…13",
           "(NotPresentRule, IsRequiredRule, SequenceRangeRule, ValueRule; the tool: beam 1 "
           "for some)"))
@each_plan
def applicator(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        spec = beam.spec
        if spec is None:
            continue
        ds, path = beam.dataset, f"{beam.path}.ApplicatorSequence"
        applicators = items(ds, "ApplicatorSequence")
        if spec.applicator is None:
            if present(ds, "ApplicatorSequence"):
                yield _issue(plan, beam, spec.row("applicator"), "an Applicator Sequence in a "
                             f"{spec.key} beam", path)
            continue
        if not applicators:
            yield _issue(plan, beam, spec.row("applicator"), "no applicator", path)
            continue
        if len(applicators) != 1:
            yield _issue(plan, beam, spec.row("applicator_items"),
                         f"{len(applicators)} applicators, expected exactly 1", path)
        for a, item in enumerate(applicators):
            at = f"{path}[{a}]"
            for concept, keyword in (("applicator_id", "ApplicatorID"),
                                     ("applicator_type", "ApplicatorType")):
                if not present(item, keyword):
                    yield _issue(plan, beam, spec.row(concept), f"applicator {a}: {keyword} is "
                                 "absent", f"{at}.{keyword}")
            if spec.applicator != "PHOTON":
                continue
            kind = text(item, "ApplicatorType")
            if present(item, "ApplicatorType") and kind != "PHOTON_CIRC":
                yield _issue(plan, beam, spec.row("applicator_value"), f"applicator {a}: "
                             f"Applicator Type {kind or '(empty)'}, expected PHOTON_CIRC (a "
                             "cone)", f"{at}.ApplicatorType")
            geometry = items(item, "ApplicatorGeometrySequence")
            if not geometry:
                yield _issue(plan, beam, spec.row("applicator_geometry"), f"applicator {a}: no "
                             "Applicator Geometry Sequence", f"{at}.ApplicatorGeometrySequence")
            for g, shape in enumerate(geometry):
                where = f"{at}.ApplicatorGeometrySequence[{g}]"
                value = text(shape, "ApplicatorApertureShape")
                if value != "SYM_CIRCULAR":
                    yield _issue(plan, beam, spec.row("aperture_shape"), f"applicator {a}: "
                                 f"Applicator Aperture Shape {value or '(absent)'}, expected "
                                 "SYM_CIRCULAR", f"{where}.ApplicatorApertureShape")
                if not present(shape, "ApplicatorOpening"):
                    yield _issue(plan, beam, spec.row("opening"), f"applicator {a}: Applicator "
                                 "Opening is absent", f"{where}.ApplicatorOpening")


@rule("TPPC-BEAM-CONTROL-POINTS", Severity.ERROR,
      "Number of Control Points as the beam type requires (2; 4 for a motorized wedge; at least "
      "2 for modulated beams); a step-and-shoot beam has 2 per segment, its leaves moving while "
      "the weight stays (CP 2n+1 = CP 2n+2)",
      tool("TPPC-<type> Number of Control Points rows", "TPPC-SAS-08", "TPPC-SAS-15",
           "(ValueRule, ValueInRangeRule; the tool: beam 1; SAS-15 on the rule sheet only)"))
@each_plan
def control_point_count(plan: Instance, graph: ObjectGraph, ctx: RuleContext
                        ) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        spec = beam.spec
        if spec is None:
            continue
        ds = beam.dataset
        count = integer(ds, "NumberOfControlPoints")
        if count is None:
            count = len(items(ds, "ControlPointSequence"))
        lo, hi = spec.control_points
        if not lo <= count <= hi:
            yield _issue(plan, beam, spec.row("control_points"), f"{count} control points, a "
                         f"{spec.key} beam has {_allowed(spec.control_points)}",
                         f"{beam.path}.NumberOfControlPoints")
        if spec.key != "step-and-shoot":
            continue
        if count % 2:
            yield _issue(plan, beam, spec.row("control_points"), f"{count} control points: "
                         "step and shoot has 2 per segment (2n)",
                         f"{beam.path}.NumberOfControlPoints")
        cps = items(ds, "ControlPointSequence")
        for k in range(1, len(cps) - 1, 2):
            a, b = (number(cps[i], "CumulativeMetersetWeight") for i in (k, k + 1))
            if a is not None and b is not None and abs(a - b) > 1e-9:
                yield _issue(plan, beam, spec.row("segments"), f"Cumulative Meterset Weight "
                             f"{a:g} at control point {k} and {b:g} at {k + 1}: a segment ends "
                             "where the next begins, with the beam off", beam.cp(k + 1)
                             + ".CumulativeMetersetWeight", k + 1)


def _group_ok(group: str, jaws: int, mlcs: int) -> bool:
    if group == "G1":
        return jaws == 2 and mlcs == 0
    if group == "G2":
        return (jaws >= 1 and mlcs == 1) or (jaws >= 2 and mlcs == 0)
    return mlcs >= 1


@rule("TPPC-BLD", Severity.ERROR,
      "Beam limiting devices: every beam declares them, each of a defined type, the jaws and "
      "MLCs its beam type allows, Leaf Position Boundaries for every MLC; control point 0 "
      "positions every device, and at every control point jaws are ordered and leaves never "
      "cross",
      tool("TPPC-GEN-44", "TPPC-GEN-62…65", "TPPC-<type> BLD types rows", "TPPC-BSM-15",
           "TPPC-MFA-14", "(BeamLimitingDeviceTypeRule; the tool: beam 1; GEN-65 inert, BSM-15 "
           "and MFA-14 on the rule sheets only)"))
@each_plan
def beam_limiting_devices(plan: Instance, graph: ObjectGraph, ctx: RuleContext
                          ) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        ds = beam.dataset
        devices = items(ds, "BeamLimitingDeviceSequence")
        path = f"{beam.path}.BeamLimitingDeviceSequence"
        if not present(ds, "BeamLimitingDeviceSequence"):
            yield _issue(plan, beam, "TPPC-GEN-62", "Beam Limiting Device Sequence is absent",
                         path)
            continue
        kinds = []
        for d, device in enumerate(devices):
            kind = text(device, "RTBeamLimitingDeviceType")
            kinds.append(kind)
            if not present(device, "RTBeamLimitingDeviceType"):
                yield _issue(plan, beam, "TPPC-GEN-63", f"device {d}: RT Beam Limiting Device "
                             "Type is absent", f"{path}[{d}].RTBeamLimitingDeviceType")
            elif kind not in JAWS | MLCS:
                yield _issue(plan, beam, "TPPC-GEN-64", f"device {d}: RT Beam Limiting Device "
                             f"Type {kind or '(empty)'} is none of X, Y, ASYMX, ASYMY, MLCX, "
                             "MLCY", f"{path}[{d}].RTBeamLimitingDeviceType")
            if kind in MLCS and not numbers(device, "LeafPositionBoundaries"):
                row = beam.spec.row("leaf_boundaries") if beam.spec and \
                    beam.spec.has("leaf_boundaries") else "TPPC-GEN-65"
                yield _issue(plan, beam, row, f"the {kind} has no Leaf Position Boundaries",
                             f"{path}[{d}].LeafPositionBoundaries")
        jaws = sum(k in JAWS for k in kinds)
        mlcs = sum(k in MLCS for k in kinds)
        if beam.spec is not None and not _group_ok(beam.spec.bld_group, jaws, mlcs):
            yield _issue(plan, beam, beam.spec.row("bld"), f"{jaws} jaw(s) and {mlcs} MLC(s) "
                         f"({', '.join(kinds)}); a {beam.spec.key} beam has "
                         f"{BLD_GROUPS[beam.spec.bld_group]}", path)
        yield from _positions(plan, beam, set(kinds))


def _positions(plan: Instance, beam: Beam, declared: set[str]) -> Iterator[Issue]:
    cps = items(beam.dataset, "ControlPointSequence")
    if not cps:
        return
    first = {text(p, "RTBeamLimitingDeviceType")
             for p in items(cps[0], "BeamLimitingDevicePositionSequence")}
    for kind in sorted(declared - first):
        if kind:
            yield _issue(plan, beam, "TPPC-GEN-44", f"no Leaf/Jaw Positions for the declared "
                         f"{kind}", f"{beam.cp(0)}.BeamLimitingDevicePositionSequence", 0)
    states = device_positions(beam.dataset)
    yield from _positions_given(plan, beam, cps, states)
    yield from _crossings(plan, beam, cps, states)


def _positions_given(plan: Instance, beam: Beam, cps: list, states: list[dict]
                     ) -> Iterator[Issue]:
    """Every control point gives the positions when something moves; only
    control point 0 when nothing does."""
    given = [k for k, cp in enumerate(cps) if present(cp, "BeamLimitingDevicePositionSequence")]
    moving = any(a != b for a, b in pairwise(states))
    absent = [k for k in range(len(cps)) if k not in given]
    if moving and absent:
        yield _issue(plan, beam, "TPPC-GEN-44", "the leaves or jaws move during the beam, so every "
                     "control point gives a Beam Limiting Device Position Sequence; control point "
                     f"{absent[0]} does not",
                     f"{beam.cp(absent[0])}.BeamLimitingDevicePositionSequence", absent[0])
    elif not moving and given[1:]:
        yield _issue(plan, beam, "TPPC-GEN-44", "Beam Limiting Device Position Sequence repeated "
                     f"unchanged at control point {given[1]}: nothing moves during the beam, so "
                     "only control point 0 gives it",
                     f"{beam.cp(given[1])}.BeamLimitingDevicePositionSequence", given[1])


def _crossings(plan: Instance, beam: Beam, cps: list, states: list[dict]) -> Iterator[Issue]:
    """Jaws in order and leaves that do not cross, where a control point
    gives positions; each crossing reported once."""
    reported: set[tuple[str, int]] = set()
    for k, state in enumerate(states):
        if not any(text(p, "RTBeamLimitingDeviceType")
                   for p in items(cps[k], "BeamLimitingDevicePositionSequence")):
            continue  # nothing new at this control point
        for kind, values in state.items():
            crossed = _crossed_pairs(values)
            if crossed and (kind, crossed[0]) not in reported:
                reported.add((kind, crossed[0]))
                half = len(values) // 2
                what = ("jaw positions out of order" if kind in JAWS else
                        f"{len(crossed)} leaf pair(s) cross (bank A beyond bank B), first "
                        f"pair {crossed[0] + 1}")
                yield _issue(plan, beam, "TPPC-GEN-44", f"{kind}: {what}: "
                             f"{values[crossed[0]]:g} > {values[half + crossed[0]]:g}",
                             f"{beam.cp(k)}.BeamLimitingDevicePositionSequence", k)


def _crossed_pairs(values: tuple[float, ...]) -> list[int]:
    """The pairs whose bank A is beyond bank B; none where the count is odd
    or zero (that is PLAN-BEAM-LIMITING-DEVICE's)."""
    half = len(values) // 2
    if len(values) % 2 or not half:
        return []
    return [i for i in range(half) if values[i] > values[half + i] + 1e-6]


@rule("TPPC-SSD", Severity.ERROR,
      "With a fixed-SSD setup, control point 0 of every beam of a type with SSD rows gives its "
      "Source to Surface Distance and Source to External Contour Distance",
      tool("TPPC-BS-09/10", "TPPC-BSM-08/09", "TPPC-MVA-09/10", "TPPC-HW-08/09",
           "TPPC-VW-08/09", "TPPC-MW-08/09", "TPPC-ELEC-11/12",
           "(RequiredConditionalRule; the tool: Patient Setup 1 and beam 1 only)",
           note="each beam's own patient setup is looked at"))
@each_plan
def source_to_surface(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    setups = {integer(s, "PatientSetupNumber"): text(s, "SetupTechnique")
              for s in items(plan.dataset, "PatientSetupSequence")}
    for beam in beams(plan.dataset):
        spec = beam.spec
        if spec is None or not spec.ssd:
            continue
        setup = setups.get(integer(beam.dataset, "ReferencedPatientSetupNumber"))
        if setup != "FIXED_SSD":
            continue
        cps = items(beam.dataset, "ControlPointSequence")
        first = cps[0] if cps else None
        for concept, keyword in (("ssd", "SourceToSurfaceDistance"),
                                 ("external_contour", "SourceToExternalContourDistance")):
            if not has_value(first, keyword):
                yield _issue(plan, beam, spec.row(concept), f"{keyword} is absent or empty, "
                             "though the patient setup is FIXED_SSD",
                             f"{beam.cp(0)}.{keyword}", 0)

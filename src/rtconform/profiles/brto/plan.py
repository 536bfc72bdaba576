"""BRTO rules for RT Plans: what a Geometric Planner (RO-3) and a Dosimetric
Planner (RO-4) store. BRTO plans are photon, 3D conformal, one fraction group;
a geometric plan has exactly two control points per beam and no metersets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydicom.dataset import Dataset

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.rt import is_dosimetric, non_treatment_beam
from rtconform.dicom.values import integer, items, number, text, uid_of
from rtconform.findings import Severity
from rtconform.profiles.brto.common import BRTO, produced, tool
from rtconform.rules.registry import Issue, RuleContext, rule

RO3_4 = f"{BRTO} RO-3/RO-4"
RO3 = f"{BRTO} RO-3"
RO4 = f"{BRTO} RO-4"
MLC = {"MLCX", "MLCY"}
BEAM_REQUIRED = ("SourceAxisDistance", "ReferencedPatientSetupNumber", "NumberOfWedges",
                 "NumberOfCompensators", "NumberOfBoli", "NumberOfBlocks",
                 "NumberOfControlPoints")
# What the second control point of a geometric plan must not carry (the
# tool's ControlPointSequenceRule list).
NOT_IN_SECOND_CONTROL_POINT = (
    "ReferencedDoseReferenceSequence", "ReferencedDoseSequence", "NominalBeamEnergy",
    "DoseRateSet", "WedgePositionSequence", "BeamLimitingDevicePositionSequence", "GantryAngle",
    "GantryRotationDirection", "GantryPitchAngle", "GantryPitchRotationDirection",
    "BeamLimitingDeviceAngle", "BeamLimitingDeviceRotationDirection", "PatientSupportAngle",
    "PatientSupportRotationDirection", "TableTopEccentricAxisDistance", "TableTopEccentricAngle",
    "TableTopEccentricRotationDirection", "TableTopVerticalPosition",
    "TableTopLongitudinalPosition", "TableTopLateralPosition", "IsocenterPosition",
    "SurfaceEntryPoint", "SourceToSurfaceDistance",
)


def _beams(plan: Instance) -> Iterator[tuple[str, Dataset]]:
    for b, beam in enumerate(items(plan.dataset, "BeamSequence")):
        yield f"BeamSequence[{b}]", beam


def _label(beam: Dataset) -> str:
    return f"beam {integer(beam, 'BeamNumber')} {text(beam, 'BeamName')!r}"


def source_plan(graph: ObjectGraph, ctx: RuleContext, plan: Instance) -> Instance | None:
    """The plan this one was made from: a plan the actor was given (RO-8),
    else the plan it references (RT Plan Relationship PREDECESSOR)."""
    given = [g for g in ctx.given.values() if g.kind == "rtplan" and g is not plan]
    if given:
        return given[0]
    for ref in items(plan.dataset, "ReferencedRTPlanSequence"):
        target = graph.get(uid_of(ref))
        if target is not None and target.kind == "rtplan" and target is not plan:
            return target
    return None


@rule("BRTO-PLAN-FRACTION-GROUP", Severity.ERROR,
      "One fraction group, with Number of Brachy Application Setups 0",
      f"{RO3_4} (R+*); "
      + tool("BRTO-RO3-16…18", "BRTO-RO4-16…18", "(NrIntOfSequenceItemRule, ValueRule)"),
      profile="brto")
def fraction_group(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        groups = items(plan.dataset, "FractionGroupSequence")
        if len(groups) != 1:
            yield Issue(f"Fraction Group Sequence has {len(groups)} items, expected 1",
                        "FractionGroupSequence", plan)
        for g, group in enumerate(groups):
            value = integer(group, "NumberOfBrachyApplicationSetups")
            if value != 0:
                yield Issue(f"Number of Brachy Application Setups is "
                            f"{value if 'NumberOfBrachyApplicationSetups' in group else 'absent'}"
                            ", expected 0",
                            f"FractionGroupSequence[{g}].NumberOfBrachyApplicationSetups", plan)


@rule("BRTO-DOSIMETRIC-PLAN", Severity.ERROR,
      "A dosimetric plan plans fractions (Number of Fractions Planned > 0) and gives a Beam "
      "Meterset to every treatment beam it references (setup and imaging beams need none)",
      f"{RO4} (ICT rule sheet, Dosimetric Planner scenario); beside "
      + tool("BRTO-RO4-16") + " (its one fraction group: BRTO-PLAN-FRACTION-GROUP); "
      "DICOM PS3.3 C.8.8.13 makes Beam Meterset Type 3, so the default profile asks neither",
      profile="brto")
def dosimetric_plan(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        if not is_dosimetric(plan.dataset):
            continue  # a geometric plan (RO-3): no metersets expected
        beams = {integer(b, "BeamNumber"): b for b in items(plan.dataset, "BeamSequence")}
        for g, group in enumerate(items(plan.dataset, "FractionGroupSequence")):
            fractions = integer(group, "NumberOfFractionsPlanned")
            if not fractions or fractions <= 0:
                yield Issue(f"Number of Fractions Planned is {fractions}",
                            f"FractionGroupSequence[{g}].NumberOfFractionsPlanned", plan)
            for r, ref in enumerate(items(group, "ReferencedBeamSequence")):
                number_ = integer(ref, "ReferencedBeamNumber")
                beam = beams.get(number_)
                if number(ref, "BeamMeterset") is not None or \
                        (beam is not None and non_treatment_beam(beam)):
                    continue
                yield Issue(f"treatment beam {number_} has no Beam Meterset",
                            f"FractionGroupSequence[{g}].ReferencedBeamSequence[{r}]"
                            ".BeamMeterset", plan)


@rule("BRTO-PLAN-BEAM-NAMES", Severity.ERROR,
      "Every beam has a Beam Name, unique within the plan",
      f"{RO3_4} (Beam Name R+); "
      + tool("BRTO-RO3-19", "BRTO-RO4-19", "(BeamNameIsUniqueRule)"), profile="brto")
def beam_names(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        if not items(plan.dataset, "BeamSequence"):
            yield Issue("Beam Sequence is absent or empty", "BeamSequence", plan)
        names = Counter()
        for path, beam in _beams(plan):
            name = text(beam, "BeamName")
            if not name:
                yield Issue(f"beam {integer(beam, 'BeamNumber')} has no Beam Name",
                            f"{path}.BeamName", plan)
            names[name] += 1
        for name, count in sorted(names.items()):
            if name and count > 1:
                yield Issue(f"Beam Name {name!r} is used by {count} beams", "BeamSequence", plan)


@rule("BRTO-PLAN-BEAMS-KEPT", Severity.ERROR,
      "A plan made from another plan keeps its beams: the same Beam Name for each Beam "
      "Number, and at least its blocks",
      f"{RO3_4}; "
      + tool("BRTO-RO3-20", "BRTO-RO3-33", "BRTO-RO4-20", "BRTO-RO4-32",
             "(BeamNameNotChangedRule, BlockRule)")
      + "; compared with the plan the actor was given, not the tool's reference file",
      profile="brto")
def beams_kept(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        source = source_plan(graph, ctx, plan)
        if source is None:
            continue
        before = {integer(b, "BeamNumber"): b for b in items(source.dataset, "BeamSequence")}
        for path, beam in _beams(plan):
            old = before.get(integer(beam, "BeamNumber"))
            if old is None:
                continue
            if text(beam, "BeamName") != text(old, "BeamName"):
                yield Issue(f"{_label(beam)} was {text(old, 'BeamName')!r} in {source.label}",
                            f"{path}.BeamName", plan)
            had, has = len(items(old, "BlockSequence")), len(items(beam, "BlockSequence"))
            if has < had:
                yield Issue(f"{_label(beam)} has {has} blocks; {source.label} gave it {had}",
                            f"{path}.BlockSequence", plan)


@rule("BRTO-PLAN-BEAM-TYPE", Severity.ERROR, "Beam Type STATIC or DYNAMIC",
      f"{RO3_4} (R+*); "
      + tool("BRTO-RO3-21", "BRTO-RO3-22", "BRTO-RO4-21", "BRTO-RO4-22",
             "(IsRequiredRule, ValueListRule)"), profile="brto")
def beam_type(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    yield from _beam_values(produced(ctx, graph.plans), "BeamType", ("STATIC", "DYNAMIC"))


@rule("BRTO-PLAN-RADIATION-TYPE", Severity.ERROR, "Radiation Type PHOTON (BRTO plans are photon)",
      f"{RO3_4} (R+*); "
      + tool("BRTO-RO3-23", "BRTO-RO3-24", "BRTO-RO4-23", "BRTO-RO4-24",
             "(IsRequiredRule, ValueRule)"), profile="brto")
def radiation_type(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    yield from _beam_values(produced(ctx, graph.plans), "RadiationType", ("PHOTON",))


def _beam_values(plans: list[Instance], keyword: str, allowed: tuple[str, ...]
                 ) -> Iterator[Issue]:
    """Every beam's `keyword` is one of `allowed` (absent fails: R+*)."""
    for plan in plans:
        for path, beam in _beams(plan):
            value = text(beam, keyword)
            if value not in allowed:
                yield Issue(f"{_label(beam)}: {keyword} {value or '(absent)'}, expected "
                            f"{' or '.join(allowed)}", f"{path}.{keyword}", plan)


@rule("BRTO-PLAN-BEAM-REQUIRED", Severity.ERROR,
      "Every beam has Source-Axis Distance, Referenced Patient Setup Number and the numbers of "
      "wedges, compensators, boli, blocks and control points",
      f"{RO3_4} (R+*); "
      + tool("BRTO-RO3-26", "BRTO-RO3-28", "BRTO-RO3-33", "BRTO-RO3-40", "BRTO-RO4-25",
             "BRTO-RO4-27…30", "BRTO-RO4-32", "(IsRequiredRule)"), profile="brto")
def beam_required(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        for path, beam in _beams(plan):
            for keyword in BEAM_REQUIRED:
                if keyword not in beam or beam[keyword].value in (None, ""):
                    yield Issue(f"{_label(beam)}: {keyword} is absent", f"{path}.{keyword}",
                                plan)


@rule("BRTO-PLAN-BEAM-LIMITING-DEVICES", Severity.ERROR,
      "Every beam declares its beam limiting devices; besides MLCs, 0 or 2 jaws",
      f"{RO3_4}; " + tool("BRTO-RO3-27", "BRTO-RO4-26", "(BeamLimitingDeviceSequenceRule)"),
      profile="brto")
def beam_limiting_devices(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        for path, beam in _beams(plan):
            devices = items(beam, "BeamLimitingDeviceSequence")
            if not devices:
                yield Issue(f"{_label(beam)}: no Beam Limiting Device Sequence",
                            f"{path}.BeamLimitingDeviceSequence", plan)
                continue
            jaws = [text(d, "RTBeamLimitingDeviceType") for d in devices
                    if text(d, "RTBeamLimitingDeviceType") not in MLC]
            if len(devices) > 1 and len(jaws) not in (0, 2):
                yield Issue(f"{_label(beam)}: {len(jaws)} jaws {jaws}; expected 0 or 2",
                            f"{path}.BeamLimitingDeviceSequence", plan)


@rule("BRTO-PLAN-BLOCKS", Severity.ERROR,
      "Blocks: Number of Blocks matches the Block Sequence, at most one APERTURE per beam, each "
      "block with Block Divergence, at least 3 points and 2 Block Data values per point",
      f"{RO3_4} (R+*); "
      + tool("BRTO-RO3-32", "BRTO-RO3-35…37", "BRTO-RO4-31", "BRTO-RO4-34…36",
             "(BlockRule, BlockNumberofPointsRule, BlockDataRule, IsRequiredRule)"),
      profile="brto")
def blocks(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        for path, beam in _beams(plan):
            seq = items(beam, "BlockSequence")
            declared = integer(beam, "NumberOfBlocks")
            if "NumberOfBlocks" in beam and declared != len(seq):
                yield Issue(f"{_label(beam)}: Number of Blocks {declared} for {len(seq)} blocks",
                            f"{path}.NumberOfBlocks", plan)
            apertures = sum(text(b, "BlockType") == "APERTURE" for b in seq)
            if apertures > 1:
                yield Issue(f"{_label(beam)}: {apertures} APERTURE blocks, at most 1",
                            f"{path}.BlockSequence", plan)
            for k, block in enumerate(seq):
                where = f"{path}.BlockSequence[{k}]"
                points = integer(block, "BlockNumberOfPoints")
                if points is None or points < 3:
                    yield Issue(f"{_label(beam)}: Block Number of Points {points}, at least 3",
                                f"{where}.BlockNumberOfPoints", plan)
                values = block.get("BlockData")
                count = len(values) if isinstance(values, list | tuple) or \
                    type(values).__name__ == "MultiValue" else (0 if values is None else 1)
                if points is not None and count != 2 * points:
                    yield Issue(f"{_label(beam)}: Block Data holds {count} values for "
                                f"{points} points (2 per point)", f"{where}.BlockData", plan)
                if not text(block, "BlockDivergence"):
                    yield Issue(f"{_label(beam)}: Block Divergence is absent",
                                f"{where}.BlockDivergence", plan)


@rule("BRTO-PLAN-BLOCKS-SUPPORTED", Severity.WARNING,
      "At least one beam carries a block (the IHE-RO test tool fails a plan without blocks)",
      f"{RO3_4} ('up to 8 blocks shall be supported'); "
      + tool("BRTO-RO3-34", "BRTO-RO3-36", "BRTO-RO4-33", "BRTO-RO4-35", "(BlockRule)")
      + "; a warning here: the profile does not oblige a plan to use blocks, the tool compares "
        "with a reference plan the Geometric Planner was never given", profile="brto")
def blocks_supported(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in produced(ctx, graph.plans):
        if items(plan.dataset, "BeamSequence") and not any(
                items(beam, "BlockSequence") for _, beam in _beams(plan)):
            yield Issue("no beam has a Block Sequence: the IHE-RO test tool reports an error "
                        "(BlockRule) for such a plan", "BeamSequence", plan)


# -- the geometric plan (RO-3) ------------------------------------------------------------
def _geometric(ctx: RuleContext, graph: ObjectGraph) -> list[Instance]:
    return [p for p in produced(ctx, graph.plans) if not is_dosimetric(p.dataset)]


@rule("BRTO-GEOMETRIC-PLAN-BEAMS", Severity.ERROR,
      "A geometric plan's beams have no wedges, compensators or boli, no High-Dose Technique "
      "Type and no Final Cumulative Meterset Weight",
      f"{RO3} (O+* 'shall not be present', R+* value 0); "
      + tool("BRTO-RO3-25", "BRTO-RO3-29…31", "BRTO-RO3-38", "(NotPresentRule, ValueRule)"),
      profile="brto")
def geometric_beams(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in _geometric(ctx, graph):
        for path, beam in _beams(plan):
            for keyword in ("NumberOfWedges", "NumberOfCompensators", "NumberOfBoli"):
                value = integer(beam, keyword)
                if keyword in beam and value != 0:
                    yield Issue(f"{_label(beam)}: {keyword} {value}, expected 0",
                                f"{path}.{keyword}", plan)
            for keyword in ("HighDoseTechniqueType", "FinalCumulativeMetersetWeight"):
                if keyword in beam:
                    yield Issue(f"{_label(beam)}: {keyword} is present in a geometric plan",
                                f"{path}.{keyword}", plan)


@rule("BRTO-GEOMETRIC-PLAN-CONTROL-POINTS", Severity.ERROR,
      "A geometric plan has two control points per beam: the first with the beam's geometry, "
      "Gantry Rotation Direction NONE and positions of every declared device; the second with "
      "only Control Point Index 1; Cumulative Meterset Weight present and empty in both; no "
      "dose references or wedge positions",
      f"{RO3} (R+*, O+*); "
      + tool("BRTO-RO3-39", "BRTO-RO3-41…51",
             "(ValueRule; INERT in the tool: ControlPointSequenceRule, "
             "CumulativeMetersetWeightRule, ReferencedDoseReferenceSequenceRule, "
             "WedgePositionSequenceRule, BeamLimitingDevicePositionSequenceRule, "
             "GantryRotationDirectionRule)"), profile="brto")
def geometric_control_points(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in _geometric(ctx, graph):
        for path, beam in _beams(plan):
            for message, where in _geometric_beam(beam, path):
                yield Issue(f"{_label(beam)}: {message}", where, plan)


def _geometric_beam(beam: Dataset, path: str) -> Iterator[tuple[str, str]]:
    """(message, tag path) of each way a geometric beam's control points
    are not BRTO's two."""
    cps = items(beam, "ControlPointSequence")
    yield from _geometric_count(beam, cps, path)
    for c, cp in enumerate(cps):
        yield from _geometric_weight_and_references(cp, f"{path}.ControlPointSequence[{c}]")
    if cps:
        yield from _geometric_first(beam, cps[0], path)
    if len(cps) >= 2:
        yield from _geometric_second(cps[1], path)


def _geometric_count(beam: Dataset, cps: list[Dataset], path: str
                     ) -> Iterator[tuple[str, str]]:
    """Two control points, declared and present."""
    declared = integer(beam, "NumberOfControlPoints")
    if "NumberOfControlPoints" in beam and declared != 2:
        yield f"Number of Control Points {declared}, expected 2", f"{path}.NumberOfControlPoints"
    if len(cps) != 2:
        yield f"{len(cps)} control points, expected 2", f"{path}.ControlPointSequence"


def _geometric_weight_and_references(cp: Dataset, where: str) -> Iterator[tuple[str, str]]:
    """Cumulative Meterset Weight present and empty; no dose references or
    wedge positions."""
    if "CumulativeMetersetWeight" not in cp:
        yield "Cumulative Meterset Weight is absent (present and empty expected)", \
            f"{where}.CumulativeMetersetWeight"
    elif cp.CumulativeMetersetWeight not in (None, ""):
        yield (f"Cumulative Meterset Weight {cp.CumulativeMetersetWeight} (empty expected: "
               "a geometric plan has no metersets)"), f"{where}.CumulativeMetersetWeight"
    for keyword in ("ReferencedDoseReferenceSequence", "WedgePositionSequence"):
        if keyword in cp:
            yield f"{keyword} in a geometric plan", f"{where}.{keyword}"


def _geometric_first(beam: Dataset, first: Dataset, path: str) -> Iterator[tuple[str, str]]:
    """The first control point: no rotation, a position for every declared
    device."""
    if text(first, "GantryRotationDirection") != "NONE":
        yield (f"Gantry Rotation Direction {text(first, 'GantryRotationDirection') or '(absent)'}"
               ", expected NONE"), f"{path}.ControlPointSequence[0].GantryRotationDirection"
    positioned = {text(p, "RTBeamLimitingDeviceType")
                  for p in items(first, "BeamLimitingDevicePositionSequence")}
    for d, device in enumerate(items(beam, "BeamLimitingDeviceSequence")):
        kind = text(device, "RTBeamLimitingDeviceType")
        if not kind:
            yield "RT Beam Limiting Device Type is absent", \
                f"{path}.BeamLimitingDeviceSequence[{d}].RTBeamLimitingDeviceType"
        elif kind not in positioned:
            yield (f"control point 0 gives no position for the declared {kind}",
                   f"{path}.ControlPointSequence[0].BeamLimitingDevicePositionSequence")


def _geometric_second(second: Dataset, path: str) -> Iterator[tuple[str, str]]:
    """The second control point: only Control Point Index 1."""
    if integer(second, "ControlPointIndex") != 1:
        yield (f"the second control point has Control Point Index "
               f"{integer(second, 'ControlPointIndex')}, expected 1"), \
            f"{path}.ControlPointSequence[1].ControlPointIndex"
    extra = [k for k in NOT_IN_SECOND_CONTROL_POINT if k in second]
    if extra:
        yield (f"the second control point carries {', '.join(extra)}",
               f"{path}.ControlPointSequence[1]")


@rule("BRTO-GEOMETRIC-PLAN-APPLICATOR", Severity.WARNING,
      "A geometric plan has no Applicator Sequence",
      f"{RO3}; " + tool("BRTO-RO3-60 (rule sheet: not expected; receivers must cope)"),
      profile="brto")
def geometric_applicator(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in _geometric(ctx, graph):
        for path, beam in _beams(plan):
            if items(beam, "ApplicatorSequence"):
                yield Issue(f"{_label(beam)}: Applicator Sequence in a geometric plan",
                            f"{path}.ApplicatorSequence", plan)

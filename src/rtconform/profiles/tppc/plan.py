"""TPPC rules on the plan as a whole: general plan attributes, the study it
belongs to, the fraction scheme and its dose verification points, the
prescription and the control points' references to it (the checklist's
rows TPPC-GEN-03 … -29 and -46). Every referenced beam and every item is
checked, where the IHE-RO test tool looks at the first."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.values import integer, items, number, text, uid_of
from rtconform.findings import Severity
from rtconform.profiles.tppc.beams import beams
from rtconform.profiles.tppc.common import each_plan, missing, present, rule, tool
from rtconform.rules.registry import Issue, RuleContext

PLAN_ATTRIBUTES = (("TPPC-GEN-04", "Manufacturer"), ("TPPC-GEN-05", "ManufacturerModelName"),
                   ("TPPC-GEN-06", "SoftwareVersions"), ("TPPC-GEN-07", "RTPlanLabel"),
                   ("TPPC-GEN-08", "RTPlanDate"), ("TPPC-GEN-09", "RTPlanTime"),
                   ("TPPC-GEN-10", "PlanIntent"), ("TPPC-GEN-11", "RTPlanGeometry"),
                   ("TPPC-GEN-52", "BeamSequence"))


@rule("TPPC-PLAN-ATTRIBUTES", Severity.ERROR,
      "The plan names its equipment (Manufacturer, Model, Software Versions) and has RT Plan "
      "Label, Date, Time, Plan Intent, a Beam Sequence and RT Plan Geometry PATIENT",
      tool("TPPC-GEN-04…12", "TPPC-GEN-52", "(IsRequiredRule, ValueRule)"))
@each_plan
def plan_attributes(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    ds = plan.dataset
    for row, message, path in missing(ds, PLAN_ATTRIBUTES):
        yield Issue(f"{row}: {message}", path, plan)
    if present(ds, "BeamSequence") and not items(ds, "BeamSequence"):
        yield Issue("TPPC-GEN-52: Beam Sequence is empty", "BeamSequence", plan)
    geometry = text(ds, "RTPlanGeometry")
    if present(ds, "RTPlanGeometry") and geometry != "PATIENT":
        yield Issue(f"TPPC-GEN-12: RT Plan Geometry {geometry or '(empty)'}, expected PATIENT "
                    "(a plan on the patient's structure set)", "RTPlanGeometry", plan)


@rule("TPPC-PLAN-STUDY", Severity.ERROR,
      "A plan stays in the study of the structure set it was planned on",
      tool("TPPC-GEN-03", "(ValueRule, only when the tool sent its data)",
           note="compared with the structure set the planner was given, else the one the plan "
                "references, not with the tool's RTSTRUCT.dcm"))
@each_plan
def plan_study(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    given = [g for g in ctx.given.values() if g.kind == "rtstruct"]
    if given:
        source, how = given[0], "the structure set the planner was given"
    else:
        refs = [graph.get(uid_of(r))
                for r in items(plan.dataset, "ReferencedStructureSetSequence")]
        source = next((r for r in refs if r is not None and r.kind == "rtstruct"), None)
        how = "the structure set it references"
    if source is None or not source.study_uid or plan.study_uid == source.study_uid:
        return
    yield Issue(f"TPPC-GEN-03: Study Instance UID {plan.study_uid} is not {source.study_uid} of "
                f"{source.label} ({how})", "StudyInstanceUID", plan)


def _referenced(plan: Instance) -> Iterator[tuple[str, str, object]]:
    """(tag path, words naming the beam, item) for every referenced beam of
    every fraction group."""
    names = {integer(b, "BeamNumber"): text(b, "BeamName")
             for b in items(plan.dataset, "BeamSequence")}
    for g, group in enumerate(items(plan.dataset, "FractionGroupSequence")):
        for r, ref in enumerate(items(group, "ReferencedBeamSequence")):
            number_ = integer(ref, "ReferencedBeamNumber")
            label = f"beam {number_} {names.get(number_, '(not in the Beam Sequence)')!r}"
            yield (f"FractionGroupSequence[{g}].ReferencedBeamSequence[{r}]",
                   f"fraction group {integer(group, 'FractionGroupNumber')}, {label}", ref)


REFERENCED_BEAM = (("TPPC-GEN-17", "BeamDose"), ("TPPC-GEN-18", "BeamDoseSpecificationPoint"),
                   ("TPPC-GEN-19", "BeamMeterset"), ("TPPC-GEN-20", "BeamDeliveryDurationLimit"))


@rule("TPPC-FRACTION-GROUP", Severity.ERROR,
      "One fraction group with Number of Fractions Planned and a Referenced Beam Sequence; every "
      "referenced beam has Beam Dose, Beam Dose Specification Point, Beam Meterset and Beam "
      "Delivery Duration Limit",
      tool("TPPC-GEN-13…20", "(IsRequiredRule, SequenceRangeRule; the tool: first referenced "
           "beam only)", note="Beam Dose Specification Point is retired in current DICOM; TPPC "
                              "2014 still requires it"))
@each_plan
def fraction_group(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    ds = plan.dataset
    if not present(ds, "FractionGroupSequence"):
        yield Issue("TPPC-GEN-13: Fraction Group Sequence is absent", "FractionGroupSequence",
                    plan)
        return
    groups = items(ds, "FractionGroupSequence")
    if len(groups) != 1:
        yield Issue(f"TPPC-GEN-14: {len(groups)} fraction groups, expected exactly 1",
                    "FractionGroupSequence", plan)
    for g, group in enumerate(groups):
        for row, message, path in missing(group, (
                ("TPPC-GEN-15", "NumberOfFractionsPlanned"),
                ("TPPC-GEN-16", "ReferencedBeamSequence")), f"FractionGroupSequence[{g}]"):
            yield Issue(f"{row}: fraction group {integer(group, 'FractionGroupNumber')}: "
                        f"{message}", path, plan)
    for path, who, ref in _referenced(plan):
        for row, message, where in missing(ref, REFERENCED_BEAM, path):
            yield Issue(f"{row}: {who}: {message}", where, plan)


VERIFICATION_POINT = (
    ("TPPC-GEN-22", "CumulativeMetersetWeight"), ("TPPC-GEN-23", "AverageBeamDosePointDepth"),
    ("TPPC-GEN-24", "AverageBeamDosePointEquivalentDepth"),
    ("TPPC-GEN-25", "AverageBeamDosePointSSD"),
    ("TPPC-GEN-26", "AverageBeamDosePointSourceToExternalContourDistance"))


@rule("TPPC-DOSE-VERIFICATION", Severity.ERROR,
      "Every referenced beam has at least two Beam Dose Verification Control Points, each with "
      "its cumulative meterset weight and average dose point depth, equivalent depth, SSD and "
      "source to external contour distance; their weights run from 0 to the beam's Final "
      "Cumulative Meterset Weight",
      tool("TPPC-GEN-21…26", "(SequenceRangeRule, IsRequiredRule; the tool: items of the first "
           "referenced beam only, the span of the weights not checked)",
           note="the average depth, equivalent depth and SSD are retired in current DICOM; TPPC "
                "2014 still requires them"))
@each_plan
def dose_verification(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    finals = {integer(b, "BeamNumber"): number(b, "FinalCumulativeMetersetWeight")
              for b in items(plan.dataset, "BeamSequence")}
    for path, who, ref in _referenced(plan):
        points = items(ref, "BeamDoseVerificationControlPointSequence")
        where = f"{path}.BeamDoseVerificationControlPointSequence"
        if len(points) < 2:
            yield Issue(f"TPPC-GEN-21: {who}: {len(points)} Beam Dose Verification Control "
                        "Points, at least 2", where, plan)
        for k, point in enumerate(points):
            for row, message, at in missing(point, VERIFICATION_POINT, f"{where}[{k}]"):
                yield Issue(f"{row}: {who}, dose verification point {k}: {message}", at, plan)
        weights = [number(p, "CumulativeMetersetWeight") for p in points]
        if len(weights) < 2 or None in weights:
            continue
        final = finals.get(integer(ref, "ReferencedBeamNumber"))
        if abs(weights[0]) > 1e-6 or (final is not None and abs(weights[-1] - final) > 1e-6) or \
                any(b < a for a, b in pairwise(weights)):
            yield Issue(f"TPPC-GEN-22: {who}: the dose verification points' weights "
                        f"{', '.join(f'{w:g}' for w in weights)} do not run from 0 to the "
                        f"beam's Final Cumulative Meterset Weight "
                        f"{'(absent)' if final is None else f'{final:g}'} (rule sheet r42)",
                        where, plan)


@rule("TPPC-DOSE-REFERENCES", Severity.ERROR,
      "A Dose Reference Sequence whose items have a UID and a description; control point 0 of "
      "every beam references a dose reference of the plan with a Cumulative Dose Reference "
      "Coefficient, and a beam's coefficients never decrease",
      tool("TPPC-GEN-27…29", "TPPC-GEN-46", "(IsRequiredRule, ControlPointConstantValueRule; the "
           "tool: dose reference item 1 only)"))
@each_plan
def dose_references(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    ds = plan.dataset
    if not present(ds, "DoseReferenceSequence"):
        yield Issue("TPPC-GEN-27: Dose Reference Sequence is absent", "DoseReferenceSequence",
                    plan)
    numbers_ = set()
    for d, ref in enumerate(items(ds, "DoseReferenceSequence")):
        numbers_.add(integer(ref, "DoseReferenceNumber"))
        for row, message, path in missing(ref, (("TPPC-GEN-28", "DoseReferenceUID"),
                                                ("TPPC-GEN-29", "DoseReferenceDescription")),
                                          f"DoseReferenceSequence[{d}]"):
            yield Issue(f"{row}: dose reference {integer(ref, 'DoseReferenceNumber')}: "
                        f"{message}", path, plan)
    for beam in beams(ds):
        cps = items(beam.dataset, "ControlPointSequence")
        if not cps:
            continue
        if not items(cps[0], "ReferencedDoseReferenceSequence"):
            yield Issue(beam.say("TPPC-GEN-46", "no Referenced Dose Reference Sequence item",
                                 0), f"{beam.cp(0)}.ReferencedDoseReferenceSequence", plan)
        last: dict[int | None, float] = {}
        for k, cp in enumerate(cps):
            for r, ref in enumerate(items(cp, "ReferencedDoseReferenceSequence")):
                path = f"{beam.cp(k)}.ReferencedDoseReferenceSequence[{r}]"
                target = integer(ref, "ReferencedDoseReferenceNumber")
                if target not in numbers_:
                    yield Issue(beam.say("TPPC-GEN-46", f"references dose reference {target}, "
                                         "which the plan does not define", k),
                                f"{path}.ReferencedDoseReferenceNumber", plan)
                value = number(ref, "CumulativeDoseReferenceCoefficient")
                if value is None:
                    if k == 0 or not present(ref, "CumulativeDoseReferenceCoefficient"):
                        yield Issue(beam.say("TPPC-GEN-46", "Cumulative Dose Reference "
                                             "Coefficient is absent or empty", k),
                                    f"{path}.CumulativeDoseReferenceCoefficient", plan)
                    continue
                if target in last and value < last[target] - 1e-9:
                    yield Issue(beam.say("TPPC-GEN-46", f"Cumulative Dose Reference Coefficient "
                                         f"of dose reference {target} falls from "
                                         f"{last[target]:g} to {value:g}", k),
                                f"{path}.CumulativeDoseReferenceCoefficient", plan)
                last[target] = value


@rule("TPPC-BEAMS-REFERENCED", Severity.ERROR,
      "Every treatment beam is referenced by the fraction group (a SETUP beam need not be)",
      tool("TPPC-GEN-16", "(IsRequiredRule: the Referenced Beam Sequence is present)",
           note="a treatment beam no fraction group references is never delivered; DICOM PS3.3 "
                "C.8.8.13, C.8.8.14 (Treatment Delivery Type)"))
@each_plan
def beams_referenced(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    referenced = {integer(ref, "ReferencedBeamNumber")
                  for group in items(plan.dataset, "FractionGroupSequence")
                  for ref in items(group, "ReferencedBeamSequence")}
    if not present(plan.dataset, "FractionGroupSequence"):
        return  # TPPC-FRACTION-GROUP says so
    for beam in beams(plan.dataset):
        if text(beam.dataset, "TreatmentDeliveryType") == "SETUP":
            continue
        if integer(beam.dataset, "BeamNumber") not in referenced:
            yield Issue(beam.say("TPPC-GEN-16", "a treatment beam that no fraction group "
                                 "references: it would never be delivered"),
                        f"{beam.path}.BeamNumber", plan)

"""RT Plan content rules (IHE-RO TRO RO-3 Geometric Plan Storage, RO-4
Dosimetric Plan Storage)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import pairwise

from pydicom.dataset import Dataset

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.rt import is_dosimetric
from rtconform.dicom.uids import RT_STRUCTURE_SET_STORAGE
from rtconform.dicom.values import integer, items, number, numbers, text, uid_of
from rtconform.findings import Severity
from rtconform.rules.registry import Issue, RuleContext, rule

RO3_4 = "IHE-RO TRO RO-3/RO-4"
JAWS = {"X", "Y", "ASYMX", "ASYMY"}


def beam_numbers(plan: Dataset | None) -> list[int | None]:
    return [integer(b, "BeamNumber") for b in items(plan, "BeamSequence")]


@rule("PLAN-STRUCTURE-SET-REF", Severity.ERROR,
      "RT Plan Geometry PATIENT requires a Referenced Structure Set that resolves",
      f"{RO3_4}; DICOM PS3.3 C.8.8.9")
def structure_set_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        if text(plan.dataset, "RTPlanGeometry") != "PATIENT":
            continue
        refs = items(plan.dataset, "ReferencedStructureSetSequence")
        if not refs:
            yield Issue("RT Plan Geometry is PATIENT but Referenced Structure Set Sequence is "
                        "absent or empty", "ReferencedStructureSetSequence", plan)
        for r, ref in enumerate(refs):
            target = graph.get(uid_of(ref))
            if target is None:
                yield ctx.missing_reference(
                    graph, plan, RT_STRUCTURE_SET_STORAGE, f"structure set {uid_of(ref)}",
                    f"ReferencedStructureSetSequence[{r}].ReferencedSOPInstanceUID")
            elif target.kind != "rtstruct":
                yield Issue(f"referenced object {uid_of(ref)} is not an RT Structure Set",
                            f"ReferencedStructureSetSequence[{r}].ReferencedSOPInstanceUID", plan)


@rule("PLAN-BEAM-NUMBER-UNIQUE", Severity.ERROR, "Beam Numbers are unique within a plan",
      f"{RO3_4}; DICOM PS3.3 C.8.8.14")
def unique_beams(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        for number_, count in Counter(beam_numbers(plan.dataset)).items():
            if count > 1:
                yield Issue(f"Beam Number {number_} is used {count} times", "BeamSequence", plan)


@rule("PLAN-FRACTION-GROUP", Severity.ERROR,
      "Fraction group beams exist in the Beam Sequence and Number of Beams matches",
      f"{RO3_4}; DICOM PS3.3 C.8.8.13")
def fraction_group_beams(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        beams = set(beam_numbers(plan.dataset))
        for g, group in enumerate(items(plan.dataset, "FractionGroupSequence")):
            refs = items(group, "ReferencedBeamSequence")
            declared = integer(group, "NumberOfBeams")
            if declared is not None and refs and declared != len(refs):
                yield Issue(f"Number of Beams is {declared} but {len(refs)} beams are referenced",
                            f"FractionGroupSequence[{g}].NumberOfBeams", plan)
            for r, ref in enumerate(refs):
                beam = integer(ref, "ReferencedBeamNumber")
                if beam not in beams:
                    yield Issue(f"Referenced Beam Number {beam} is not in the Beam Sequence",
                                f"FractionGroupSequence[{g}].ReferencedBeamSequence[{r}]"
                                ".ReferencedBeamNumber", plan)


def _control_point_issues(beam: Dataset, path: str) -> Iterator[str | tuple[str, str]]:
    cps = items(beam, "ControlPointSequence")
    declared = integer(beam, "NumberOfControlPoints")
    if declared != len(cps):
        yield (f"Number of Control Points is {declared} but the sequence holds {len(cps)}",
               f"{path}.NumberOfControlPoints")
    for i, cp in enumerate(cps):
        if integer(cp, "ControlPointIndex") != i:
            yield (f"Control Point Index {integer(cp, 'ControlPointIndex')} at position {i}",
                   f"{path}.ControlPointSequence[{i}].ControlPointIndex")
    weights = [number(cp, "CumulativeMetersetWeight") for cp in cps]
    known = [(i, w) for i, w in enumerate(weights) if w is not None]
    if not known:
        return  # may be empty in a geometric plan (ICT sheet)
    if known[0] != (0, 0.0):
        yield ("Cumulative Meterset Weight of control point 0 is not 0",
               f"{path}.ControlPointSequence[0].CumulativeMetersetWeight")
    for (_, a), (j, b) in pairwise(known):
        if b < a:
            yield (f"Cumulative Meterset Weight decreases from {a:g} to {b:g}",
                   f"{path}.ControlPointSequence[{j}].CumulativeMetersetWeight")
    final = number(beam, "FinalCumulativeMetersetWeight")
    if final is not None and weights[-1] is not None and abs(weights[-1] - final) > 1e-6:
        yield (f"last Cumulative Meterset Weight {weights[-1]:g} is not the Final Cumulative "
               f"Meterset Weight {final:g}", f"{path}.FinalCumulativeMetersetWeight")


@rule("PLAN-CONTROL-POINTS", Severity.ERROR,
      "Control points: indices 0,1,…; weights start at 0, never decrease, end at Final "
      "Cumulative Meterset Weight; Number of Control Points matches",
      f"{RO3_4}; IHE-RO test tool BRTO-RO3-41…46; DICOM PS3.3 C.8.8.14")
def control_points(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        for b, beam in enumerate(items(plan.dataset, "BeamSequence")):
            for message, path in _control_point_issues(beam, f"BeamSequence[{b}]"):
                yield Issue(f"beam {integer(beam, 'BeamNumber')}: {message}", path, plan)


@rule("PLAN-BEAM-LIMITING-DEVICE", Severity.ERROR,
      "Leaf/Jaw Positions count matches its device: 2 for jaws, 2 × pairs for MLCs "
      "(and pairs + 1 boundaries)",
      f"{RO3_4}; IHE-RO test tool BRTO-RO3-27; DICOM PS3.3 C.8.8.14")
def leaf_counts(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        for b, beam in enumerate(items(plan.dataset, "BeamSequence")):
            pairs = {}
            for d, dev in enumerate(items(beam, "BeamLimitingDeviceSequence")):
                kind = text(dev, "RTBeamLimitingDeviceType")
                n = integer(dev, "NumberOfLeafJawPairs")
                pairs[kind] = n
                bounds = numbers(dev, "LeafPositionBoundaries")
                if kind not in JAWS and n is not None and bounds is not None \
                        and len(bounds) != n + 1:
                    yield Issue(f"{kind}: {len(bounds)} Leaf Position Boundaries for {n} pairs",
                                f"BeamSequence[{b}].BeamLimitingDeviceSequence[{d}]"
                                ".LeafPositionBoundaries", plan)
            for c, cp in enumerate(items(beam, "ControlPointSequence")):
                for p, pos in enumerate(items(cp, "BeamLimitingDevicePositionSequence")):
                    kind = text(pos, "RTBeamLimitingDeviceType")
                    values = numbers(pos, "LeafJawPositions") or []
                    path = (f"BeamSequence[{b}].ControlPointSequence[{c}]"
                            f".BeamLimitingDevicePositionSequence[{p}].LeafJawPositions")
                    if kind not in pairs:
                        yield Issue(f"positions for {kind}, a device the beam does not declare",
                                    path, plan)
                        continue
                    expected = 2 if kind in JAWS else 2 * (pairs[kind] or 0)
                    if len(values) != expected:
                        yield Issue(f"{kind}: {len(values)} Leaf/Jaw Positions, expected "
                                    f"{expected}", path, plan)


@rule("PLAN-PATIENT-SETUP", Severity.ERROR,
      "Every beam's Referenced Patient Setup Number is a Patient Setup Number of the plan",
      f"{RO3_4}; IHE-RO test tool BRTO-RO3-28; DICOM PS3.3 C.8.8.12")
def patient_setup(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        setups = {integer(s, "PatientSetupNumber")
                  for s in items(plan.dataset, "PatientSetupSequence")}
        for b, beam in enumerate(items(plan.dataset, "BeamSequence")):
            if "ReferencedPatientSetupNumber" not in beam:
                continue
            ref = integer(beam, "ReferencedPatientSetupNumber")
            if ref not in setups:
                yield Issue(f"beam {integer(beam, 'BeamNumber')} references Patient Setup {ref},"
                            " which the plan does not define",
                            f"BeamSequence[{b}].ReferencedPatientSetupNumber", plan)


def plan_kind(plan: Instance) -> str:
    return "dosimetric" if is_dosimetric(plan.dataset) else "geometric"


@rule("PLAN-BOLUS-REF", Severity.ERROR,
      "Every bolus a beam references is an ROI of the plan's structure set with RT ROI "
      "Interpreted Type BOLUS",
      "DICOM PS3.3 C.8.8.14.1 (Referenced Bolus Sequence: Referenced ROI Number of the "
      "Referenced Structure Set), C.8.8.8 (BOLUS)")
def bolus_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan in graph.plans:
        refs = items(plan.dataset, "ReferencedStructureSetSequence")
        ss = graph.get(uid_of(refs[0])) if refs else None
        types = {}
        if ss is not None and ss.kind == "rtstruct":
            types = {integer(o, "ReferencedROINumber"): text(o, "RTROIInterpretedType")
                     for o in items(ss.dataset, "RTROIObservationsSequence")}
            rois = {integer(r, "ROINumber") for r in items(ss.dataset, "StructureSetROISequence")}
        for b, beam in enumerate(items(plan.dataset, "BeamSequence")):
            for k, bolus in enumerate(items(beam, "ReferencedBolusSequence")):
                roi = integer(bolus, "ReferencedROINumber")
                path = f"BeamSequence[{b}].ReferencedBolusSequence[{k}].ReferencedROINumber"
                if roi is None:
                    yield Issue("a referenced bolus has no Referenced ROI Number", path, plan)
                elif ss is None or ss.kind != "rtstruct":
                    continue  # PLAN-STRUCTURE-SET-REF says the structure set is missing
                elif roi not in rois:
                    yield Issue(f"bolus ROI {roi} is not an ROI of structure set {ss.label}",
                                path, plan)
                elif types.get(roi) != "BOLUS":
                    yield Issue(f"bolus ROI {roi} has RT ROI Interpreted Type "
                                f"{types.get(roi) or '(none)'}, not BOLUS", path, plan)

"""BRTO rules for the RT Dose a Dosimetric Planner stores (RO-5): one plan
dose in Gy, physical, unsigned, on an axial grid with relative, increasing
frame offsets."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.values import integer, items, numbers, text, uid_of
from rtconform.findings import Severity
from rtconform.profiles.brto.common import BRTO, produced, tool
from rtconform.rules.registry import Issue, RuleContext, rule

RO5 = f"{BRTO} RO-5"
GRID_FRAME_OFFSET_VECTOR = 0x3004000C


@rule("BRTO-DOSE-VALUES", Severity.ERROR,
      "Dose Units GY, Dose Type PHYSICAL, Pixel Representation 0, Pixel Spacing present",
      f"{RO5} (R+*, O+*); "
      + tool("BRTO-RO5-17", "BRTO-RO5-27…32", "(IsRequiredRule, ValueRule, PixelSpacingRule)"),
      profile="brto")
def dose_values(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in produced(ctx, graph.doses):
        ds = dose.dataset
        for keyword, expected in (("DoseUnits", "GY"), ("DoseType", "PHYSICAL")):
            if text(ds, keyword) != expected:
                yield Issue(f"{keyword} {text(ds, keyword) or '(absent)'}, expected {expected}",
                            keyword, dose)
        if "PixelData" in ds or dose.pixel_data_length is not None:
            if integer(ds, "PixelRepresentation") != 0:
                yield Issue(f"Pixel Representation {integer(ds, 'PixelRepresentation')}, "
                            "expected 0 (unsigned)", "PixelRepresentation", dose)
            if not numbers(ds, "PixelSpacing"):
                yield Issue("Pixel Spacing is absent", "PixelSpacing", dose)


@rule("BRTO-DOSE-SUMMATION", Severity.ERROR,
      "Dose Summation Type PLAN, with a Referenced RT Plan Sequence",
      f"{RO5} (R+*); "
      + tool("BRTO-RO5-34…36", "(IsRequiredRule, ValueRule)")
      + "; every dose is checked, so per-beam doses fail BRTO (they are legal DICOM)",
      profile="brto")
def summation(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in produced(ctx, graph.doses):
        value = text(dose.dataset, "DoseSummationType")
        if value != "PLAN":
            yield Issue(f"Dose Summation Type {value or '(absent)'}, expected PLAN",
                        "DoseSummationType", dose)
        if not items(dose.dataset, "ReferencedRTPlanSequence"):
            yield Issue("Referenced RT Plan Sequence is absent", "ReferencedRTPlanSequence",
                        dose)


@rule("BRTO-DOSE-GRID", Severity.ERROR,
      "Frame Increment Pointer is Grid Frame Offset Vector, which starts at 0 and holds at least "
      "2 values, monotonic",
      f"{RO5} (R+*); "
      + tool("BRTO-RO5-18", "BRTO-RO5-38", "(FrameIncrementPointerRule, "
             "GridFrameOffsetVectorRule)"), profile="brto")
def grid(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in produced(ctx, graph.doses):
        ds = dose.dataset
        if "PixelData" not in ds and dose.pixel_data_length is None:
            continue
        pointer = ds.get("FrameIncrementPointer")
        if pointer != GRID_FRAME_OFFSET_VECTOR:
            yield Issue(f"Frame Increment Pointer {pointer if pointer is not None else '(absent)'}"
                        ", expected (3004,000C)", "FrameIncrementPointer", dose)
        offsets = numbers(ds, "GridFrameOffsetVector")
        if not offsets or len(offsets) < 2:
            yield Issue(f"Grid Frame Offset Vector holds {len(offsets or [])} values, at least 2",
                        "GridFrameOffsetVector", dose)
            continue
        if offsets[0] != 0:
            yield Issue(f"Grid Frame Offset Vector starts at {offsets[0]:g}, expected 0 "
                        "(relative offsets)", "GridFrameOffsetVector", dose)
        steps = np.diff(offsets)
        if np.all(steps < 0):
            yield Issue("Grid Frame Offset Vector decreases (the rule sheet says increasing; "
                        "the IHE-RO test tool accepts it)", "GridFrameOffsetVector", dose,
                        Severity.WARNING)
        elif not np.all(steps > 0):
            yield Issue("Grid Frame Offset Vector is not monotonic", "GridFrameOffsetVector",
                        dose)


@rule("BRTO-DOSE-FRACTION-GROUP-REF", Severity.ERROR,
      "A Referenced Fraction Group Sequence, when sent, references one fraction group of the plan",
      f"{RO5} (R+*); "
      + tool("BRTO-RO5-37 (INERT in the tool: ReferencedFractionGroupSequenceRule)")
      + "; absent passes: DICOM requires it only for FRACTION/BEAM doses and IHE-RO's own "
        "RT-Dose.dcm has none", profile="brto")
def fraction_group_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in produced(ctx, graph.doses):
        for r, ref in enumerate(items(dose.dataset, "ReferencedRTPlanSequence")):
            if "ReferencedFractionGroupSequence" not in ref:
                continue
            groups = items(ref, "ReferencedFractionGroupSequence")
            path = f"ReferencedRTPlanSequence[{r}].ReferencedFractionGroupSequence"
            if len(groups) != 1:
                yield Issue(f"{len(groups)} referenced fraction groups, expected 1", path, dose)
                continue
            plan = graph.get(uid_of(ref))
            if plan is None or plan.kind != "rtplan":
                continue
            number = integer(groups[0], "ReferencedFractionGroupNumber")
            numbers_ = {integer(g, "FractionGroupNumber")
                        for g in items(plan.dataset, "FractionGroupSequence")}
            if number not in numbers_:
                yield Issue(f"Referenced Fraction Group Number {number} is not a fraction group "
                            f"of {plan.label}", f"{path}[0].ReferencedFractionGroupNumber", dose)


@rule("BRTO-DOSE-COMMENT", Severity.ERROR,
      "A dose without a Referenced RT Plan Sequence names its plan: Dose Comment equals the "
      "plan's RT Plan Description",
      f"{RO5} (Dose Comment R+); " + tool("BRTO-RO5-33", "(DoseCommentRule)")
      + "; compared with every plan of the set, not only the first", profile="brto")
def dose_comment(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    plans = produced(ctx, graph.plans) or graph.plans
    descriptions = {text(p.dataset, "RTPlanDescription") for p in plans}
    for dose in produced(ctx, graph.doses):
        if items(dose.dataset, "ReferencedRTPlanSequence") or not plans:
            continue
        comment = text(dose.dataset, "DoseComment")
        if not comment or comment not in descriptions:
            yield Issue(f"Dose Comment {comment or '(empty)'} names no plan's RT Plan "
                        "Description", "DoseComment", dose)

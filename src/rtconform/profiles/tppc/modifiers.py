"""TPPC's beam-modifier rules (the checklist's groups MOD-WDG, MOD-BOL,
MOD-BLK, MOD-CMP and the wedge rows of each beam type), applied wherever a
beam has the modifier, to every item of every beam. The IHE-RO test tool
applies each group to the beam types its factory names, and to beam 1
only: the hard-wedge type, whose wedge is required, gets no wedge group at
all, while the basic static type, which may have no wedge, does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.values import integer, items, number, numbers, text
from rtconform.findings import Severity
from rtconform.profiles.tppc.beam import _issue
from rtconform.profiles.tppc.beams import Beam, beams
from rtconform.profiles.tppc.common import each_plan, has_value, missing, present, rule, tool
from rtconform.rules.registry import Issue, RuleContext


def _count(plan: Instance, beam: Beam, row: str, count_keyword: str, sequence: str
           ) -> Iterator[Issue]:
    declared = integer(beam.dataset, count_keyword)
    have = len(items(beam.dataset, sequence))
    if present(beam.dataset, count_keyword) and declared != have:
        yield _issue(plan, beam, row, f"{count_keyword} {text(beam.dataset, count_keyword)} for "
                     f"{have} item(s) of {sequence}", f"{beam.path}.{sequence}")


WEDGE = (("TPPC-MOD-WDG-04", "WedgeType"), ("TPPC-MOD-WDG-05", "WedgeID"),
         ("TPPC-MOD-WDG-06", "WedgeAngle"), ("TPPC-MOD-WDG-07", "WedgeOrientation"))


@rule("TPPC-WEDGES", Severity.ERROR,
      "Wedges: as many as Number of Wedges, each with type, ID, angle and orientation; a "
      "physical (STANDARD) wedge with its Source to Wedge Tray Distance, a virtual (DYNAMIC) one "
      "without a tray, a motorized one with its Effective Wedge Angle; of a type the beam type "
      "allows",
      tool("TPPC-GEN-73", "TPPC-MOD-WDG-03…08", "TPPC-HW-13", "TPPC-HW-16", "TPPC-VW-13",
           "TPPC-VW-16", "TPPC-MW-13", "TPPC-MW-14", "TPPC-MW-18", "TPPC-SAS-12", "TPPC-SW-12",
           "(NrOfSequenceItemRule, IsRequiredRule, RequiredConditionalRule, ValueRule, "
           "ValueListRule; the tool: beam 1's wedges, and not for hard-wedge beams)"))
@each_plan
def wedges(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        yield from _count(plan, beam, "TPPC-GEN-73", "NumberOfWedges", "WedgeSequence")
        spec = beam.spec
        for w, item in enumerate(items(beam.dataset, "WedgeSequence")):
            path = f"{beam.path}.WedgeSequence[{w}]"
            label = f"wedge {integer(item, 'WedgeNumber')}"
            for row, message, at in missing(item, WEDGE, path):
                yield _issue(plan, beam, row, f"{label}: {message}", at)
            kind = text(item, "WedgeType")
            if spec is not None and spec.wedge_types and present(item, "WedgeType") and \
                    kind not in spec.wedge_types:
                yield _issue(plan, beam, spec.row("wedge_type"), f"{label}: Wedge Type "
                             f"{kind or '(empty)'}; a {spec.key} beam's wedges are "
                             f"{' or '.join(sorted(spec.wedge_types))}", f"{path}.WedgeType")
            if kind == "STANDARD" and not has_value(item, "SourceToWedgeTrayDistance"):
                yield _issue(plan, beam, "TPPC-MOD-WDG-08", f"{label}: a STANDARD (physical) "
                             "wedge without its Source to Wedge Tray Distance",
                             f"{path}.SourceToWedgeTrayDistance")
            if kind == "DYNAMIC" and has_value(item, "SourceToWedgeTrayDistance"):
                yield _issue(plan, beam, "TPPC-VW-16", f"{label}: a DYNAMIC (virtual) wedge "
                             "with a Source to Wedge Tray Distance: it sits on no tray",
                             f"{path}.SourceToWedgeTrayDistance")
            if kind == "MOTORIZED" and not has_value(item, "EffectiveWedgeAngle"):
                yield _issue(plan, beam, "TPPC-MW-14", f"{label}: a MOTORIZED wedge without its "
                             "Effective Wedge Angle", f"{path}.EffectiveWedgeAngle")


@rule("TPPC-WEDGE-POSITIONS", Severity.ERROR,
      "Wedge positions: none in beams without wedges; otherwise control point 0 places every "
      "wedge, each item names a wedge of the beam, a physical or virtual wedge stays IN, a "
      "motorized wedge starts IN and goes OUT once, while the beam is off",
      tool("TPPC-<type> Wedge Position Sequence rows (BS-12, BSM-12, ARC-11, MFA-11, MVA-12, "
           "ELEC-15, VMAT-10, PA-17, PAA-17: absent; HW-12, VW-12, SAS-11, SW-11: IN)",
           "TPPC-MW-10", "TPPC-MW-15", "TPPC-VW-17", "TPPC-MOD-WDG-09…11",
           "(NotPresentRule, ValueRule, ConditionalRequiredValueRule, "
           "WedgeSeqControlPointSeqRule; the tool: CP 1, and CP 1…4 of a motorized beam 1)"))
@each_plan
def wedge_positions(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        cps = items(beam.dataset, "ControlPointSequence")
        spec = beam.spec
        kinds = {integer(w, "WedgeNumber"): text(w, "WedgeType")
                 for w in items(beam.dataset, "WedgeSequence")}
        if not kinds:
            row = spec.row("wedge_position") if spec and spec.wedges == (0, 0) else \
                "TPPC-MOD-WDG-09"
            for k, cp in enumerate(cps):
                if present(cp, "WedgePositionSequence"):
                    yield _issue(plan, beam, row, "a Wedge Position Sequence in a beam without "
                                 "wedges", f"{beam.cp(k)}.WedgePositionSequence", k)
            continue
        yield from _positions(plan, beam, kinds)


def _positions(plan: Instance, beam: Beam, kinds: dict[int | None, str]) -> Iterator[Issue]:
    spec = beam.spec
    fixed_row = spec.row("wedge_position") if spec and spec.has("wedge_position") and \
        spec.wedges != (0, 0) else "TPPC-MOD-WDG-09"
    motor_row = spec.row("wedge_control_points") if spec and spec.key == "motorized-wedge" \
        else "TPPC-MOD-WDG-11"
    walk = _WedgeWalk(plan, beam, kinds, fixed_row, motor_row,
                      items(beam.dataset, "ControlPointSequence"))
    for k, cp in enumerate(walk.cps):
        for p, item in enumerate(items(cp, "WedgePositionSequence")):
            yield from walk.position(k, f"{beam.cp(k)}.WedgePositionSequence[{p}]", item)
        if k == 0:
            yield from walk.unplaced()


@dataclass
class _WedgeWalk:
    """A beam's wedge positions, control point by control point: where each
    wedge is, and where a motorized wedge went OUT."""

    plan: Instance
    beam: Beam
    kinds: dict[int | None, str]  # wedge number → Wedge Type
    fixed_row: str  # the checklist row of a physical or virtual wedge's position
    motor_row: str  # the row of a motorized wedge's control points
    cps: list[Dataset]
    state: dict[int | None, str] = field(default_factory=dict)
    switched: dict[int | None, int] = field(default_factory=dict)

    def position(self, k: int, path: str, item: Dataset) -> Iterator[Issue]:
        """One Wedge Position Sequence item of control point k."""
        number_ = integer(item, "ReferencedWedgeNumber")
        where = text(item, "WedgePosition")
        if number_ not in self.kinds:
            yield _issue(self.plan, self.beam, "TPPC-MOD-WDG-09", f"a wedge position for wedge "
                         f"{number_}, which the beam does not have",
                         f"{path}.ReferencedWedgeNumber", k)
            return
        if where not in ("IN", "OUT"):
            yield _issue(self.plan, self.beam, self.fixed_row, f"wedge {number_}: Wedge Position "
                         f"{where or '(empty)'}, expected IN or OUT", f"{path}.WedgePosition", k)
            return
        if self.kinds[number_] != "MOTORIZED":
            yield from self._fixed(k, path, number_, where)
        else:
            yield from self._motorized(k, path, number_, where)
        self.state[number_] = where

    def _fixed(self, k: int, path: str, number_: int | None, where: str) -> Iterator[Issue]:
        """A physical or virtual wedge stays IN."""
        if where != "IN":
            kind = self.kinds[number_]
            row = self.fixed_row if kind == "STANDARD" else "TPPC-MOD-WDG-10"
            yield _issue(self.plan, self.beam, row, f"wedge {number_} ({kind}) is OUT: "
                         "a physical or virtual wedge is IN for the whole beam",
                         f"{path}.WedgePosition", k)

    def _motorized(self, k: int, path: str, number_: int | None, where: str
                   ) -> Iterator[Issue]:
        """A motorized wedge starts IN and goes OUT once, while the beam is off."""
        before_state = self.state.get(number_)
        if k == 0 and where != "IN":
            yield _issue(self.plan, self.beam, self.motor_row, f"motorized wedge {number_} "
                         "starts OUT", f"{path}.WedgePosition", k)
        elif before_state == "OUT" and where == "IN":
            yield _issue(self.plan, self.beam, self.motor_row, f"motorized wedge {number_} "
                         f"comes back IN after going OUT at control point "
                         f"{self.switched[number_]}", f"{path}.WedgePosition", k)
        elif before_state == "IN" and where == "OUT":
            self.switched[number_] = k
            before = number(self.cps[k - 1], "CumulativeMetersetWeight")
            now = number(self.cps[k], "CumulativeMetersetWeight")
            if before is not None and now is not None and now > before + 1e-9:
                yield _issue(self.plan, self.beam, self.motor_row, f"motorized wedge {number_} "
                             f"moves OUT while the beam is on (weight {before:g} → {now:g})",
                             f"{path}.WedgePosition", k)

    def unplaced(self) -> Iterator[Issue]:
        """Control point 0 places every wedge."""
        for number_ in sorted(set(self.kinds) - set(self.state), key=str):
            row = self.fixed_row if self.kinds[number_] != "MOTORIZED" else self.motor_row
            yield _issue(self.plan, self.beam, row, f"control point 0 gives no position for "
                         f"wedge {number_}", f"{self.beam.cp(0)}.WedgePositionSequence", 0)


@rule("TPPC-BOLI", Severity.ERROR,
      "Boli: as many referenced as Number of Boli, each with its Bolus ID",
      tool("TPPC-MOD-BOL-02", "TPPC-MOD-BOL-03", "(NrOfSequenceItemRule, IsRequiredRule; the "
           "tool: beam 1)", note="that each is a BOLUS ROI of the structure set is dicom-rt's "
                                 "PLAN-BOLUS-REF"))
@each_plan
def boli(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        yield from _count(plan, beam, "TPPC-MOD-BOL-02", "NumberOfBoli",
                          "ReferencedBolusSequence")
        for b, bolus in enumerate(items(beam.dataset, "ReferencedBolusSequence")):
            if not present(bolus, "BolusID"):
                yield _issue(plan, beam, "TPPC-MOD-BOL-03", f"bolus {b}: Bolus ID is absent",
                             f"{beam.path}.ReferencedBolusSequence[{b}].BolusID")


BLOCK = (("TPPC-MOD-BLK-03", "BlockTrayID"), ("TPPC-MOD-BLK-04", "SourceToBlockTrayDistance"),
         ("TPPC-MOD-BLK-05", "BlockDivergence"), ("TPPC-MOD-BLK-06", "BlockMountingPosition"),
         ("TPPC-MOD-BLK-07", "MaterialID"), ("TPPC-MOD-BLK-08", "BlockThickness"),
         ("TPPC-MOD-BLK-09", "BlockNumberOfPoints"), ("TPPC-MOD-BLK-10", "BlockData"))


@rule("TPPC-BLOCKS", Severity.ERROR,
      "Blocks: as many as Number of Blocks, each with tray ID, source to tray distance, "
      "divergence, mounting position, material, thickness, number of points and a Block Data "
      "of 2 values per point",
      tool("TPPC-MOD-BLK-02…10", "(NrOfSequenceItemRule, IsRequiredRule; the tool: beam 1)"))
@each_plan
def blocks(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        yield from _count(plan, beam, "TPPC-MOD-BLK-02", "NumberOfBlocks", "BlockSequence")
        for b, block in enumerate(items(beam.dataset, "BlockSequence")):
            path = f"{beam.path}.BlockSequence[{b}]"
            for row, message, at in missing(block, BLOCK, path):
                yield _issue(plan, beam, row, f"block {integer(block, 'BlockNumber')}: "
                             f"{message}", at)
            points = integer(block, "BlockNumberOfPoints")
            data = numbers(block, "BlockData")
            if points is not None and data is not None and len(data) != 2 * points:
                yield _issue(plan, beam, "TPPC-MOD-BLK-10", f"block "
                             f"{integer(block, 'BlockNumber')}: Block Data holds {len(data)} "
                             f"values for {points} points (2 per point)", f"{path}.BlockData")


COMPENSATOR = (("TPPC-MOD-CMP-03", "CompensatorType"), ("TPPC-MOD-CMP-05", "MaterialID"),
               ("TPPC-MOD-CMP-06", "CompensatorID"),
               ("TPPC-MOD-CMP-07", "SourceToCompensatorTrayDistance"),
               ("TPPC-MOD-CMP-08", "CompensatorDivergence"),
               ("TPPC-MOD-CMP-09", "CompensatorMountingPosition"),
               ("TPPC-MOD-CMP-11", "CompensatorTransmissionData"),
               ("TPPC-MOD-CMP-12", "CompensatorThicknessData"))


@rule("TPPC-COMPENSATORS", Severity.ERROR,
      "Compensators: as many as Number of Compensators, each STANDARD with material, ID, tray "
      "distance, divergence, a PATIENT_SIDE or SOURCE_SIDE mounting, and transmission and "
      "thickness data of rows × columns values",
      tool("TPPC-MOD-CMP-02…12", "(NrOfSequenceItemRule, IsRequiredRule, ValueRule, "
           "ValueListRule; the tool: beam 1)"))
@each_plan
def compensators(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        yield from _count(plan, beam, "TPPC-MOD-CMP-02", "NumberOfCompensators",
                          "CompensatorSequence")
        for c, comp in enumerate(items(beam.dataset, "CompensatorSequence")):
            path = f"{beam.path}.CompensatorSequence[{c}]"
            label = f"compensator {integer(comp, 'CompensatorNumber')}"
            for row, message, at in missing(comp, COMPENSATOR, path):
                yield _issue(plan, beam, row, f"{label}: {message}", at)
            kind = text(comp, "CompensatorType")
            if present(comp, "CompensatorType") and kind != "STANDARD":
                yield _issue(plan, beam, "TPPC-MOD-CMP-04", f"{label}: Compensator Type "
                             f"{kind or '(empty)'}, expected STANDARD", f"{path}.CompensatorType")
            mounting = text(comp, "CompensatorMountingPosition")
            if present(comp, "CompensatorMountingPosition") and \
                    mounting not in ("PATIENT_SIDE", "SOURCE_SIDE"):
                yield _issue(plan, beam, "TPPC-MOD-CMP-10", f"{label}: Compensator Mounting "
                             f"Position {mounting or '(empty)'}, expected PATIENT_SIDE or "
                             "SOURCE_SIDE", f"{path}.CompensatorMountingPosition")
            cells = (integer(comp, "CompensatorRows") or 0) * \
                (integer(comp, "CompensatorColumns") or 0)
            for row, keyword in (("TPPC-MOD-CMP-11", "CompensatorTransmissionData"),
                                 ("TPPC-MOD-CMP-12", "CompensatorThicknessData")):
                values = numbers(comp, keyword)
                if cells and values is not None and values and len(values) != cells:
                    yield _issue(plan, beam, row, f"{label}: {keyword} holds {len(values)} "
                                 f"values for {cells} cells (rows × columns)",
                                 f"{path}.{keyword}")


@rule("TPPC-BEAMS-LOG", Severity.INFO,
      "Each beam as detected: its type, its wedges, boli, blocks and compensators, and whether "
      "it sends a High-Dose Technique Type (what the IHE-RO test tool only reports)",
      tool("TPPC-GEN-57", "TPPC-MOD-BOL-01", "TPPC-MOD-BLK-01", "TPPC-MOD-CMP-01",
           "TPPC-MOD-WDG-01", "(OptionalRule, BeamModifierDetectionRule: information)"),
      tags={"log"}, default_on=False)
@each_plan
def beams_log(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    lines = []
    for beam in beams(plan.dataset):
        ds = beam.dataset
        counts = ", ".join(f"{len(items(ds, seq))} {what}" for seq, what in (
            ("WedgeSequence", "wedge(s)"), ("ReferencedBolusSequence", "bolus(es)"),
            ("BlockSequence", "block(s)"), ("CompensatorSequence", "compensator(s)")))
        hdt = text(ds, "HighDoseTechniqueType") if present(ds, "HighDoseTechniqueType") \
            else "absent"
        lines.append(f"{beam.label}: {beam.spec.key if beam.spec else 'no TPPC type'}, "
                     f"{counts}, High-Dose Technique Type {hdt}")
    if lines:
        yield Issue("; ".join(lines), "BeamSequence", plan)

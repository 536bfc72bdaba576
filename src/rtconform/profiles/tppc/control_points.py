"""TPPC rules on control points, every control point of every beam: the
meterset weights, the gantry and its rotation direction as the beam type
requires, the rotations that must not happen, and the attributes a beam
holds fixed. Presence follows DICOM (and the IHE-RO test tool's "constant"
rule): control point 0 gives everything; a later one gives an attribute
only where it changes, and then every one does. Beyond the tool, what a
beam holds fixed must not change at all, and what moves must move the way
its other attributes say (an arc's gantry in its rotation direction)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.values import integer, items, number, numbers, text
from rtconform.findings import Severity
from rtconform.profiles.tppc.beam import _issue
from rtconform.profiles.tppc.beams import Beam, beams, turn
from rtconform.profiles.tppc.common import changes_only, each_plan, name, present, rule, tool
from rtconform.rules.registry import Issue, RuleContext


@rule("TPPC-CONTROL-POINTS", Severity.ERROR,
      "Control points: as many as Number of Control Points says, indexed 0, 1, …; every one has "
      "a Cumulative Meterset Weight, 0 at the first, never decreasing, the last equal to the "
      "beam's Final Cumulative Meterset Weight (which must be there)",
      tool("TPPC-GEN-45", "TPPC-GEN-75", "TPPC-GEN-76",
           "(ControlPointConstantValueRule, NrOfSequenceItemRule, IsRequiredRule (info))",
           note="replaces dicom-rt's PLAN-CONTROL-POINTS under this profile: the same checks, "
                "with the checklist row, the beam and the control point named; DICOM PS3.3 "
                "C.8.8.14"))
@each_plan
def control_points(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        ds = beam.dataset
        cps = items(ds, "ControlPointSequence")
        declared = integer(ds, "NumberOfControlPoints")
        if present(ds, "NumberOfControlPoints") and declared != len(cps):
            yield _issue(plan, beam, "TPPC-GEN-75", f"Number of Control Points {declared}, the "
                         f"sequence holds {len(cps)}", f"{beam.path}.NumberOfControlPoints")
        weights = []
        for k, cp in enumerate(cps):
            if integer(cp, "ControlPointIndex") != k:
                yield _issue(plan, beam, "TPPC-GEN-75", f"Control Point Index "
                             f"{text(cp, 'ControlPointIndex') or '(absent)'} at position {k}",
                             f"{beam.cp(k)}.ControlPointIndex", k)
            weight = number(cp, "CumulativeMetersetWeight")
            weights.append(weight)
            if weight is None:
                yield _issue(plan, beam, "TPPC-GEN-45", "Cumulative Meterset Weight is absent or "
                             "empty (a dosimetric plan weighs every control point)",
                             f"{beam.cp(k)}.CumulativeMetersetWeight", k)
        known = [(k, w) for k, w in enumerate(weights) if w is not None]
        if known and known[0][0] == 0 and abs(known[0][1]) > 1e-9:
            yield _issue(plan, beam, "TPPC-GEN-45", f"Cumulative Meterset Weight "
                         f"{known[0][1]:g}, expected 0 at the first control point",
                         f"{beam.cp(0)}.CumulativeMetersetWeight", 0)
        for (_, a), (k, b) in pairwise(known):
            if b < a - 1e-9:
                yield _issue(plan, beam, "TPPC-GEN-45", f"Cumulative Meterset Weight decreases "
                             f"from {a:g} to {b:g}", f"{beam.cp(k)}.CumulativeMetersetWeight", k)
        final = number(ds, "FinalCumulativeMetersetWeight")
        if final is None:
            yield _issue(plan, beam, "TPPC-GEN-76", "Final Cumulative Meterset Weight is absent "
                         "or empty (DICOM requires it where control points carry weights)",
                         f"{beam.path}.FinalCumulativeMetersetWeight")
        elif weights and weights[-1] is not None and abs(weights[-1] - final) > 1e-6:
            yield _issue(plan, beam, "TPPC-GEN-76", f"the last Cumulative Meterset Weight "
                         f"{weights[-1]:g} is not the Final Cumulative Meterset Weight "
                         f"{final:g}", f"{beam.cp(len(cps) - 1)}.CumulativeMetersetWeight",
                         len(cps) - 1)


def _direction(beam: Beam) -> Iterator[tuple[int, str]]:
    for k, cp in enumerate(items(beam.dataset, "ControlPointSequence")):
        if present(cp, "GantryRotationDirection"):
            yield k, text(cp, "GantryRotationDirection")


@rule("TPPC-GANTRY", Severity.ERROR,
      "Control point 0 gives the Gantry Angle and Gantry Rotation Direction; a static beam's "
      "gantry stays (NONE, the angle unchanged); an arc turns CW or CC in every control point "
      "but the last (NONE or nothing there), and its angles move that way",
      tool("TPPC-GEN-42", "TPPC-<type> Gantry Rotation Direction rows (BS-08, BSM-10, ARC-09, "
           "MFA-09, MVA-08, HW-10, VW-10, MW-11, ELEC-13, SAS-09, SW-09, VMAT-09, PA-15, PAA-15)",
           "(ControlPointValueRule, ValueListRule, ControlPointConstantValueRule; the tool: an "
           "arc's CP 1 of beam 1 only)"))
@each_plan
def gantry(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        cps = items(beam.dataset, "ControlPointSequence")
        if not cps:
            continue
        row = beam.spec.row("gantry") if beam.spec else "TPPC-GEN-42"
        if not present(cps[0], "GantryAngle"):
            yield _issue(plan, beam, "TPPC-GEN-42", "Gantry Angle is absent",
                         f"{beam.cp(0)}.GantryAngle", 0)
        yield from _rotation_direction(plan, beam, cps, row)
        for keyword, at_row in (("GantryAngle", "TPPC-GEN-42"),
                                ("GantryRotationDirection", row)):
            broken = changes_only(cps, keyword)
            if broken:
                yield _issue(plan, beam, at_row, broken[1], f"{beam.cp(broken[0])}.{keyword}",
                             broken[0])
        yield from _motion(plan, beam, row)


def _rotation_direction(plan: Instance, beam: Beam, cps: list, row: str) -> Iterator[Issue]:
    """Control point 0 gives the Gantry Rotation Direction; the beam type
    says whether the gantry turns."""
    if not present(cps[0], "GantryRotationDirection"):
        yield _issue(plan, beam, row, "Gantry Rotation Direction is absent",
                     f"{beam.cp(0)}.GantryRotationDirection", 0)
    elif beam.spec is not None and not beam.spec.arc:
        yield from _static_direction(plan, beam, row)
    elif beam.spec is not None:
        yield from _arc_direction(plan, beam, cps, row)


def _static_direction(plan: Instance, beam: Beam, row: str) -> Iterator[Issue]:
    """A static beam's gantry does not turn: NONE wherever given."""
    for k, value in _direction(beam):
        if value != "NONE":
            yield _issue(plan, beam, row, f"Gantry Rotation Direction {value or '(empty)'}"
                         f", expected NONE: a {beam.spec.key} beam does not turn",
                         f"{beam.cp(k)}.GantryRotationDirection", k)


def _arc_direction(plan: Instance, beam: Beam, cps: list, row: str) -> Iterator[Issue]:
    """An arc turns CW or CC, one direction in every control point but the
    last (NONE or nothing there)."""
    first = text(cps[0], "GantryRotationDirection")
    if first not in ("CW", "CC"):
        yield _issue(plan, beam, row, f"Gantry Rotation Direction {first or '(empty)'}, "
                     f"expected CW or CC: a {beam.spec.key} beam turns",
                     f"{beam.cp(0)}.GantryRotationDirection", 0)
    last = len(cps) - 1
    for k, value in _direction(beam):
        if k == 0:
            continue
        if k == last and value not in ("NONE", first):
            yield _issue(plan, beam, row, f"Gantry Rotation Direction {value or '(empty)'}"
                         " at the last control point, expected NONE",
                         f"{beam.cp(k)}.GantryRotationDirection", k)
        elif k < last and value != first:
            yield _issue(plan, beam, row, f"Gantry Rotation Direction {value or '(empty)'}"
                         f", the arc started {first}: one direction per arc",
                         f"{beam.cp(k)}.GantryRotationDirection", k)


def _motion(plan: Instance, beam: Beam, row: str) -> Iterator[Issue]:
    """Between two control points the gantry moves as the earlier one's
    rotation direction says: not at all for NONE; for CW or CC as far as
    the angles say in that direction (a two-control-point arc may turn
    almost a full circle), never backwards between the control points of a
    finely sampled arc, and not more than one turn in all."""
    cps = items(beam.dataset, "ControlPointSequence")
    direction, angle, travelled = "NONE", None, 0.0
    for k, cp in enumerate(cps):
        value = number(cp, "GantryAngle")
        if value is not None and angle is not None:
            step = turn(angle, value)
            sign = {"CW": 1, "CC": -1}.get(direction, 0)
            if sign == 0 and abs(step) > 1e-3:
                yield _issue(plan, beam, row, f"Gantry Angle {angle:g} → {value:g} with Gantry "
                             f"Rotation Direction {direction or '(empty)'} before it",
                             f"{beam.cp(k)}.GantryAngle", k)
            elif sign:
                travelled += (sign * (value - angle)) % 360.0
                if len(cps) > 2 and 1e-3 < abs(step) < 90 and step * sign < 0:
                    yield _issue(plan, beam, row, f"Gantry Angle {angle:g} → {value:g}: the arc "
                                 f"turns back against its direction {direction}",
                                 f"{beam.cp(k)}.GantryAngle", k)
        if value is not None:
            angle = value
        if present(cp, "GantryRotationDirection"):
            direction = text(cp, "GantryRotationDirection")
    if travelled > 360.0 + 1e-3:
        yield _issue(plan, beam, row, f"the gantry travels {travelled:g} degrees, more than one "
                     "turn", f"{beam.path}.ControlPointSequence")


ROTATIONS = (("TPPC-GEN-37", "PatientSupportRotationDirection"),
             ("TPPC-GEN-38", "TableTopEccentricRotationDirection"),
             ("TPPC-GEN-39", "TableTopPitchRotationDirection"),
             ("TPPC-GEN-40", "TableTopRollRotationDirection"))


@rule("TPPC-ROTATIONS", Severity.ERROR,
      "Nothing but the gantry turns during a beam: the patient support and table top rotation "
      "directions are given in control point 0 and NONE wherever given, Gantry Pitch Rotation "
      "Direction NONE where sent, and the collimator's NONE (given in control point 0) except in "
      "VMAT",
      tool("TPPC-GEN-37…40", "TPPC-GEN-50", "TPPC-<type> BLD Rotation Direction rows",
           "TPPC-VMAT-13", "(ControlPointValueRule, ControlPointOptionalValueRule)"))
@each_plan
def rotations(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        cps = items(beam.dataset, "ControlPointSequence")
        if not cps:
            continue
        checks = list(ROTATIONS)
        spec = beam.spec
        if spec is not None and spec.collimator_fixed:
            checks.append((spec.row("collimator"), "BeamLimitingDeviceRotationDirection"))
        for row, keyword in checks:
            if not present(cps[0], keyword):
                yield _issue(plan, beam, row, f"{name(keyword)} is absent",
                             f"{beam.cp(0)}.{keyword}", 0)
        for row, keyword in [*checks, ("TPPC-GEN-50", "GantryPitchRotationDirection")]:
            for k, cp in enumerate(cps):
                if present(cp, keyword) and text(cp, keyword) != "NONE":
                    yield _issue(plan, beam, row, f"{name(keyword)} "
                                 f"{text(cp, keyword) or '(empty)'}, expected NONE",
                                 f"{beam.cp(k)}.{keyword}", k)
        for row, keyword in checks:
            broken = changes_only(cps, keyword)
            if broken:
                yield _issue(plan, beam, row, broken[1], f"{beam.cp(broken[0])}.{keyword}",
                             broken[0])


# keyword → (row, required in control point 0, held fixed, DICOM's "only where it
# changes" (Type 1C/2C) rather than Type 3)
FIXED = {
    "PatientSupportAngle": ("TPPC-GEN-30", True, True, True),
    "TableTopEccentricAngle": ("TPPC-GEN-31", True, True, True),
    "TableTopPitchAngle": ("TPPC-GEN-32", True, True, True),
    "TableTopRollAngle": ("TPPC-GEN-33", True, True, True),
    "TableTopVerticalPosition": ("TPPC-GEN-34", True, True, True),
    "TableTopLongitudinalPosition": ("TPPC-GEN-35", True, True, True),
    "TableTopLateralPosition": ("TPPC-GEN-36", True, True, True),
    "TableTopEccentricAxisDistance": ("TPPC-GEN-41", False, True, False),
    "BeamLimitingDeviceAngle": ("TPPC-GEN-43", True, True, True),
    "NominalBeamEnergy": ("TPPC-GEN-47", True, True, True),
    "DoseRateSet": ("TPPC-GEN-48", True, False, False),
    "IsocenterPosition": ("TPPC-GEN-51", True, True, True),
}


def _value(cp, keyword: str) -> tuple[float, ...] | str:
    values = numbers(cp, keyword)
    return tuple(values) if values is not None else text(cp, keyword)


@rule("TPPC-CP-FIXED", Severity.ERROR,
      "Control point 0 gives the patient support and table top angles and positions, the "
      "collimator angle, energy, dose rate and isocentre; a beam holds them fixed (the "
      "collimator may turn in VMAT, the dose rate may change), and gives them again only where "
      "they change; a Gantry Pitch Angle, where sent, is 0",
      tool("TPPC-GEN-30…36", "TPPC-GEN-41", "TPPC-GEN-43", "TPPC-GEN-47…49", "TPPC-GEN-51",
           "(ControlPointConstantValueRule, OptionalConstantValueRule; GEN-49 inert in the "
           "tool)", note="DICOM PS3.3 C.8.8.14 (Type 1C: required for the first control "
                         "point, or where the value changes), PS3.5 7.4.2"))
@each_plan
def fixed(plan: Instance, graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for beam in beams(plan.dataset):
        cps = items(beam.dataset, "ControlPointSequence")
        if not cps:
            continue
        may_turn = beam.spec is not None and not beam.spec.collimator_fixed
        for keyword, entry in FIXED.items():
            held = entry[2] and not (keyword == "BeamLimitingDeviceAngle" and may_turn)
            yield from _fixed_attribute(plan, beam, cps, keyword, entry, held)
        for k, cp in enumerate(cps):
            pitch = number(cp, "GantryPitchAngle")
            if present(cp, "GantryPitchAngle") and (pitch is None or abs(pitch) > 1e-6):
                yield _issue(plan, beam, "TPPC-GEN-49", f"Gantry Pitch Angle "
                             f"{text(cp, 'GantryPitchAngle') or '(empty)'}, expected 0",
                             f"{beam.cp(k)}.GantryPitchAngle", k)


def _fixed_attribute(plan: Instance, beam: Beam, cps: list, keyword: str,
                     entry: tuple[str, bool, bool, bool], held: bool) -> Iterator[Issue]:
    """One attribute of `FIXED`: in control point 0 where required, unchanged
    where the beam holds it, given again only where it changes."""
    row, required, _, conditional = entry
    if not present(cps[0], keyword):
        if required:
            yield _issue(plan, beam, row, f"{name(keyword)} is absent",
                         f"{beam.cp(0)}.{keyword}", 0)
        return
    if held:
        start = _value(cps[0], keyword)
        changed = next((k for k, cp in enumerate(cps) if k and present(cp, keyword)
                        and _value(cp, keyword) != start), None)
        if changed is not None:
            yield _issue(plan, beam, row, f"{name(keyword)} changes from "
                         f"{text(cps[0], keyword) or '(empty)'} to "
                         f"{text(cps[changed], keyword) or '(empty)'}: the beam holds "
                         "it fixed", f"{beam.cp(changed)}.{keyword}", changed)
            return
    broken = changes_only(cps, keyword) if conditional else None
    if broken:
        yield _issue(plan, beam, row, broken[1], f"{beam.cp(broken[0])}.{keyword}", broken[0])

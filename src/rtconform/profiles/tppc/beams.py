"""TPPC's 14 beam types: what each requires (the IHE-RO test tool's rule
sets, as data), and which type a beam is, detected from its content.

The tool does not detect a beam type: the operator picks one scenario and
every beam of every plan is judged by that type's rules. Here each beam is
classified from what it does — radiation type, applicator, whether the
gantry turns, whether the leaves or jaws move and whether they move while
the beam is on, the wedges and their type, whether an arc modulates its
dose rate — so a plan mixing beam types is judged beam by beam.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from rtconform.dicom.values import integer, items, number, numbers, text
from rtconform.phantom.techniques import TECHNIQUES

JAWS = frozenset({"X", "Y", "ASYMX", "ASYMY"})
MLCS = frozenset({"MLCX", "MLCY"})
UNLIMITED = 2**31 - 1


@dataclass(frozen=True)
class BeamTypeSpec:
    """One TPPC beam type: its rule sheet, as values, and the checklist row
    (TPPC-<abbrev>-nn) of each concept."""

    key: str
    abbrev: str
    scenario: str  # the IHE-RO test tool's ARTO_Scenario name
    beam_type: str  # STATIC | DYNAMIC
    radiation: str
    arc: bool
    wedges: tuple[int, int]
    compensators: tuple[int, int]
    blocks: tuple[int, int]
    control_points: tuple[int, int]
    bld_group: str  # G1 | G2 | G3
    applicator: str | None = None  # None: absent; ELECTRON | PHOTON
    wedge_types: frozenset[str] = frozenset()
    high_dose: frozenset[str] = frozenset()  # allowed High-Dose Technique Types, if checked
    collimator_fixed: bool = True  # BLD Rotation Direction NONE
    ssd: bool = False  # SSD rows when the setup is FIXED_SSD
    rows: dict[str, str] = field(default_factory=dict)

    def row(self, concept: str) -> str:
        return f"TPPC-{self.abbrev}-{self.rows[concept]}"

    def has(self, concept: str) -> bool:
        return concept in self.rows


def _spec(key, abbrev, scenario, beam_type, radiation, arc, wedges, compensators, blocks,
          control_points, bld, rows, **kw) -> BeamTypeSpec:
    return BeamTypeSpec(key, abbrev, scenario, beam_type, radiation, arc, wedges, compensators,
                        blocks, control_points, bld, rows=rows, **kw)


N = UNLIMITED
# Row numbers per concept, from the checklist's beam-type tables.
BEAM_TYPES: dict[str, BeamTypeSpec] = {s.key: s for s in (
    _spec("basic-static", "BS", "BasicStaticBeam", "STATIC", "PHOTON", False, (0, 0), (0, 1),
          (0, 8), (2, 2), "G1", ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "control_points": "07", "gantry": "08",
                "ssd": "09", "external_contour": "10", "collimator": "11",
                "wedge_position": "12", "bld": "13", "modifiers": "14"}),
    _spec("basic-static-mlc", "BSM", "BasicStaticMLCBeam", "STATIC", "PHOTON", False, (0, 0),
          (0, 1), (0, 8), (2, 2), "G3", ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "control_points": "07", "ssd": "08",
                "external_contour": "09", "gantry": "10", "collimator": "11",
                "wedge_position": "12", "bld": "13", "modifiers": "14",
                "leaf_boundaries": "15"}),
    _spec("arc", "ARC", "ArcBeam", "DYNAMIC", "PHOTON", True, (0, 0), (0, 0), (0, 8), (2, 2),
          "G1", high_dose=frozenset({"NORMAL"}),
          rows={"beam_type": "01", "radiation": "02", "high_dose": "03", "wedges": "04",
                "compensators": "05", "blocks": "06", "applicator": "07",
                "control_points": "08", "gantry": "09", "collimator": "10",
                "wedge_position": "11", "bld": "12", "modifiers": "13"}),
    _spec("mlc-fixed-aperture-arc", "MFA", "MLCFixedApertureArcBeam", "DYNAMIC", "PHOTON", True,
          (0, 0), (0, 0), (0, 0), (2, 2), "G3", high_dose=frozenset({"NORMAL"}),
          rows={"beam_type": "01", "radiation": "02", "high_dose": "03", "wedges": "04",
                "compensators": "05", "blocks": "06", "applicator": "07",
                "control_points": "08", "gantry": "09", "collimator": "10",
                "wedge_position": "11", "bld": "12", "modifiers": "13",
                "leaf_boundaries": "14"}),
    _spec("mlc-variable-aperture-arc", "MVA", "MLCVariableApertureArcBeam", "DYNAMIC", "PHOTON",
          True, (0, 0), (0, 0), (0, 8), (2, N), "G2", ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "control_points": "07", "gantry": "08",
                "ssd": "09", "external_contour": "10", "collimator": "11",
                "wedge_position": "12", "bld": "13", "modifiers": "14"}),
    _spec("hard-wedge", "HW", "HardWedgeBeam", "STATIC", "PHOTON", False, (1, 1), (0, 1),
          (0, 8), (2, 2), "G2", wedge_types=frozenset({"STANDARD"}), ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "control_points": "07", "ssd": "08",
                "external_contour": "09", "gantry": "10", "collimator": "11",
                "wedge_position": "12", "wedge_type": "13", "bld": "14", "modifiers": "15",
                "wedge_details": "16"}),
    _spec("virtual-wedge", "VW", "VirtualWedgeBeam", "STATIC", "PHOTON", False, (1, 2), (0, 1),
          (0, 8), (2, 2), "G2", wedge_types=frozenset({"DYNAMIC", "STANDARD"}), ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "control_points": "07", "ssd": "08",
                "external_contour": "09", "gantry": "10", "collimator": "11",
                "wedge_position": "12", "wedge_type": "13", "bld": "14", "modifiers": "15",
                "wedge_tray": "16", "wedge_control_points": "17"}),
    _spec("motorized-wedge", "MW", "MotorizedWedgeBeam", "STATIC", "PHOTON", False, (1, 2),
          (0, 1), (0, 8), (4, 4), "G2", wedge_types=frozenset({"MOTORIZED", "STANDARD"}),
          ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "control_points": "07", "ssd": "08",
                "external_contour": "09", "wedge_position": "10", "gantry": "11",
                "collimator": "12", "wedge_type": "13", "effective_angle": "14",
                "wedge_control_points": "15", "bld": "16", "modifiers": "17",
                "wedge_tray": "18"}),
    _spec("static-electron", "ELEC", "StaticElectronBeam", "STATIC", "ELECTRON", False, (0, 0),
          (0, 1), (0, 8), (2, 2), "G1", applicator="ELECTRON", ssd=True,
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "applicator_items": "07",
                "applicator_id": "08", "applicator_type": "09", "control_points": "10",
                "ssd": "11", "external_contour": "12", "gantry": "13", "collimator": "14",
                "wedge_position": "15", "bld": "16", "modifiers": "17"}),
    _spec("step-and-shoot", "SAS", "StepAndShootBeam", "STATIC", "PHOTON", False, (0, 1), (0, 0),
          (0, 8), (2, N), "G3", wedge_types=frozenset({"STANDARD"}),
          high_dose=frozenset({"NORMAL"}),
          rows={"beam_type": "01", "radiation": "02", "high_dose": "03", "wedges": "04",
                "compensators": "05", "blocks": "06", "applicator": "07",
                "control_points": "08", "gantry": "09", "collimator": "10",
                "wedge_position": "11", "wedge_type": "12", "bld": "13", "modifiers": "14",
                "segments": "15"}),
    _spec("sliding-window", "SW", "SlidingWindowBeam", "DYNAMIC", "PHOTON", False, (0, 1),
          (0, 0), (0, 8), (2, N), "G3", wedge_types=frozenset({"STANDARD"}),
          high_dose=frozenset({"NORMAL"}),
          rows={"beam_type": "01", "radiation": "02", "high_dose": "03", "wedges": "04",
                "compensators": "05", "blocks": "06", "applicator": "07",
                "control_points": "08", "gantry": "09", "collimator": "10",
                "wedge_position": "11", "wedge_type": "12", "bld": "13", "modifiers": "14"}),
    _spec("vmat", "VMAT", "IMATVMATBeam", "DYNAMIC", "PHOTON", True, (0, 0), (0, 0), (0, 0),
          (2, N), "G3", high_dose=frozenset({"NORMAL", "HDR"}), collimator_fixed=False,
          rows={"beam_type": "01", "radiation": "02", "high_dose": "03", "wedges": "04",
                "compensators": "05", "blocks": "06", "applicator": "07",
                "control_points": "08", "gantry": "09", "wedge_position": "10", "bld": "11",
                "modifiers": "12", "collimator": "13"}),
    _spec("photon-applicator", "PA", "PhotonApplicatorBeam", "STATIC", "PHOTON", False, (0, 0),
          (0, 0), (0, 0), (2, 2), "G1", applicator="PHOTON",
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "applicator_items": "07",
                "applicator_id": "08", "applicator_type": "09", "applicator_value": "10",
                "applicator_geometry": "11", "aperture_shape": "12", "opening": "13",
                "control_points": "14", "gantry": "15", "collimator": "16",
                "wedge_position": "17", "bld": "18", "modifiers": "19"}),
    _spec("photon-applicator-arc", "PAA", "PhotonApplicatorArcBeam", "DYNAMIC", "PHOTON", True,
          (0, 0), (0, 0), (0, 0), (2, 2), "G1", applicator="PHOTON",
          rows={"beam_type": "01", "radiation": "02", "wedges": "03", "compensators": "04",
                "blocks": "05", "applicator": "06", "applicator_items": "07",
                "applicator_id": "08", "applicator_type": "09", "applicator_value": "10",
                "applicator_geometry": "11", "aperture_shape": "12", "opening": "13",
                "control_points": "14", "gantry": "15", "collimator": "16",
                "wedge_position": "17", "bld": "18", "modifiers": "19"}),
)}
assert list(BEAM_TYPES) == list(TECHNIQUES), "TPPC's beam types are the sample's techniques"

BLD_GROUPS = {
    "G1": "exactly 2 jaws and no MLC",
    "G2": "at least 1 jaw and exactly 1 MLC, or at least 2 jaws and no MLC",
    "G3": "at least 1 MLC",
}
_LOCK = threading.Lock()
MODULATION = 0.02  # relative spread of meterset per degree beyond which an arc is VMAT


# -- what a beam does -------------------------------------------------------------------------
def gantry_angles(beam: Dataset) -> list[float | None]:
    """The gantry angle at each control point (carried forward where a
    control point leaves it out, as DICOM allows)."""
    out, last = [], None
    for cp in items(beam, "ControlPointSequence"):
        value = number(cp, "GantryAngle")
        last = value if value is not None else last
        out.append(last)
    return out


def device_positions(beam: Dataset) -> list[dict[str, tuple[float, ...]]]:
    """Each control point's Leaf/Jaw Positions by device type, carried forward."""
    out, state = [], {}
    for cp in items(beam, "ControlPointSequence"):
        state = dict(state)
        for position in items(cp, "BeamLimitingDevicePositionSequence"):
            values = numbers(position, "LeafJawPositions")
            if values is not None:
                state[text(position, "RTBeamLimitingDeviceType")] = tuple(values)
        out.append(state)
    return out


def _as_written(position: Dataset) -> tuple[str, ...]:
    """Leaf/Jaw Positions as the strings written, whether or not the element
    was decoded yet: comparing them needs no decoding of the thousands of
    values of a VMAT arc."""
    raw = position.get_item("LeafJawPositions")
    if isinstance(raw, RawDataElement) and isinstance(raw.value, bytes):
        return tuple(v.strip() for v in raw.value.decode("ascii", "replace")
                     .strip("\x00 ").split("\\"))
    value = position.LeafJawPositions
    values = value if isinstance(value, list | tuple) or type(value).__name__ == \
        "MultiValue" else [value]
    return tuple(str(v).strip() for v in values)


def _encoded_positions(beam: Dataset) -> list[dict[str, tuple[str, ...]]]:
    """Each control point's Leaf/Jaw Positions by device, as written, carried
    forward: enough to see whether anything moves."""
    out, state = [], {}
    for cp in items(beam, "ControlPointSequence"):
        state = dict(state)
        for position in items(cp, "BeamLimitingDevicePositionSequence"):
            if "LeafJawPositions" in position:
                state[text(position, "RTBeamLimitingDeviceType")] = _as_written(position)
        out.append(state)
    return out


def weights(beam: Dataset) -> list[float | None]:
    return [number(cp, "CumulativeMetersetWeight") for cp in items(beam, "ControlPointSequence")]


def turn(a: float, b: float) -> float:
    """The signed smallest turn from a to b, in degrees (CW positive)."""
    return (b - a + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class BeamFacts:
    radiation: str
    applicator: bool
    arc: bool
    mlc: bool
    moves: bool  # leaves or jaws change between control points
    moves_beam_on: bool  # … while the meterset grows
    modulated: bool  # an arc whose meterset per degree varies
    wedge_types: frozenset[str]


def facts(beam: Dataset) -> BeamFacts:
    cps = items(beam, "ControlPointSequence")
    angles = gantry_angles(beam)
    arc = any(a is not None and b is not None and abs(turn(a, b)) > 1e-6
              for a, b in pairwise(angles)) or any(
        text(cp, "GantryRotationDirection") in ("CW", "CC") for cp in cps[:-1])
    devices = {text(d, "RTBeamLimitingDeviceType")
               for d in items(beam, "BeamLimitingDeviceSequence")}
    positions = _encoded_positions(beam)
    w = weights(beam)
    moves = on = False
    for k in range(1, len(positions)):
        changed = positions[k] != positions[k - 1]
        moves |= changed
        if changed and w[k] is not None and w[k - 1] is not None and w[k] > w[k - 1] + 1e-9:
            on = True
    rates = []
    for k in range(1, len(cps)):
        if None in (angles[k], angles[k - 1], w[k], w[k - 1]):
            continue
        degrees = abs(turn(angles[k - 1], angles[k]))
        if degrees > 1e-6:
            rates.append((w[k] - w[k - 1]) / degrees)
    modulated = len(rates) > 1 and max(rates) > 0 and \
        (max(rates) - min(rates)) / max(rates) > MODULATION
    return BeamFacts(text(beam, "RadiationType"), bool(items(beam, "ApplicatorSequence")), arc,
                     bool(devices & MLCS), moves, on, modulated,
                     frozenset(text(w_, "WedgeType") for w_ in items(beam, "WedgeSequence")))


def detect(beam: Dataset) -> str | None:
    """The TPPC beam type of a beam, from its content; None when it is none
    of the 14 (an electron arc, a proton beam, jaws moving without MLC or
    virtual wedge)."""
    f = facts(beam)
    if f.radiation == "ELECTRON":
        return None if f.arc else "static-electron"
    if f.radiation != "PHOTON":
        return None
    if f.applicator:
        return "photon-applicator-arc" if f.arc else "photon-applicator"
    if f.arc:
        if not f.mlc:
            return "arc"
        if not f.moves:
            return "mlc-fixed-aperture-arc"
        return "vmat" if f.modulated else "mlc-variable-aperture-arc"
    if f.moves and f.mlc:
        return "sliding-window" if f.moves_beam_on else "step-and-shoot"
    if "MOTORIZED" in f.wedge_types:
        return "motorized-wedge"
    if "DYNAMIC" in f.wedge_types:
        return "virtual-wedge"
    if f.moves:
        return None  # jaws sweep without an MLC or a virtual wedge
    if "STANDARD" in f.wedge_types:
        return "hard-wedge"
    return "basic-static-mlc" if f.mlc else "basic-static"


def why_none(beam: Dataset) -> str:
    f = facts(beam)
    if f.radiation == "ELECTRON":
        return "an electron arc"
    if f.radiation != "PHOTON":
        return f"Radiation Type {f.radiation or '(absent)'}"
    return "its jaws move during the beam without an MLC or a virtual wedge"


# -- walking a plan's beams ------------------------------------------------------------------
@dataclass
class Beam:
    """A beam of a plan, where it is, and what it was detected as."""

    index: int
    dataset: Dataset
    spec: BeamTypeSpec | None

    @property
    def path(self) -> str:
        return f"BeamSequence[{self.index}]"

    @property
    def label(self) -> str:
        return f"beam {integer(self.dataset, 'BeamNumber')} {text(self.dataset, 'BeamName')!r}"

    def cp(self, k: int) -> str:
        return f"{self.path}.ControlPointSequence[{k}]"

    def say(self, row: str, what: str, k: int | None = None) -> str:
        """The finding's words: row id, beam (number, name, detected type),
        control point, what is wrong."""
        kind = f" ({self.spec.key})" if self.spec else ""
        where = f", control point {k}" if k is not None else ""
        return f"{row}: {self.label}{kind}{where}: {what}"


_DETECTED: OrderedDict[int, tuple[Dataset, list[Beam]]] = OrderedDict()


def beams(plan: Dataset | None) -> Iterator[Beam]:
    """The plan's beams with their detected types. Every TPPC rule walks
    them, so the detection of the last few plans is kept (by the dataset
    itself, held while kept, so an id is never mistaken for another's)."""
    if plan is None:
        return
    key = id(plan)
    with _LOCK:
        kept = _DETECTED.get(key)
    if kept is None or kept[0] is not plan:
        found = []
        for b, beam in enumerate(items(plan, "BeamSequence")):
            kind = detect(beam)
            found.append(Beam(b, beam, BEAM_TYPES[kind] if kind else None))
        kept = (plan, found)
        with _LOCK:
            _DETECTED[key] = kept
            while len(_DETECTED) > 16:
                _DETECTED.popitem(last=False)
    yield from kept[1]


def degrees_travelled(beam: Dataset) -> float:
    """How far the gantry turns over the beam (for the report)."""
    angles = [a for a in gantry_angles(beam) if a is not None]
    return sum(abs(turn(a, b)) for a, b in pairwise(angles))


def is_close(a: float | None, b: float | None, tolerance: float = 1e-6) -> bool:
    return a is not None and b is not None and math.isclose(a, b, abs_tol=tolerance)

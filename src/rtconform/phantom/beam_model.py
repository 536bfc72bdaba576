"""A beam as a planning system decides it, before it is DICOM: the
machine (SAD, a Millennium-120-like MLC), apertures in the beam's-eye view,
and the control points of static fields and arcs (mm, degrees)."""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from pydicom.dataset import Dataset

from rtconform.phantom.design import BODY_A, BODY_B

MACHINE = "RTC_LINAC"
SAD = 1000.0
TARGET_MM = 35.0  # the PTV (30 mm) plus the margin the apertures give it
# Millennium-120-like MLC: 10 pairs of 10 mm, 40 of 5 mm, 10 of 10 mm
MLC_WIDTHS = [10.0] * 10 + [5.0] * 40 + [10.0] * 10
MLC_BOUNDARIES = [-200.0 + sum(MLC_WIDTHS[:i]) for i in range(len(MLC_WIDTHS) + 1)]
PARKED = -TARGET_MM - 15  # where a closed leaf pair waits, under the X1 jaw


def fl(value: float) -> float:
    """An FL value as it is written (32 bits) and read back, to 0.1 mm: what
    is compared after a round trip is what was sent."""
    return float(np.float32(round(value, 1)))


def weight_ds(value: float) -> str:
    """A meterset weight as DS, to 6 decimals: a VMAT arc's steps are small."""
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def skin_distance(gantry: float, iso: tuple[float, float] = (0.0, 0.0)) -> float:
    """Distance (mm) from the isocentre to the body outline towards the source
    (IEC gantry angle, head-first supine: the source is at -y at 0 degrees)."""
    theta = math.radians(gantry)
    ux, uy = math.sin(theta), -math.cos(theta)
    x0, y0 = iso
    # solve (x0 + t ux)^2 / a^2 + (y0 + t uy)^2 / b^2 = 1 for t > 0
    a = (ux / BODY_A) ** 2 + (uy / BODY_B) ** 2
    b = 2 * (x0 * ux / BODY_A ** 2 + y0 * uy / BODY_B ** 2)
    c = (x0 / BODY_A) ** 2 + (y0 / BODY_B) ** 2 - 1
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def aperture(half_width: Callable[[float], float]) -> list[float]:
    """Leaf/Jaw Positions of the MLCX (bank A then bank B) opening each pair
    to ±half_width(pair centre); pairs with no opening closed under the X1 jaw."""
    a, b = [], []
    for lo, hi in pairwise(MLC_BOUNDARIES):
        w = half_width((lo + hi) / 2)
        if w > 0.5:
            a.append(-w)
            b.append(w)
        else:
            a.append(PARKED)
            b.append(PARKED)
    return a + b


def circle(radius: float) -> Callable[[float], float]:
    return lambda y: math.sqrt(radius * radius - y * y) if abs(y) < radius else 0.0


def ellipsoid_outline(gantry: float) -> Callable[[float], float]:
    """The beam's-eye view of an ellipsoidal target (35 × 25 × 35 mm, x y z)
    at this gantry angle: why a conformal arc's aperture changes as it turns."""
    theta = math.radians(gantry)
    width = math.hypot(TARGET_MM * math.cos(theta), 25.0 * math.sin(theta))
    return lambda y: width * math.sqrt(1 - (y / TARGET_MM) ** 2) if abs(y) < TARGET_MM else 0.0


# -- what a control point holds ------------------------------------------------------------
@dataclass
class ControlPoint:
    weight: float
    gantry: float | None = None  # None: unchanged from the control point before
    direction: str | None = None
    mlc: list[float] | None = None
    jaws: tuple[list[float], list[float]] | None = None
    wedges: dict[int, str] = field(default_factory=dict)  # wedge number → IN/OUT


@dataclass
class BeamPlan:
    """One beam as the planning system decided it."""

    name: str
    gantry: float
    points: list[ControlPoint]
    beam_type: str = "STATIC"
    radiation: str = "PHOTON"
    energy: float = 6.0
    dose_rate: float = 600.0
    meterset: float = 100.0
    couch: float = 0.0
    jaws: tuple[list[float], list[float]] = ([-45.0, 45.0], [-45.0, 45.0])
    jaw_types: tuple[str, str] = ("ASYMX", "ASYMY")
    mlc: bool = False
    wedges: list[Dataset] = field(default_factory=list)
    blocks: list[Dataset] = field(default_factory=list)
    compensators: list[Dataset] = field(default_factory=list)
    applicator: Dataset | None = None
    bolus: bool = False
    fluence: tuple[str, str | None] = ("STANDARD", None)
    high_dose: str | None = None
    iso: tuple[float, float, float] = (0.0, 0.0, 0.0)


# -- the beams of each technique ------------------------------------------------------------
def static(weight_points: Seq[float] = (0.0, 1.0)) -> list[ControlPoint]:
    return [ControlPoint(w) for w in weight_points]


def arc_points(start: float, span: float, direction: str, step: float,
               mlc: Callable[[float], list[float]] | None = None,
               rate: Callable[[float], float] | None = None) -> list[ControlPoint]:
    """Control points every `step` degrees along an arc; the meterset each
    step gets follows `rate` (constant when None)."""
    sign = 1 if direction == "CW" else -1
    steps = max(1, round(span / step))
    angles = [(start + sign * span * k / steps) % 360 for k in range(steps + 1)]
    weights = [0.0]
    for k in range(1, steps + 1):
        middle = (start + sign * span * (k - 0.5) / steps) % 360
        weights.append(weights[-1] + (rate(middle) if rate else 1.0))
    weights = [w / weights[-1] for w in weights]
    points = []
    for k, (angle, weight) in enumerate(zip(angles, weights, strict=True)):
        last = k == steps
        points.append(ControlPoint(round(weight, 6), None if k == 0 else round(angle, 4),
                                   "NONE" if last else direction,
                                   mlc(angle) if mlc and (k == 0 or steps > 1) else None))
    points[0].direction = direction
    return points

"""What a report shows of each RT Plan received: a beam table (each beam's
type as detected, radiation, energy, applicator, wedges, modifiers, control
points, gantry, MU) and a beam's-eye view of each beam at its first control
point — jaws, MLC aperture, applicator, block outline and wedge, and for an
arc the gantry's sweep — so a reviewer sees what the planning system made.
One picture set per kind of plan (the same beam types drawn once)."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from rtconform.dicom.values import integer, items, number, numbers, text
from rtconform.profiles.tppc.beams import beams, degrees_travelled, gantry_angles

MAX_PLANS = 40  # tables
MAX_VIEWS = 32  # beam's-eye views in all
VIEWS_PER_PLAN = 2  # enough to show the kind
FIELD_MM = 200.0  # the view's half width when nothing limits it


def _mu(plan: Dataset) -> dict[int | None, float | None]:
    return {integer(ref, "ReferencedBeamNumber"): number(ref, "BeamMeterset")
            for group in items(plan, "FractionGroupSequence")
            for ref in items(group, "ReferencedBeamSequence")}


def _gantry(beam: Dataset) -> str:
    angles = [a for a in gantry_angles(beam) if a is not None]
    cps = items(beam, "ControlPointSequence")
    direction = text(cps[0], "GantryRotationDirection") if cps else ""
    if not angles:
        return ""
    travelled = degrees_travelled(beam)
    if direction in ("CW", "CC") and travelled:
        return f"{angles[0]:g}° → {angles[-1]:g}° {direction} ({travelled:g}°)"
    return f"{angles[0]:g}°"


def beam_rows(plan: Dataset, redact: Callable[[str], str] = str) -> list[dict]:
    """One row per beam, as the report's table shows it."""
    mu = _mu(plan)
    rows = []
    for beam in beams(plan):
        ds = beam.dataset
        cps = items(ds, "ControlPointSequence")
        radiation = text(ds, "RadiationType")
        energy = number(cps[0], "NominalBeamEnergy") if cps else None
        unit = "MeV" if radiation == "ELECTRON" else "MV"
        applicators = ", ".join(f"{text(a, 'ApplicatorID')} ({text(a, 'ApplicatorType')})"
                                for a in items(ds, "ApplicatorSequence"))
        wedges = ", ".join(f"{text(w, 'WedgeID')} {text(w, 'WedgeType')} "
                           f"{text(w, 'WedgeAngle')}°" for w in items(ds, "WedgeSequence"))
        modifiers = ", ".join(f"{len(items(ds, seq))} {what}" for seq, what in (
            ("ReferencedBolusSequence", "bolus"), ("BlockSequence", "block"),
            ("CompensatorSequence", "compensator")) if items(ds, seq))
        beam_mu = mu.get(integer(ds, "BeamNumber"))
        rows.append({
            "beam": integer(ds, "BeamNumber"), "name": redact(text(ds, "BeamName")),
            "type": beam.spec.key if beam.spec else "none of TPPC's",
            "radiation": radiation, "energy": f"{energy:g} {unit}" if energy else "",
            "applicator": applicators, "wedges": wedges, "modifiers": modifiers,
            "control_points": len(cps), "gantry": _gantry(ds),
            "couch": f"{number(cps[0], 'PatientSupportAngle'):g}°"
            if cps and number(cps[0], "PatientSupportAngle") is not None else "",
            "mu": f"{beam_mu:g}" if beam_mu is not None else ""})
    return rows


def _positions(cp: Dataset) -> dict[str, list[float]]:
    return {text(p, "RTBeamLimitingDeviceType"): numbers(p, "LeafJawPositions") or []
            for p in items(cp, "BeamLimitingDevicePositionSequence")}


def _applicator_size(applicator: Dataset) -> float | None:
    """An applicator's opening at the isocentre (mm): its geometry, else the
    size its ID names (A10: 10 cm)."""
    for geometry in items(applicator, "ApplicatorGeometrySequence"):
        opening = number(geometry, "ApplicatorOpening")
        if opening:
            return opening
    found = re.search(r"(\d+)", text(applicator, "ApplicatorID"))
    if not found:
        return None
    size = float(found.group(1))
    return size * 10 if "ELECTRON" in text(applicator, "ApplicatorType") else size


def beams_eye_view(beam: Dataset, title: str) -> bytes:
    """The beam at its first control point, seen from the source, in mm at
    the isocentre plane: X to the right, Y up."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    cps = items(beam, "ControlPointSequence")
    first = cps[0] if cps else Dataset()
    positions = _positions(first)
    x_jaw = positions.get("ASYMX") or positions.get("X") or [-FIELD_MM / 2, FIELD_MM / 2]
    y_jaw = positions.get("ASYMY") or positions.get("Y") or [-FIELD_MM / 2, FIELD_MM / 2]
    half = max(40.0, *(abs(v) for v in (*x_jaw, *y_jaw))) * 1.25
    fig, ax = plt.subplots(figsize=(2.6, 2.6), dpi=100)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.1, top=0.9)
    ax.set_facecolor("#202020")
    _draw_leaves(ax, beam, positions, half)
    _draw_jaws(ax, x_jaw, y_jaw)
    _draw_applicators(ax, beam, half)
    _draw_blocks(ax, beam)
    _draw_wedges(ax, beam, half)
    _draw_arc(fig, beam, text(first, "GantryRotationDirection"))
    _draw_frame(ax, half, title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _draw_leaves(ax, beam: Dataset, positions: dict[str, list[float]], half: float) -> None:
    """The MLC's leaves (grey), each bank from the edge of the view to its
    tip; an MLC whose positions do not match its boundaries is not drawn."""
    from matplotlib import patches

    devices = {text(d, "RTBeamLimitingDeviceType"): d
               for d in items(beam, "BeamLimitingDeviceSequence")}
    for kind, vertical in (("MLCX", False), ("MLCY", True)):
        values = positions.get(kind)
        bounds = numbers(devices.get(kind), "LeafPositionBoundaries") if kind in devices \
            else None
        if not values or not bounds or len(values) != 2 * (len(bounds) - 1):
            continue
        for xy, w, h in _leaf_rectangles(values, bounds, half, vertical):
            ax.add_patch(patches.Rectangle(xy, w, h, facecolor="#8a8a8a",
                                           edgecolor="#5a5a5a", linewidth=0.3))


def _leaf_rectangles(values: list[float], bounds: list[float], half: float, vertical: bool
                     ) -> Iterator[tuple[tuple[float, float], float, float]]:
    """(corner, width, height) of each leaf of both banks (bank A, then B)."""
    pairs = len(bounds) - 1
    for i in range(pairs):
        lo, hi = bounds[i], bounds[i + 1]
        for start, end in ((-half * 2, values[i]), (values[pairs + i], half * 2)):
            if end <= start:
                continue
            yield ((lo, start), hi - lo, end - start) if vertical else \
                ((start, lo), end - start, hi - lo)


def _draw_jaws(ax, x_jaw: list[float], y_jaw: list[float]) -> None:
    """The jaws' opening (yellow)."""
    from matplotlib import patches

    ax.add_patch(patches.Rectangle((x_jaw[0], y_jaw[0]), x_jaw[1] - x_jaw[0],
                                   y_jaw[1] - y_jaw[0], fill=False, edgecolor="#ffd400",
                                   linewidth=1.4, label="jaws"))


def _draw_applicators(ax, beam: Dataset, half: float) -> None:
    """Each applicator (blue): a circle for a cone, else a square, with its ID."""
    from matplotlib import patches

    for applicator in items(beam, "ApplicatorSequence"):
        size = _applicator_size(applicator)
        if not size:
            continue
        if "CIRC" in text(applicator, "ApplicatorType"):
            shape = patches.Circle((0, 0), size / 2, fill=False, edgecolor="#36c5f0",
                                   linewidth=1.4)
        else:
            shape = patches.Rectangle((-size / 2, -size / 2), size, size, fill=False,
                                      edgecolor="#36c5f0", linewidth=1.4)
        ax.add_patch(shape)
        ax.text(-half * 0.95, half * 0.85, text(applicator, "ApplicatorID"), color="#36c5f0",
                fontsize=6)


def _draw_blocks(ax, beam: Dataset) -> None:
    """Each block's outline (red; a shielding block hatched)."""
    from matplotlib import patches

    for block in items(beam, "BlockSequence"):
        data = numbers(block, "BlockData") or []
        if len(data) >= 6:
            ax.add_patch(patches.Polygon(list(zip(data[::2], data[1::2], strict=False)),
                                         closed=True, fill=False, edgecolor="#ff5a5a",
                                         linewidth=1.1,
                                         hatch=None if text(block, "BlockType") == "APERTURE"
                                         else "///"))


def _draw_wedges(ax, beam: Dataset, half: float) -> None:
    """Each wedge (green): an arrow along its orientation, its ID and type."""
    for k, wedge in enumerate(items(beam, "WedgeSequence")):
        angle = math.radians(number(wedge, "WedgeOrientation") or 0.0)
        length = half * 0.5
        y = -half * (0.7 - 0.15 * k)
        ax.annotate("", xy=(length * math.sin(angle), y + length * math.cos(angle) * 0.3),
                    xytext=(0, y), arrowprops={"arrowstyle": "->", "color": "#7dd87d"})
        ax.text(0, y - half * 0.12, f"{text(wedge, 'WedgeID')} {text(wedge, 'WedgeType')}",
                color="#7dd87d", fontsize=5.5, ha="center")


def _draw_arc(fig, beam: Dataset, direction: str) -> None:
    """An arc's sweep, in an inset: from its first angle, as far as it
    travels, in its direction."""
    angles = [a for a in gantry_angles(beam) if a is not None]
    if direction not in ("CW", "CC") or len(angles) <= 1:
        return
    sweep = fig.add_axes((0.70, 0.70, 0.26, 0.26), projection="polar")
    sweep.set_theta_zero_location("N")
    sweep.set_theta_direction(-1)  # clockwise, as IEC gantry angles run
    travelled = degrees_travelled(beam)
    sign = 1 if direction == "CW" else -1
    steps = [math.radians(angles[0] + sign * travelled * t / 60) for t in range(61)]
    sweep.plot(steps, [1] * len(steps), color="#ffd400", linewidth=1.2)
    sweep.plot([steps[-1]], [1], marker=">" if sign > 0 else "<", color="#ffd400",
               markersize=3)
    sweep.set_ylim(0, 1.1)
    sweep.set_xticks([])
    sweep.set_yticks([])
    sweep.set_facecolor("#303030")


def _draw_frame(ax, half: float, title: str) -> None:
    """The axes through the isocentre, the view's extent and its title."""
    ax.axhline(0, color="#606060", linewidth=0.4)
    ax.axvline(0, color="#606060", linewidth=0.4)
    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=5)
    ax.set_title(title, fontsize=6.5)


def plan_reports(paths: list[Path], redact: Callable[[str], str] = str,
                 pictures: bool = True) -> list[dict]:
    """The received RT Plans, each with its beam table and (one plan per
    kind of beams) the views of its first beams."""
    out, drawn, views = [], set(), 0
    seen: set[str] = set()
    for path in paths:
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True,
                                     specific_tags=["Modality", "SOPInstanceUID"])
        except (InvalidDicomError, OSError, EOFError, ValueError):
            continue  # an object that cannot be read: the report's annex names it
        uid = str(header.get("SOPInstanceUID", ""))
        if header.get("Modality") != "RTPLAN" or uid in seen:
            continue
        seen.add(uid)
        plan = pydicom.dcmread(path)
        rows = beam_rows(plan, redact)
        entry = {"title": f"RT Plan {redact(text(plan, 'RTPlanLabel'))}", "beams": rows,
                 "views": []}
        kind = tuple(sorted({r["type"] for r in rows}))
        if pictures and kind not in drawn and views < MAX_VIEWS:
            drawn.add(kind)
            for beam, row in list(zip(beams(plan), rows, strict=True))[:VIEWS_PER_PLAN]:
                if views >= MAX_VIEWS:
                    break
                caption = (f"beam {row['beam']} {row['name']!r} ({row['type']}): "
                           f"{row['gantry'] or 'gantry —'}, first control point")
                entry["views"].append({"caption": caption, "png": beams_eye_view(
                    beam.dataset, f"beam {row['beam']} {row['name']}")})
                views += 1
        out.append(entry)
        if len(out) >= MAX_PLANS:
            break
    return out

"""Per-beam doses against the plan dose: a planning system that exports one
RT Dose per beam (Dose Summation Type BEAM) and the plan dose (PLAN) must
export doses that add up, and one dose for each of the plan's beams.

The grids are read here (the graph holds headers only) and compared voxel by
voxel on the plan dose's grid; a beam dose on another grid is resampled onto
it (trilinear, scipy), points outside it count as zero dose."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pydicom

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.values import integer, items, number, numbers, text, uid_of
from rtconform.findings import Severity
from rtconform.profiles.dicom_rt.plan import beam_numbers
from rtconform.rules.registry import Issue, RuleContext, rule

RELATIVE_TOLERANCE = 0.01  # of the plan dose's maximum
ABSOLUTE_TOLERANCE_GY = 0.01


def _plan_of(dose: Instance) -> str:
    refs = items(dose.dataset, "ReferencedRTPlanSequence")
    return uid_of(refs[0]) if refs else ""


def _beams_of(dose: Instance) -> set[int]:
    out = set()
    for ref in items(dose.dataset, "ReferencedRTPlanSequence"):
        for group in items(ref, "ReferencedFractionGroupSequence"):
            out |= {integer(b, "ReferencedBeamNumber")
                    for b in items(group, "ReferencedBeamSequence")}
    return out


def load_grid(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dose in Gy as z, y, x; z, y, x axes in mm) of an axial RT Dose."""
    ds = pydicom.dcmread(inst.path)
    scaling = float(ds.DoseGridScaling)
    grid = ds.pixel_array.astype(np.float64) * scaling
    if grid.ndim == 2:
        grid = grid[np.newaxis]
    x0, y0, z0 = (float(v) for v in ds.ImagePositionPatient)
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    offsets = [float(v) for v in ds.get("GridFrameOffsetVector", [0.0])]
    xs = x0 + col_mm * np.arange(grid.shape[2])
    ys = y0 + row_mm * np.arange(grid.shape[1])
    zs = z0 + np.asarray(offsets[:grid.shape[0]])
    return grid, zs, ys, xs


def on_grid(source, target_axes) -> np.ndarray:
    """`source` dose resampled at the points of `target_axes` (zero outside)."""
    grid, zs, ys, xs = source
    tz, ty, tx = target_axes
    if grid.shape == (len(tz), len(ty), len(tx)) and np.allclose(zs, tz) \
            and np.allclose(ys, ty) and np.allclose(xs, tx):
        return grid
    from scipy.interpolate import RegularGridInterpolator  # half a second: only when needed

    order = [np.argsort(a) for a in (zs, ys, xs)]  # axes must ascend
    values = grid[np.ix_(*order)]
    axes = tuple(a[o] for a, o in zip((zs, ys, xs), order, strict=True))
    if any(len(a) < 2 for a in axes):
        raise ValueError("a dose grid with a single row, column or frame cannot be resampled")
    sample = RegularGridInterpolator(axes, values, bounds_error=False, fill_value=0.0)
    points = np.stack(np.meshgrid(tz, ty, tx, indexing="ij"), axis=-1)
    return sample(points)


def _axial(inst: Instance) -> bool:
    iop = numbers(inst.dataset, "ImageOrientationPatient")
    return iop is not None and np.allclose(iop, [1, 0, 0, 0, 1, 0], atol=1e-3)


@rule("DOSE-BEAM-SUM", Severity.ERROR,
      "Per-beam doses (Dose Summation Type BEAM) add up to the plan dose within max(1 % of "
      "its maximum, 0.01 Gy), and every beam of the plan has one",
      "DICOM PS3.3 C.8.8.3 (Dose Summation Type: BEAM doses of one plan are parts of its PLAN "
      "dose); a planning system's export consistency")
def beam_sum(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for plan_dose in graph.doses:
        if text(plan_dose.dataset, "DoseSummationType") != "PLAN":
            continue
        beam_doses = _beam_doses_of(graph, plan_dose)
        if not beam_doses:
            continue  # a plan dose alone: nothing to add up
        missing = _missing_beams(graph, plan_dose, beam_doses, ctx)
        if missing is not None:
            yield missing
        elif _comparable(plan_dose, beam_doses):
            yield from _sum_difference(plan_dose, beam_doses)


def _beam_doses_of(graph: ObjectGraph, plan_dose: Instance) -> list[Instance]:
    """The BEAM doses of the plan the plan dose belongs to."""
    plan_uid = _plan_of(plan_dose)
    return [d for d in graph.doses if text(d.dataset, "DoseSummationType") == "BEAM"
            and _plan_of(d) == plan_uid and plan_uid]


def _missing_beams(graph: ObjectGraph, plan_dose: Instance, beam_doses: list[Instance],
                   ctx: RuleContext) -> Issue | None:
    """The plan's beams no BEAM dose covers (the plan in the set only)."""
    plan = graph.get(_plan_of(plan_dose))
    if plan is None or plan.kind != "rtplan":
        return None
    covered = set().union(*(_beams_of(d) for d in beam_doses))
    missing = sorted(set(beam_numbers(plan.dataset)) - covered)
    if not missing:
        return None
    return Issue(f"beam(s) {missing} of plan {plan.label} have no BEAM dose among "
                 f"the {len(beam_doses)} exported: the doses cannot add up to the "
                 "plan dose", "ReferencedRTPlanSequence", plan_dose,
                 severity=None if ctx.complete else Severity.WARNING)


def _comparable(plan_dose: Instance, beam_doses: list[Instance]) -> bool:
    """Axial grids with a scaling and one unit: oblique grids are not
    compared here; DOSE-GRID-SCALING and DOSE-UNITS-TYPE say why the others
    are not."""
    doses = (plan_dose, *beam_doses)
    if not all(_axial(d) for d in doses):
        return False
    if any(number(d.dataset, "DoseGridScaling") in (None, 0) for d in doses):
        return False
    return len({text(d.dataset, "DoseUnits") for d in doses}) == 1


def _sum_difference(plan_dose: Instance, beam_doses: list[Instance]) -> Iterator[Issue]:
    """The beam doses added up on the plan dose's grid, against it."""
    try:
        target = load_grid(plan_dose)
        total = sum(on_grid(load_grid(d), target[1:]) for d in beam_doses)
    except (ValueError, AttributeError, OSError, KeyError) as exc:
        yield Issue(f"the doses could not be added up: {type(exc).__name__}: {exc}",
                    "PixelData", plan_dose, severity=Severity.WARNING)
        return
    reference = target[0]
    tolerance = max(RELATIVE_TOLERANCE * float(reference.max()), ABSOLUTE_TOLERANCE_GY)
    difference = np.abs(total - reference)
    worst = float(difference.max())
    if worst > tolerance:
        z, y, x = np.unravel_index(int(difference.argmax()), difference.shape)
        unit = text(plan_dose.dataset, "DoseUnits") or "GY"
        yield Issue(f"the {len(beam_doses)} BEAM doses add up to "
                    f"{float(total[z, y, x]):.3f} {unit} where the plan dose has "
                    f"{float(reference[z, y, x]):.3f} {unit} (at x {target[3][x]:.1f}, "
                    f"y {target[2][y]:.1f}, z {target[1][z]:.1f} mm; tolerance "
                    f"{tolerance:.3f} {unit})", "PixelData", plan_dose)

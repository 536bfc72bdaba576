"""The cumulative DVH of an RT set, in the ROI colours of its pictures, with
D95, Dmean, Dmax and V(prescription) per structure: from the RT DVH module
when the dose has one, else computed from the dose grid and the contours.

dicompyler-core's dvhcalc was the maintained library to use; its released
version (0.5.6) imports `pydicom.dicomio.read_file`, which pydicom 3 removed,
so the DVH is computed here and checked against an analytic phantom in
tests/report/test_report.py."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure  # not pyplot: no global figure state, less to import
from matplotlib.path import Path as PolygonPath
from pydicom.dataset import Dataset

from rtconform.report.pictures import (
    OUTLINE,
    PAGE_WIDTH_IN,
    DoseGrid,
    contours,
    png_bytes,
    roi_colours,
    roi_names,
)


def dvh_curves(ss: Dataset, dose: Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cumulative DVH per ROI: from the RT DVH module when the dose has one,
    else computed: every dose voxel centre inside a contour on its plane."""
    names = roi_names(ss)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "DVHSequence" in dose:
        for dvh in dose.DVHSequence:
            data = np.array([float(v) for v in dvh.DVHData]).reshape(-1, 2)
            edges = np.concatenate([[0], np.cumsum(data[:, 0])]) * float(
                dvh.get("DVHDoseScaling", 1))
            volume = data[:, 1] / data[0, 1] * 100 if data[0, 1] else data[:, 1]
            roi = int(dvh.DVHReferencedROISequence[0].ReferencedROINumber)
            curves[names.get(roi, str(roi))] = (edges[:-1], volume)
        return curves
    top = DoseGrid(dose).gy.max()
    axis = np.linspace(0, top * 1.05, 200)
    for name, doses in dvh_voxels(ss, dose).items():
        curves[name] = (axis, np.array([(doses >= d).mean() * 100 for d in axis]))
    return curves


def dvh_voxels(ss: Dataset, dose: Dataset) -> dict[str, np.ndarray]:
    """Per ROI, the dose (Gy) of every dose voxel whose centre lies inside one
    of its contours on the voxel's plane."""
    names = roi_names(ss)
    grid = DoseGrid(dose)
    xx, yy = np.meshgrid(grid.x, grid.y)
    centres = np.column_stack([xx.ravel(), yy.ravel()])
    voxels: dict[int, list[np.ndarray]] = {}
    for number, kind, pts in contours(ss):
        if kind != "CLOSED_PLANAR":
            continue
        plane = grid.plane(pts[0, 2])
        if plane is None:
            continue
        inside = PolygonPath(pts[:, :2]).contains_points(centres)
        if inside.any():
            voxels.setdefault(number, []).append(plane.ravel()[inside])
    return {names.get(n, str(n)): np.concatenate(parts) for n, parts in voxels.items()}


def voxel_statistics(voxels: dict[str, np.ndarray], prescription: float | None) -> list[dict]:
    """D95, Dmean, Dmax (Gy) and V(prescription) (%) from the voxel doses."""
    return [{"structure": name, "d95_gy": round(float(np.percentile(d, 5)), 2),
             "dmean_gy": round(float(d.mean()), 2), "dmax_gy": round(float(d.max()), 2),
             "v_rx_percent": round(float((d >= prescription).mean() * 100), 1)
             if prescription else None}
            for name, d in sorted(voxels.items()) if len(d)]


def dvh_statistics(curves: dict[str, tuple[np.ndarray, np.ndarray]],
                   prescription: float | None) -> list[dict]:
    """D95, Dmean, Dmax (Gy) and V(prescription) (%) of each cumulative DVH
    (binned: for a dose's own RT DVH module)."""
    rows = []
    for name, (dose_axis, volume) in sorted(curves.items()):
        if not len(volume) or volume[0] <= 0:
            continue
        volume = np.asarray(volume, dtype=float) / volume[0] * 100
        above = dose_axis[volume >= 95]
        reached = dose_axis[volume > 0]
        # mean dose: the area under the cumulative curve (fraction of volume × dose)
        mean = float(np.trapezoid(volume / 100, dose_axis)) if hasattr(np, "trapezoid") \
            else float(np.trapz(volume / 100, dose_axis))
        rows.append({"structure": name,
                     "d95_gy": round(float(above.max()), 2) if len(above) else 0.0,
                     "dmean_gy": round(mean, 2),
                     "dmax_gy": round(float(reached.max()), 2) if len(reached) else 0.0,
                     "v_rx_percent": round(float(np.interp(prescription, dose_axis, volume)), 1)
                     if prescription else None})
    return rows


def dvh_png(ss: Dataset, dose: Dataset, title: str = "", curves: dict | None = None,
            prescription: float | None = None
            ) -> tuple[bytes, dict[str, tuple[float, float, float]]]:
    """The cumulative DVH, each curve in its ROI's display colour (as in the
    planes), the legend beside the plot; and the colours drawn."""
    colours = {name: roi_colours(ss).get(number) for number, name in roi_names(ss).items()}
    fig = Figure(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.42))
    ax = fig.add_axes((0.08, 0.13, 0.68, 0.78))
    drawn = {}
    for name, (dose_axis, volume) in sorted((curves or dvh_curves(ss, dose)).items()):
        colour = colours.get(name) or (0.3, 0.3, 0.3)
        ax.plot(dose_axis, volume, color=colour, linewidth=1.4, label=name)
        drawn[name] = colour
    if prescription:
        ax.axvline(prescription, color="black", linestyle="--", linewidth=0.8,
                   label=f"prescription {prescription:.1f} Gy")
    ax.set_xlabel("dose (Gy)", fontsize=7)
    ax.set_ylabel("volume (%)", fontsize=7)
    ax.tick_params(labelsize=6.5)
    ax.set_ylim(0, 105)
    ax.set_facecolor("#f4f4f4")  # a white or yellow ROI colour stays visible
    ax.grid(alpha=0.4, color="white")
    ax.set_title(f"{title} cumulative DVH".strip(), fontsize=8)
    legend = ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       frameon=False, title="structures", title_fontsize=7)
    for line in legend.get_lines():
        line.set_path_effects(OUTLINE)
    return png_bytes(fig), drawn

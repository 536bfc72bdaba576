"""Pictures for the report, where people would rather look than read: CT
slices with the structure set's contours and the dose's isodose lines, and a
cumulative DVH (from the RT DVH module when present, else computed from the
dose grid and the contours)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no screen here, and no screen in CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.path import Path as PolygonPath
from pydicom.dataset import Dataset

ISODOSE_FRACTIONS = (0.3, 0.5, 0.8, 0.95)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _roi_names(ss: Dataset) -> dict[int, str]:
    return {int(r.ROINumber): str(r.ROIName) for r in ss.get("StructureSetROISequence", [])}


def _contours(ss: Dataset):
    """(roi number, colour 0..1, geometric type, points Nx3) for every contour."""
    for roi in ss.get("ROIContourSequence", []):
        color = np.array(roi.get("ROIDisplayColor", [255, 255, 0]), dtype=float) / 255.0
        for contour in roi.get("ContourSequence", []):
            data = np.array([float(v) for v in contour.get("ContourData", [])])
            if len(data) and len(data) % 3 == 0:
                yield (int(roi.ReferencedROINumber), color, str(contour.ContourGeometricType),
                       data.reshape(-1, 3))


class DoseGrid:
    """Dose in Gy on its grid, with patient coordinates of every axis."""

    def __init__(self, ds: Dataset) -> None:
        self.gy = ds.pixel_array.astype(float) * float(ds.DoseGridScaling)
        if self.gy.ndim == 2:
            self.gy = self.gy[np.newaxis]
        x0, y0, z0 = (float(v) for v in ds.ImagePositionPatient)
        dy, dx = (float(v) for v in ds.PixelSpacing)
        offsets = [float(v) for v in ds.get("GridFrameOffsetVector", [0])]
        self.x = x0 + dx * np.arange(self.gy.shape[2])
        self.y = y0 + dy * np.arange(self.gy.shape[1])
        self.z = np.array(offsets) + (z0 if offsets and offsets[0] == 0 else 0)

    def plane(self, z: float) -> np.ndarray | None:
        k = int(np.argmin(np.abs(self.z - z)))
        return self.gy[k] if abs(self.z[k] - z) <= 2.5 else None


def slice_pictures(images: list[Dataset], ss: Dataset, dose: Dataset | None,
                   title: str = "", count: int = 3) -> list[tuple[str, bytes]]:
    """Representative slices: the middle of the PTV (or of the contours) and
    two on either side."""
    images = sorted(images, key=lambda d: float(d.ImagePositionPatient[2]))
    zs = np.array([float(d.ImagePositionPatient[2]) for d in images])
    targets = {int(o.ReferencedROINumber) for o in ss.get("RTROIObservationsSequence", [])
               if o.get("RTROIInterpretedType") in ("PTV", "CTV", "GTV")}
    contour_z = [pts[0, 2] for number, _, kind, pts in _contours(ss)
                 if kind == "CLOSED_PLANAR" and (not targets or number in targets)]
    centre = float(np.median(contour_z)) if contour_z else float(np.median(zs))
    spread = (max(contour_z) - min(contour_z)) / 4 if contour_z else 0
    wanted = [centre - spread, centre, centre + spread][:count]
    grid = DoseGrid(dose) if dose is not None else None
    names = _roi_names(ss)
    pictures = []
    for z in wanted:
        image = images[int(np.argmin(np.abs(zs - z)))]
        pictures.append((f"slice z = {float(image.ImagePositionPatient[2]):.1f} mm",
                         _slice_png(image, ss, grid, names, title)))
    return pictures


def _slice_png(image: Dataset, ss: Dataset, grid: DoseGrid | None, names: dict,
               title: str) -> bytes:
    hu = image.pixel_array * float(image.get("RescaleSlope", 1)) + \
        float(image.get("RescaleIntercept", 0))
    x0, y0, z = (float(v) for v in image.ImagePositionPatient)
    dy, dx = (float(v) for v in image.PixelSpacing)
    extent = (x0 - dx / 2, x0 + dx * (hu.shape[1] - 0.5), y0 + dy * (hu.shape[0] - 0.5),
              y0 - dy / 2)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.imshow(hu, cmap="gray", vmin=-400, vmax=400, extent=extent)
    shown = set()
    for number, color, kind, pts in _contours(ss):
        if abs(pts[0, 2] - z) > 0.5:
            continue
        label = names.get(number, str(number)) if number not in shown else None
        shown.add(number)
        if kind == "POINT":
            ax.plot(pts[:, 0], pts[:, 1], "+", color=color, markersize=10, label=label)
        else:
            closed = np.vstack([pts, pts[:1]])
            ax.plot(closed[:, 0], closed[:, 1], "-", color=color, linewidth=1.2, label=label)
    if grid is not None and (plane := grid.plane(z)) is not None and plane.max() > 0:
        levels = [f * grid.gy.max() for f in ISODOSE_FRACTIONS]
        cs = ax.contour(grid.x, grid.y, plane, levels=levels, cmap="jet", linewidths=0.9)
        ax.clabel(cs, fmt=lambda v: f"{v:.0f} Gy", fontsize=6)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(f"{title} z = {z:.1f} mm".strip(), fontsize=9)
    if shown:
        ax.legend(fontsize=6, loc="lower right")
    return _png(fig)


def dvh_curves(ss: Dataset, dose: Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cumulative DVH per ROI: from the RT DVH module when the dose has one,
    else computed: every dose voxel centre inside a contour on its plane."""
    names = _roi_names(ss)
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
    grid = DoseGrid(dose)
    xx, yy = np.meshgrid(grid.x, grid.y)
    centres = np.column_stack([xx.ravel(), yy.ravel()])
    voxels: dict[int, list[np.ndarray]] = {}
    for number, _, kind, pts in _contours(ss):
        if kind != "CLOSED_PLANAR":
            continue
        plane = grid.plane(pts[0, 2])
        if plane is None:
            continue
        inside = PolygonPath(pts[:, :2]).contains_points(centres)
        if inside.any():
            voxels.setdefault(number, []).append(plane.ravel()[inside])
    top = grid.gy.max()
    axis = np.linspace(0, top * 1.05, 200)
    for number, parts in voxels.items():
        doses = np.concatenate(parts)
        curves[names.get(number, str(number))] = (
            axis, np.array([(doses >= d).mean() * 100 for d in axis]))
    return curves


def dvh_png(ss: Dataset, dose: Dataset, title: str = "") -> bytes:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (dose_axis, volume) in sorted(dvh_curves(ss, dose).items()):
        ax.plot(dose_axis, volume, label=name)
    ax.set_xlabel("dose (Gy)")
    ax.set_ylabel("volume (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title} cumulative DVH".strip(), fontsize=9)
    ax.legend(fontsize=7)
    return _png(fig)

"""Pictures for the report, where people would rather look than read: CT
slices with the structure set's contours and the dose's isodose lines
(labelled in Gy and % of the prescription, with a legend), zoomed on the
body outline, and a cumulative DVH with D95, Dmean, Dmax and V(prescription)
per structure (from the RT DVH module when present, else computed from the
dose grid and the contours).

dicompyler-core's dvhcalc was the maintained library to use; its released
version (0.5.6) imports `pydicom.dicomio.read_file`, which pydicom 3 removed,
so the DVH is computed here and checked against an analytic phantom in
tests/test_report.py."""

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
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
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


def prescription_gy(plan: Dataset | None) -> float | None:
    """The plan's prescription: Target Prescription Dose of its Dose References."""
    for ref in (plan.get("DoseReferenceSequence", []) if plan is not None else []):
        value = ref.get("TargetPrescriptionDose")
        if value not in (None, ""):
            return float(value)
    return None


def _body_box(ss: Dataset, margin: float = 15.0) -> tuple[float, float, float, float] | None:
    """x/y limits around the EXTERNAL contour (the zoom of every slice)."""
    external = {int(o.ReferencedROINumber) for o in ss.get("RTROIObservationsSequence", [])
                if o.get("RTROIInterpretedType") == "EXTERNAL"}
    points = [pts for number, _, kind, pts in _contours(ss) if number in external]
    if not points:
        return None
    allp = np.vstack(points)
    return (allp[:, 0].min() - margin, allp[:, 0].max() + margin,
            allp[:, 1].min() - margin, allp[:, 1].max() + margin)


def slice_pictures(images: list[Dataset], ss: Dataset, dose: Dataset | None,
                   title: str = "", count: int = 3,
                   prescription: float | None = None) -> list[tuple[str, bytes]]:
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
    box = _body_box(ss)
    pictures = []
    for z in wanted:
        image = images[int(np.argmin(np.abs(zs - z)))]
        pictures.append((f"slice z = {float(image.ImagePositionPatient[2]):.1f} mm",
                         _slice_png(image, ss, grid, names, title, prescription, box)))
    return pictures


def _slice_png(image: Dataset, ss: Dataset, grid: DoseGrid | None, names: dict,
               title: str, prescription: float | None = None,
               box: tuple[float, float, float, float] | None = None) -> bytes:
    hu = image.pixel_array * float(image.get("RescaleSlope", 1)) + \
        float(image.get("RescaleIntercept", 0))
    x0, y0, z = (float(v) for v in image.ImagePositionPatient)
    dy, dx = (float(v) for v in image.PixelSpacing)
    extent = (x0 - dx / 2, x0 + dx * (hu.shape[1] - 0.5), y0 + dy * (hu.shape[0] - 0.5),
              y0 - dy / 2)
    fig, ax = plt.subplots(figsize=(8, 7))
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
    handles = []
    if grid is not None and (plane := grid.plane(z)) is not None and plane.max() > 0:
        reference = prescription or float(grid.gy.max())
        basis = "prescription" if prescription else "maximum"
        colours = plt.get_cmap("autumn")(np.linspace(0, 0.85, len(ISODOSE_FRACTIONS)))
        for fraction, colour in zip(ISODOSE_FRACTIONS, colours, strict=True):
            level = fraction * reference
            if plane.max() < level:
                continue
            cs = ax.contour(grid.x, grid.y, plane, levels=[level], colors=[colour],
                            linewidths=1.8)
            ax.clabel(cs, fmt=lambda _v, f=fraction: f"{f:.0%}", fontsize=9)
            handles.append(plt.Line2D([], [], color=colour, linewidth=1.8,
                                      label=f"{fraction:.0%} of {basis} ({level:.1f} Gy)"))
    if box is not None:
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[3], box[2])
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(f"{title} z = {z:.1f} mm".strip(), fontsize=12)
    if shown or handles:
        structures = ax.legend(fontsize=9, loc="lower right", title="structures")
        if handles:
            ax.add_artist(structures)
            ax.legend(handles=handles, fontsize=9, loc="upper right", title="isodoses")
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
    top = DoseGrid(dose).gy.max()
    axis = np.linspace(0, top * 1.05, 200)
    for name, doses in dvh_voxels(ss, dose).items():
        curves[name] = (axis, np.array([(doses >= d).mean() * 100 for d in axis]))
    return curves


def dvh_voxels(ss: Dataset, dose: Dataset) -> dict[str, np.ndarray]:
    """Per ROI, the dose (Gy) of every dose voxel whose centre lies inside one
    of its contours on the voxel's plane."""
    names = _roi_names(ss)
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


def dvh_png(ss: Dataset, dose: Dataset, title: str = "",
            curves: dict | None = None) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, (dose_axis, volume) in sorted((curves or dvh_curves(ss, dose)).items()):
        ax.plot(dose_axis, volume, label=name)
    ax.set_xlabel("dose (Gy)")
    ax.set_ylabel("volume (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title} cumulative DVH".strip(), fontsize=9)
    ax.legend(fontsize=7)
    return _png(fig)

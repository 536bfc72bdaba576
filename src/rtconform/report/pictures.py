"""Pictures for the report, where people would rather look than read: the
CT through the target's centre (and through the dose maximum) in the axial,
coronal and sagittal planes, with the structure set's contours in each ROI's
own ROI Display Color, isodose lines in a palette no structure on the page
uses (labelled in % of the prescription and Gy), orientation labels, the
legend beside the image; and a cumulative DVH in the same ROI colours with
D95, Dmean, Dmax and V(prescription) per structure (from the RT DVH module
when present, else computed from the dose grid and the contours).

dicompyler-core's dvhcalc was the maintained library to use; its released
version (0.5.6) imports `pydicom.dicomio.read_file`, which pydicom 3 removed,
so the DVH is computed here and checked against an analytic phantom in
tests/test_report.py."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # no screen here, and no screen in CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.path import Path as PolygonPath
from pydicom.dataset import Dataset

ISODOSE_FRACTIONS = (0.3, 0.5, 0.8, 0.95)
# The colours an isodose line may take: a 5-level RGB grid less the greys (the
# CT is grey), the very dark and the very light (both vanish on it). The ones
# farthest from every ROI colour of the set are used.
ISODOSE_LEVELS = (0, 64, 128, 192, 255)
# ROIs without an ROI Display Color: a colour of this list, in ROI order
FALLBACK_COLOURS = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
                    (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230))
DPI = 150
OUTLINE = [patheffects.withStroke(linewidth=3.2, foreground="#333")]  # legend swatches
PAGE_WIDTH_IN = 7.2  # A4 and Letter less margins: a picture printed at the page's width


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _roi_names(ss: Dataset) -> dict[int, str]:
    return {int(r.ROINumber): str(r.ROIName) for r in ss.get("StructureSetROISequence", [])}


def roi_colours(ss: Dataset) -> dict[int, tuple[float, float, float]]:
    """Each ROI's ROI Display Color (0..1), the one colour it has in every
    picture; a fallback colour where the structure set gives none."""
    out = {}
    for i, roi in enumerate(ss.get("ROIContourSequence", [])):
        value = roi.get("ROIDisplayColor")
        try:
            rgb = tuple(int(v) for v in value) if value is not None else ()
        except (TypeError, ValueError):
            rgb = ()
        if len(rgb) != 3:
            rgb = FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)]
        out[int(roi.ReferencedROINumber)] = tuple(min(max(v, 0), 255) / 255.0 for v in rgb)
    return out


def _lab(rgb) -> np.ndarray:
    """sRGB (0..1) → CIE L*a*b* (D65): distances there are what eyes see."""
    c = np.asarray(rgb, dtype=float).reshape(-1, 3)
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = c @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192],
                        [0.1805, 0.0722, 0.9505]])
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.column_stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                            200 * (f[:, 1] - f[:, 2])])


def colour_distance(a, b) -> float:
    """CIE76 ΔE between two colours (0..1 RGB)."""
    return float(np.linalg.norm(_lab(a)[0] - _lab(b)[0]))


def _isodose_candidates() -> list[tuple[float, float, float]]:
    import itertools

    out = []
    for rgb in itertools.product(ISODOSE_LEVELS, repeat=3):
        colour = tuple(v / 255.0 for v in rgb)
        lightness, a, b = _lab(colour)[0]
        if 35 <= lightness <= 85 and np.hypot(a, b) >= 35:
            out.append(colour)
    return out


def isodose_palette(avoid: list[tuple[float, float, float]],
                    count: int = len(ISODOSE_FRACTIONS)) -> list[tuple[float, float, float]]:
    """`count` colours, each as far as can be from every ROI colour on the
    page and from each other (greedy max-min in CIE Lab): an isodose line is
    never mistaken for a structure."""
    candidates = _isodose_candidates()
    taken: list[tuple[float, float, float]] = []
    for _ in range(count):
        against = _lab(list(avoid) + taken) if (avoid or taken) else None
        best = max(candidates, key=lambda c: float(np.min(np.linalg.norm(
            against - _lab(c)[0], axis=1))) if against is not None else 0.0)
        taken.append(best)
        candidates.remove(best)
    return taken


def _contours(ss: Dataset):
    """(roi number, geometric type, points Nx3) for every contour."""
    for roi in ss.get("ROIContourSequence", []):
        for contour in roi.get("ContourSequence", []):
            try:
                data = np.array([float(v) for v in contour.get("ContourData", [])])
            except (TypeError, ValueError):
                continue
            if len(data) and len(data) % 3 == 0:
                yield (int(roi.ReferencedROINumber), str(contour.get("ContourGeometricType", "")),
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
        if len(offsets) != self.gy.shape[0]:  # a broken dose is reported, never drawn wrongly
            raise ValueError(f"Grid Frame Offset Vector has {len(offsets)} values for "
                             f"{self.gy.shape[0]} frames")
        self.x = x0 + dx * np.arange(self.gy.shape[2])
        self.y = y0 + dy * np.arange(self.gy.shape[1])
        self.z = np.array(offsets) + (z0 if offsets and offsets[0] == 0 else 0)

    def plane(self, z: float) -> np.ndarray | None:
        k = int(np.argmin(np.abs(self.z - z)))
        return self.gy[k] if abs(self.z[k] - z) <= 2.5 else None

    def maximum(self) -> tuple[float, float, float]:
        k, j, i = np.unravel_index(int(np.argmax(self.gy)), self.gy.shape)
        return float(self.x[i]), float(self.y[j]), float(self.z[k])


def prescription_gy(plan: Dataset | None) -> float | None:
    """The plan's prescription: Target Prescription Dose of its Dose References."""
    for ref in (plan.get("DoseReferenceSequence", []) if plan is not None else []):
        value = ref.get("TargetPrescriptionDose")
        if value not in (None, ""):
            return float(value)
    return None


@dataclass
class Volume:
    """The CT as a volume on a regular z grid (nearest slice), in HU, with
    patient coordinates of its axes: what coronal and sagittal planes cut."""
    hu: np.ndarray  # (z, y, x)
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    slice_z: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the slices' own z
    nearest: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # grid row → slice

    @classmethod
    def of(cls, images: list[Dataset]) -> Volume:
        images = sorted(images, key=lambda d: float(d.ImagePositionPatient[2]))
        zs = np.array([float(d.ImagePositionPatient[2]) for d in images])
        planes = [d.pixel_array * float(d.get("RescaleSlope", 1)) +
                  float(d.get("RescaleIntercept", 0)) for d in images]
        shape = planes[0].shape
        keep = [i for i, p in enumerate(planes) if p.shape == shape]
        zs, planes = zs[keep], [planes[i] for i in keep]
        step = float(np.min(np.diff(zs))) if len(zs) > 1 else 1.0
        step = step if step > 0 else 1.0
        grid = np.arange(zs[0], zs[-1] + step / 2, step) if len(zs) > 1 else zs
        nearest = np.abs(grid[:, None] - zs[None, :]).argmin(axis=1)
        x0, y0 = float(images[0].ImagePositionPatient[0]), float(images[0].ImagePositionPatient[1])
        dy, dx = (float(v) for v in images[0].PixelSpacing)
        return cls(np.stack(planes)[nearest], x0 + dx * np.arange(shape[1]),
                   y0 + dy * np.arange(shape[0]), grid, zs, nearest)


def _centre(ss: Dataset, volume: Volume) -> tuple[tuple[float, float, float], str]:
    """The target's centre (PTV, else CTV, else GTV, else all closed
    contours; else the middle of the CT) and what it is the centre of."""
    names = _roi_names(ss)
    kinds = {int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", ""))
             for o in ss.get("RTROIObservationsSequence", [])}
    closed = [(n, pts) for n, kind, pts in _contours(ss) if kind == "CLOSED_PLANAR"]
    for wanted in ("PTV", "CTV", "GTV"):
        chosen = [n for n, _ in closed if kinds.get(n) == wanted]
        if chosen:
            points = np.vstack([pts for n, pts in closed if n == chosen[0]])
            return tuple((points.min(axis=0) + points.max(axis=0)) / 2), \
                f"the centre of {names.get(chosen[0], wanted)}"
    if closed:
        points = np.vstack([pts for _, pts in closed])
        return tuple((points.min(axis=0) + points.max(axis=0)) / 2), "the centre of the contours"
    return (float(np.mean(volume.x)), float(np.mean(volume.y)), float(np.mean(volume.z))), \
        "the centre of the images"


def _body_box(ss: Dataset, volume: Volume, margin: float = 15.0) -> tuple:
    """(x, y, z) limits around the EXTERNAL contour (the zoom of every plane)."""
    external = {int(o.ReferencedROINumber) for o in ss.get("RTROIObservationsSequence", [])
                if o.get("RTROIInterpretedType") == "EXTERNAL"}
    points = [pts for number, _, pts in _contours(ss) if number in external]
    if not points:
        return ((volume.x[0], volume.x[-1]), (volume.y[0], volume.y[-1]),
                (volume.z[0], volume.z[-1]))
    allp = np.vstack(points)
    lo, hi = allp.min(axis=0) - margin, allp.max(axis=0) + margin
    return ((max(lo[0], volume.x[0]), min(hi[0], volume.x[-1])),
            (max(lo[1], volume.y[0]), min(hi[1], volume.y[-1])),
            (max(lo[2] - 5, volume.z[0]), min(hi[2] + 5, volume.z[-1])))


def _cut(ss: Dataset, volume: Volume, axis: str, at: float) -> dict[int, np.ndarray]:
    """Per ROI, the inside of its contours on a coronal (axis 'y', at y) or
    sagittal (axis 'x') plane, on the volume's (z, x) or (z, y) grid: each
    axial contour tested along the line where the plane cuts its slice."""
    along = volume.x if axis == "y" else volume.y
    masks: dict[int, np.ndarray] = {}
    for number, kind, pts in _contours(ss):
        if kind != "CLOSED_PLANAR":
            continue
        coords = pts[:, 1] if axis == "y" else pts[:, 0]
        if not coords.min() <= at <= coords.max():
            continue
        rows = np.flatnonzero(volume.nearest == np.argmin(np.abs(volume.slice_z - pts[0, 2])))
        line = np.column_stack([along, np.full_like(along, at)]) if axis == "y" \
            else np.column_stack([np.full_like(along, at), along])
        inside = PolygonPath(pts[:, :2]).contains_points(line)
        if inside.any():
            mask = masks.setdefault(number, np.zeros((len(volume.z), len(along)), bool))
            mask[rows] ^= inside  # an inner contour (a hole) takes its inside away
    return masks


def _orientation(ax, left: str, right: str, top: str, bottom: str) -> None:
    """Patient orientation at the edges (PS3.3 C.7.6.1.1.1: x to the patient's
    left, y posterior, z to the head)."""
    style = {"color": "white", "fontsize": 7, "fontweight": "bold", "ha": "center",
             "va": "center", "transform": ax.transAxes,
             "bbox": {"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none", "alpha": .6}}
    for x, y, text in ((0.04, 0.5, left), (0.96, 0.5, right), (0.5, 0.95, top),
                       (0.5, 0.05, bottom)):
        ax.text(x, y, text, **style)


@dataclass
class PlanePicture:
    caption: str
    png: bytes
    roi_colours: dict[str, tuple[float, float, float]]  # name → colour drawn
    isodose_colours: dict[str, tuple[float, float, float]]  # level label → colour drawn


def plane_pictures(images: list[Dataset], ss: Dataset, dose: Dataset | None,
                   title: str = "", prescription: float | None = None) -> list[PlanePicture]:
    """Axial, coronal and sagittal planes through the target's centre, and
    through the dose maximum when that lies elsewhere: one picture per point,
    the three planes side by side and the legend beside them."""
    volume = Volume.of(images)
    grid = DoseGrid(dose) if dose is not None else None
    centre, what = _centre(ss, volume)
    points = [(centre, what)]
    if grid is not None and grid.gy.max() > 0:
        top = grid.maximum()
        if np.linalg.norm(np.subtract(top, centre)) > 5.0:
            points.append((top, f"the dose maximum ({grid.gy.max():.1f} Gy)"))
    colours = roi_colours(ss)
    palette = isodose_palette(list(colours.values()))
    return [_planes_png(volume, ss, grid, point, f"{title} through {what}".strip(),
                        prescription, colours, palette) for point, what in points]


def _planes_png(volume: Volume, ss: Dataset, grid: DoseGrid | None, point: tuple,
                title: str, prescription: float | None, colours: dict, palette: list
                ) -> PlanePicture:
    x, y, z = (float(v) for v in point)
    names = _roi_names(ss)
    (x0, x1), (y0, y1), (z0, z1) = _body_box(ss, volume)
    ix = int(np.argmin(np.abs(volume.x - x)))
    iy = int(np.argmin(np.abs(volume.y - y)))
    iz = int(np.argmin(np.abs(volume.z - z)))
    z_shown = float(volume.slice_z[np.argmin(np.abs(volume.slice_z - z))])
    # the axial plane on the left, the coronal over the sagittal beside it, the
    # legend on the right: each plane in millimetres at one scale
    axial_w, axial_h = x1 - x0, y1 - y0
    side_w = max(x1 - x0, y1 - y0)
    side_h = 2 * (z1 - z0)
    scale = max(axial_h, side_h)
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.48))
    grid_spec = fig.add_gridspec(2, 3, width_ratios=[axial_w / scale, side_w / scale * 0.9,
                                                     0.62], left=0.01, right=0.995,
                                 top=0.95, bottom=0.02, wspace=0.05, hspace=0.15)
    axes = [fig.add_subplot(grid_spec[:, 0]), fig.add_subplot(grid_spec[0, 1]),
            fig.add_subplot(grid_spec[1, 1])]
    legend_ax = fig.add_subplot(grid_spec[:, 2])
    legend_ax.axis("off")
    reference = prescription or (float(grid.gy.max()) if grid is not None else 0.0)
    basis = "prescription" if prescription else "maximum"
    levels = [(f, f * reference, colour) for f, colour in zip(ISODOSE_FRACTIONS, palette,
                                                               strict=True)] if reference else []
    drawn_rois: dict[str, tuple] = {}
    drawn_doses: dict[str, tuple] = {}
    points: set[str] = set()  # POINT ROIs: a cross, in the legend too

    def isodoses(ax, plane, h, v):
        if plane is None or not levels or plane.max() <= 0:
            return
        for fraction, level, colour in levels:
            if plane.max() < level:
                continue
            cs = ax.contour(h, v, plane, levels=[level], colors=[colour], linewidths=1.1)
            ax.clabel(cs, fmt=lambda _v, f=fraction, g=level: f"{f:.0%} {g:.0f} Gy",
                      fontsize=5, inline_spacing=1)
            drawn_doses[f"{fraction:.0%} = {level:.1f} Gy"] = colour

    # axial: the CT slice at z, contours on it, the dose plane at z
    ax = axes[0]
    ax.imshow(volume.hu[iz], cmap="gray", vmin=-400, vmax=400, origin="upper",
              extent=(volume.x[0], volume.x[-1], volume.y[-1], volume.y[0]))
    for number, kind, pts in _contours(ss):
        if abs(pts[0, 2] - z_shown) > 0.5:
            continue
        colour = colours.get(number, (1, 1, 0))
        if kind == "POINT":
            ax.plot(pts[:, 0], pts[:, 1], "+", color=colour, markersize=7, mew=1.5)
            points.add(names.get(number, str(number)))
        else:
            closed = np.vstack([pts, pts[:1]]) if kind == "CLOSED_PLANAR" else pts
            ax.plot(closed[:, 0], closed[:, 1], "-", color=colour, linewidth=1.0)
        drawn_rois[names.get(number, str(number))] = colour
    if grid is not None:
        isodoses(ax, grid.plane(z_shown), grid.x, grid.y)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.set_title(f"axial z = {z_shown:.1f} mm", fontsize=7)
    _orientation(ax, "R", "L", "A", "P")

    # coronal (y fixed: x across, z up) and sagittal (x fixed: y across, z up)
    for ax, axis, at, across, cut_index, labels in (
            (axes[1], "y", volume.y[iy], volume.x, iy, ("R", "L", "H", "F")),
            (axes[2], "x", volume.x[ix], volume.y, ix, ("A", "P", "H", "F"))):
        plane = volume.hu[:, cut_index, :] if axis == "y" else volume.hu[:, :, cut_index]
        ax.imshow(plane, cmap="gray", vmin=-400, vmax=400, origin="lower", aspect="equal",
                  extent=(across[0], across[-1], volume.z[0], volume.z[-1]))
        for number, mask in _cut(ss, volume, axis, float(at)).items():
            if mask.any() and mask.shape[0] > 1:
                colour = colours.get(number, (1, 1, 0))
                ax.contour(across, volume.z, mask.astype(float), levels=[0.5],
                           colors=[colour], linewidths=1.0)
                drawn_rois[names.get(number, str(number))] = colour
        if grid is not None and len(grid.z) > 1:
            if axis == "y":
                j = int(np.argmin(np.abs(grid.y - at)))
                dose_plane = grid.gy[:, j, :] if abs(grid.y[j] - at) <= 2.5 else None
                isodoses(ax, dose_plane, grid.x, grid.z)
            else:
                i = int(np.argmin(np.abs(grid.x - at)))
                dose_plane = grid.gy[:, :, i] if abs(grid.x[i] - at) <= 2.5 else None
                isodoses(ax, dose_plane, grid.y, grid.z)
        (lo, hi) = (x0, x1) if axis == "y" else (y0, y1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(z0, z1)
        ax.set_title(f"{'coronal y' if axis == 'y' else 'sagittal x'} = {float(at):.1f} mm",
                     fontsize=7)
        _orientation(ax, *labels)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Line2D([], [], color=c, linewidth=0 if n in points else 2,
                      marker="+" if n in points else None, markersize=7, mew=1.5, label=n)
               for n, c in drawn_rois.items()]
    dose_handles = [Line2D([], [], color=c, linewidth=2, label=n)
                    for n, c in drawn_doses.items()]
    for handle in handles + dose_handles:  # a white or yellow swatch shows on paper
        handle.set_path_effects(OUTLINE)
    if handles:
        first = legend_ax.legend(handles=handles, title="structures", loc="upper left",
                                 fontsize=6.5, title_fontsize=7, frameon=False,
                                 borderaxespad=0, alignment="left")
        legend_ax.add_artist(first)
    if dose_handles:
        legend_ax.legend(handles=dose_handles, title=f"isodoses (% of {basis})",
                         loc="lower left",
                         fontsize=6.5, title_fontsize=7, frameon=False, borderaxespad=0,
                         alignment="left")
    caption = (f"{title}: axial z = {z_shown:.1f} mm, coronal y = {volume.y[iy]:.1f} mm, "
               f"sagittal x = {volume.x[ix]:.1f} mm")
    return PlanePicture(caption, _png(fig), drawn_rois, drawn_doses)


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
    for number, kind, pts in _contours(ss):
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
    colours = {name: roi_colours(ss).get(number) for number, name in _roi_names(ss).items()}
    fig = plt.figure(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.42))
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
    return _png(fig), drawn

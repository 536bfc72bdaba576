"""Pictures for the report, where people would rather look than read: the
CT through the target's centre (and through the dose maximum) in the axial,
coronal and sagittal planes, with the structure set's contours in each ROI's
own ROI Display Color, isodose lines in a palette no structure on the page
uses (labelled in % of the prescription and Gy), orientation labels, the
legend beside the image. The DVH beside them, in the same ROI colours, is
report/dvh.py's; both read the CT, contours and dose grid through the types
here."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure  # not pyplot: no global figure state, less to import
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


def png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def roi_names(ss: Dataset) -> dict[int, str]:
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


def contours(ss: Dataset):
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
    names = roi_names(ss)
    kinds = {int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", ""))
             for o in ss.get("RTROIObservationsSequence", [])}
    closed = [(n, pts) for n, kind, pts in contours(ss) if kind == "CLOSED_PLANAR"]
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
    points = [pts for number, _, pts in contours(ss) if number in external]
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
    for number, kind, pts in contours(ss):
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
    """One picture: the axial plane through `point` on the left, the coronal
    over the sagittal beside it, the legend on the right."""
    x, y, z = (float(v) for v in point)
    box = _body_box(ss, volume)
    ix = int(np.argmin(np.abs(volume.x - x)))
    iy = int(np.argmin(np.abs(volume.y - y)))
    iz = int(np.argmin(np.abs(volume.z - z)))
    z_shown = float(volume.slice_z[np.argmin(np.abs(volume.slice_z - z))])
    fig, axes, legend_ax = _layout(box)
    reference = prescription or (float(grid.gy.max()) if grid is not None else 0.0)
    levels = [(f, f * reference, colour) for f, colour in zip(ISODOSE_FRACTIONS, palette,
                                                               strict=True)] if reference else []
    drawing = _PlaneDrawing(volume, ss, grid, colours, levels, box)
    drawing.axial(axes[0], iz, z_shown)
    drawing.side(axes[1], "y", iy, ("R", "L", "H", "F"))  # coronal: x across, z up
    drawing.side(axes[2], "x", ix, ("A", "P", "H", "F"))  # sagittal: y across, z up
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    drawing.legend(legend_ax, "prescription" if prescription else "maximum")
    caption = (f"{title}: axial z = {z_shown:.1f} mm, coronal y = {volume.y[iy]:.1f} mm, "
               f"sagittal x = {volume.x[ix]:.1f} mm")
    return PlanePicture(caption, png_bytes(fig), drawing.rois, drawing.doses)


def _layout(box: tuple) -> tuple:
    """(figure, [axial, coronal, sagittal] axes, legend axes): each plane in
    millimetres at one scale, the figure as wide as a printed page."""
    (x0, x1), (y0, y1), (z0, z1) = box
    axial_w, axial_h = x1 - x0, y1 - y0
    side_w = max(x1 - x0, y1 - y0)
    side_h = 2 * (z1 - z0)
    scale = max(axial_h, side_h)
    fig = Figure(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.48))
    grid_spec = fig.add_gridspec(2, 3, width_ratios=[axial_w / scale, side_w / scale * 0.9,
                                                     0.62], left=0.01, right=0.995,
                                 top=0.95, bottom=0.02, wspace=0.05, hspace=0.15)
    axes = [fig.add_subplot(grid_spec[:, 0]), fig.add_subplot(grid_spec[0, 1]),
            fig.add_subplot(grid_spec[1, 1])]
    legend_ax = fig.add_subplot(grid_spec[:, 2])
    legend_ax.axis("off")
    return fig, axes, legend_ax


class _PlaneDrawing:
    """Draws the planes of one picture (CT, contours in their ROI colours,
    isodose lines) and keeps what it drew, which the legend and the report
    then name: a structure or isodose level is listed only if it is seen."""

    def __init__(self, volume: Volume, ss: Dataset, grid: DoseGrid | None, colours: dict,
                 levels: list[tuple[float, float, tuple]], box: tuple) -> None:
        self.volume, self.ss, self.grid, self.colours = volume, ss, grid, colours
        self.levels, self.box = levels, box
        self.names = roi_names(ss)
        self.rois: dict[str, tuple] = {}  # ROI name → colour drawn
        self.doses: dict[str, tuple] = {}  # isodose label → colour drawn
        self.points: set[str] = set()  # POINT ROIs: a cross, in the legend too

    def isodoses(self, ax, plane: np.ndarray | None, h: np.ndarray, v: np.ndarray) -> None:
        """The isodose lines a dose plane reaches, labelled in % and Gy."""
        if plane is None or not self.levels or plane.max() <= 0:
            return
        for fraction, level, colour in self.levels:
            if plane.max() < level:
                continue
            cs = ax.contour(h, v, plane, levels=[level], colors=[colour], linewidths=1.1)
            ax.clabel(cs, fmt=lambda _v, f=fraction, g=level: f"{f:.0%} {g:.0f} Gy",
                      fontsize=5, inline_spacing=1)
            self.doses[f"{fraction:.0%} = {level:.1f} Gy"] = colour

    def axial(self, ax, iz: int, z_shown: float) -> None:
        """The CT slice at z, the contours of that slice on it, the dose plane
        at z."""
        volume = self.volume
        (x0, x1), (y0, y1), _ = self.box
        ax.imshow(volume.hu[iz], cmap="gray", vmin=-400, vmax=400, origin="upper",
                  extent=(volume.x[0], volume.x[-1], volume.y[-1], volume.y[0]))
        for number, kind, pts in contours(self.ss):
            if abs(pts[0, 2] - z_shown) > 0.5:
                continue
            self._contour(ax, number, kind, pts)
        if self.grid is not None:
            self.isodoses(ax, self.grid.plane(z_shown), self.grid.x, self.grid.y)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y1, y0)
        ax.set_title(f"axial z = {z_shown:.1f} mm", fontsize=7)
        _orientation(ax, "R", "L", "A", "P")

    def _contour(self, ax, number: int, kind: str, pts: np.ndarray) -> None:
        """One axial contour: a POINT as a cross, a closed contour closed."""
        colour = self.colours.get(number, (1, 1, 0))
        name = self.names.get(number, str(number))
        if kind == "POINT":
            ax.plot(pts[:, 0], pts[:, 1], "+", color=colour, markersize=7, mew=1.5)
            self.points.add(name)
        else:
            closed = np.vstack([pts, pts[:1]]) if kind == "CLOSED_PLANAR" else pts
            ax.plot(closed[:, 0], closed[:, 1], "-", color=colour, linewidth=1.0)
        self.rois[name] = colour

    def side(self, ax, axis: str, index: int, labels: tuple[str, ...]) -> None:
        """A coronal (axis 'y': y fixed, x across) or sagittal (axis 'x': x
        fixed, y across) plane, z up: the CT cut, where the axial contours
        cut it, and the dose plane there."""
        volume = self.volume
        (x0, x1), (y0, y1), (z0, z1) = self.box
        at = volume.y[index] if axis == "y" else volume.x[index]
        across = volume.x if axis == "y" else volume.y
        plane = volume.hu[:, index, :] if axis == "y" else volume.hu[:, :, index]
        ax.imshow(plane, cmap="gray", vmin=-400, vmax=400, origin="lower", aspect="equal",
                  extent=(across[0], across[-1], volume.z[0], volume.z[-1]))
        for number, mask in _cut(self.ss, volume, axis, float(at)).items():
            if mask.any() and mask.shape[0] > 1:
                colour = self.colours.get(number, (1, 1, 0))
                ax.contour(across, volume.z, mask.astype(float), levels=[0.5],
                           colors=[colour], linewidths=1.0)
                self.rois[self.names.get(number, str(number))] = colour
        if self.grid is not None and len(self.grid.z) > 1:
            self._side_isodoses(ax, axis, float(at))
        ax.set_xlim(*((x0, x1) if axis == "y" else (y0, y1)))
        ax.set_ylim(z0, z1)
        ax.set_title(f"{'coronal y' if axis == 'y' else 'sagittal x'} = {float(at):.1f} mm",
                     fontsize=7)
        _orientation(ax, *labels)

    def _side_isodoses(self, ax, axis: str, at: float) -> None:
        """The dose plane nearest the cut (none farther than 2.5 mm from it)."""
        grid = self.grid
        if axis == "y":
            j = int(np.argmin(np.abs(grid.y - at)))
            dose_plane = grid.gy[:, j, :] if abs(grid.y[j] - at) <= 2.5 else None
            self.isodoses(ax, dose_plane, grid.x, grid.z)
        else:
            i = int(np.argmin(np.abs(grid.x - at)))
            dose_plane = grid.gy[:, :, i] if abs(grid.x[i] - at) <= 2.5 else None
            self.isodoses(ax, dose_plane, grid.y, grid.z)

    def legend(self, ax, basis: str) -> None:
        """The structures and isodose levels drawn, beside the planes."""
        handles = [Line2D([], [], color=c, linewidth=0 if n in self.points else 2,
                          marker="+" if n in self.points else None, markersize=7, mew=1.5,
                          label=n) for n, c in self.rois.items()]
        dose_handles = [Line2D([], [], color=c, linewidth=2, label=n)
                        for n, c in self.doses.items()]
        for handle in handles + dose_handles:  # a white or yellow swatch shows on paper
            handle.set_path_effects(OUTLINE)
        if handles:
            first = ax.legend(handles=handles, title="structures", loc="upper left",
                              fontsize=6.5, title_fontsize=7, frameon=False,
                              borderaxespad=0, alignment="left")
            ax.add_artist(first)
        if dose_handles:
            ax.legend(handles=dose_handles, title=f"isodoses (% of {basis})", loc="lower left",
                      fontsize=6.5, title_fontsize=7, frameon=False, borderaxespad=0,
                      alignment="left")

"""CT image series consistency: what contouring and dose calculation assume of
the images they are given (IHE-RO TRO RO-1, RO-6, RO-11)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
from pydicom.dataset import Dataset

from rtconform.dicom.anatomy import CONDITION, laterality_condition
from rtconform.dicom.geometry import slice_offset
from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.findings import Severity
from rtconform.rules.registry import Issue, RuleContext, rule

SRC_SERIES = "IHE-RO TRO RO-1/RO-6 (single image series); DICOM PS3.3 C.7.6.2 Image Plane"


def _majority(values: list) -> object:
    return Counter(values).most_common(1)[0][0]


def _outliers(series: list[Instance], attr: str, what: str, tag: str,
              tol: float = 1e-4) -> Iterator[Issue]:
    values = [getattr(i, attr) for i in series]
    present = [v for v in values if v is not None]
    if not present:
        return
    ref = _majority(present)
    for inst, value in zip(series, values, strict=True):
        if value is None:
            yield Issue(f"{what} is missing", tag, inst)
        elif len(value) != len(ref) or not np.allclose(value, ref, atol=tol):
            yield Issue(f"{what} {value} differs from the series' {ref}", tag, inst)


@rule("CT-SERIES-FRAME-OF-REFERENCE", Severity.ERROR,
      "All images of a series share one Frame of Reference UID", SRC_SERIES)
def one_frame_of_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for series in graph.images_by_series.values():
        values = [i.frame_of_reference_uid for i in series]
        ref = _majority(values)
        for inst in series:
            if inst.frame_of_reference_uid != ref:
                yield Issue(f"Frame of Reference UID {inst.frame_of_reference_uid or '(none)'} "
                            f"differs from the series' {ref}", "FrameOfReferenceUID", inst)


@rule("CT-SERIES-ORIENTATION", Severity.ERROR,
      "All images of a series share one Image Orientation (Patient)", SRC_SERIES)
def one_orientation(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for series in graph.images_by_series.values():
        yield from _outliers(series, "orientation", "Image Orientation (Patient)",
                             "ImageOrientationPatient")


@rule("CT-SERIES-GEOMETRY", Severity.ERROR,
      "All images of a series share Pixel Spacing, Rows and Columns", SRC_SERIES)
def constant_geometry(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for series in graph.images_by_series.values():
        yield from _outliers(series, "pixel_spacing", "Pixel Spacing", "PixelSpacing")
        yield from _outliers(series, "matrix", "Rows x Columns", "Rows")


@rule("CT-SERIES-POSITIONS", Severity.ERROR,
      "Every image of a series has a unique slice position", SRC_SERIES)
def unique_positions(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for series in graph.images_by_series.values():
        seen: dict[float, Instance] = {}
        for inst in series:
            offset = slice_offset(inst)
            if offset is None:
                yield Issue("Image Position/Orientation (Patient) missing or malformed",
                            "ImagePositionPatient", inst)
                continue
            key = round(offset, 3)
            if key in seen:
                yield Issue(f"slice position {offset:.3f} mm is also that of "
                            f"{seen[key].label}", "ImagePositionPatient", inst)
            else:
                seen[key] = inst


@rule("CT-SERIES-SPACING", Severity.WARNING,
      "Slices are evenly spaced (uneven spacing is legal but breaks some receivers)",
      "IHE-RO TRO RO-1; legal in DICOM PS3.3 C.7.6.2 "
      "(IHE-RO's reference CT has 5 mm and 7 mm gaps)")
def even_spacing(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for series in graph.images_by_series.values():
        offsets = sorted({round(o, 3) for o in map(slice_offset, series) if o is not None})
        if len(offsets) < 3:
            continue
        gaps = np.diff(offsets)
        if np.ptp(gaps) > 0.01:
            counts = Counter(f"{g:g}" for g in np.round(gaps, 3))
            yield Issue(f"uneven slice spacing in series {series[0].series_uid}: gaps (mm) "
                        f"{dict(counts)}", "ImagePositionPatient", series[0])


@rule("IMAGE-LATERALITY", Severity.ERROR,
      "An image of a paired body part (Body Part Examined or Anatomic Region) carries "
      "Laterality or Image Laterality", f"DICOM {CONDITION}; PS3.16 Annex L (body parts)",
      scope="instance")
def laterality(inst: Instance, ds: Dataset, ctx: RuleContext) -> Iterator[Issue]:
    """Evaluated here, not taken from an engine: dciodvfy demands Laterality of
    every image whose body part it cannot tell is unpaired (absent too), and
    dicom-validator cannot evaluate the condition at all."""
    if inst.kind != "image" or "Laterality" in ds:
        return
    condition = laterality_condition(ds)
    if condition.required:
        yield Issue(f"Laterality is missing: {condition.reason}, and no Image Laterality "
                    "is sent", "Laterality", inst)

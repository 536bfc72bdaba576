"""RT Dose content rules (IHE-RO TRO RO-5 Dose Storage)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rtconform.dicom.geometry import normal
from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.uids import RT_PLAN_STORAGE
from rtconform.dicom.values import integer, items, number, numbers, text, uid_of
from rtconform.findings import Severity
from rtconform.profiles.dicom_rt.plan import beam_numbers
from rtconform.rules.registry import Issue, RuleContext, rule

RO5 = "IHE-RO TRO RO-5"
NEEDS_PLAN = {"PLAN", "MULTI_PLAN", "FRACTION", "BEAM", "BRACHY", "FRACTION_SESSION",
              "BEAM_SESSION", "BRACHY_SESSION", "CONTROL_POINT"}


def _partial_ct(graph: ObjectGraph, frame: str) -> bool:
    """Some image a structure set of this Frame of Reference contours on is
    not in the set: the CT present is not the whole volume."""
    for ss in graph.structure_sets:
        frames = {text(f, "FrameOfReferenceUID")
                  for f in items(ss.dataset, "ReferencedFrameOfReferenceSequence")}
        if frame not in frames:
            continue
        for f in items(ss.dataset, "ReferencedFrameOfReferenceSequence"):
            for study in items(f, "RTReferencedStudySequence"):
                for series in items(study, "RTReferencedSeriesSequence"):
                    if any(graph.get(uid_of(ref)) is None
                           for ref in items(series, "ContourImageSequence")):
                        return True
    return False


def _grid(dose: Instance) -> bool:
    return "PixelData" in dose.dataset or dose.pixel_data_length is not None \
        or "GridFrameOffsetVector" in dose.dataset


@rule("DOSE-PLAN-REF", Severity.ERROR,
      "A PLAN/FRACTION/BEAM dose references its RT Plan, and the plan is present",
      f"{RO5}; IHE-RO test tool BRTO-RO5-36; DICOM PS3.3 C.8.8.3")
def plan_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        summation = text(dose.dataset, "DoseSummationType")
        refs = items(dose.dataset, "ReferencedRTPlanSequence")
        if summation in NEEDS_PLAN and not refs:
            yield Issue(f"Dose Summation Type {summation} but no Referenced RT Plan Sequence",
                        "ReferencedRTPlanSequence", dose)
        for r, ref in enumerate(refs):
            target = graph.get(uid_of(ref))
            path = f"ReferencedRTPlanSequence[{r}].ReferencedSOPInstanceUID"
            if target is None:
                yield ctx.missing_reference(graph, dose, RT_PLAN_STORAGE, f"RT Plan {uid_of(ref)}",
                                            path)
            elif target.kind != "rtplan":
                yield Issue(f"referenced object {uid_of(ref)} is not an RT Plan", path, dose)


@rule("DOSE-BEAM-REF", Severity.ERROR,
      "A BEAM dose references one fraction group and beams that the plan has (one beam, or "
      "several for a split beam)",
      f"{RO5}; DICOM PS3.3 C.8.8.3; Brainlab Table 8-31 note 23")
def beam_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        if text(dose.dataset, "DoseSummationType") != "BEAM":
            continue
        for r, ref in enumerate(items(dose.dataset, "ReferencedRTPlanSequence")):
            groups = items(ref, "ReferencedFractionGroupSequence")
            base = f"ReferencedRTPlanSequence[{r}].ReferencedFractionGroupSequence"
            if len(groups) != 1:
                yield Issue(f"{len(groups)} referenced fraction groups, expected 1", base, dose)
                continue
            beams = items(groups[0], "ReferencedBeamSequence")
            if not beams:
                yield Issue("no referenced beam", f"{base}[0].ReferencedBeamSequence", dose)
                continue
            plan = graph.get(uid_of(ref))
            if plan is None or plan.kind != "rtplan":
                continue  # DOSE-PLAN-REF reports it
            for b, item in enumerate(beams):
                beam = integer(item, "ReferencedBeamNumber")
                if beam not in beam_numbers(plan.dataset):
                    yield Issue(f"Referenced Beam Number {beam} is not a beam of plan "
                                f"{plan.label}",
                                f"{base}[0].ReferencedBeamSequence[{b}].ReferencedBeamNumber",
                                dose)


@rule("DOSE-PIXEL-BITS", Severity.ERROR,
      "Bits Allocated 16 or 32, Bits Stored = Bits Allocated, High Bit = Bits Stored − 1, one "
      "sample, MONOCHROME2",
      f"{RO5}; IHE-RO test tool BRTO-RO5-19…26; DICOM PS3.3 C.8.8.3; Brainlab Tables 8-19, 8-31")
def pixel_bits(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        if not _grid(dose):
            continue
        ds = dose.dataset
        allocated, stored, high = (integer(ds, k) for k in ("BitsAllocated", "BitsStored",
                                                            "HighBit"))
        if allocated not in (16, 32):
            yield Issue(f"Bits Allocated is {allocated}", "BitsAllocated", dose)
        if stored != allocated:
            yield Issue(f"Bits Stored {stored} differs from Bits Allocated {allocated}",
                        "BitsStored", dose)
        if stored is not None and high != stored - 1:
            yield Issue(f"High Bit {high} is not Bits Stored − 1", "HighBit", dose)
        if integer(ds, "SamplesPerPixel") != 1:
            yield Issue("Samples per Pixel is not 1", "SamplesPerPixel", dose)
        if text(ds, "PhotometricInterpretation") != "MONOCHROME2":
            yield Issue("Photometric Interpretation is not MONOCHROME2",
                        "PhotometricInterpretation", dose)


@rule("DOSE-GRID-FRAME-OFFSET", Severity.ERROR,
      "Grid Frame Offset Vector: one value per frame, starting at 0 (or at the first frame's "
      "position), strictly monotonic",
      f"{RO5}; IHE-RO test tool BRTO-RO5-18, -38; DICOM PS3.3 C.8.8.3.2")
def grid_frame_offsets(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        frames = integer(dose.dataset, "NumberOfFrames")
        if frames is None or frames <= 1:
            continue
        offsets = numbers(dose.dataset, "GridFrameOffsetVector")
        if not offsets:
            yield Issue(f"{frames} frames but no Grid Frame Offset Vector",
                        "GridFrameOffsetVector", dose)
            continue
        if len(offsets) != frames:
            yield Issue(f"Grid Frame Offset Vector has {len(offsets)} values for {frames} frames",
                        "GridFrameOffsetVector", dose)
        position = numbers(dose.dataset, "ImagePositionPatient") or [None] * 3
        if offsets[0] != 0 and (position[2] is None or abs(offsets[0] - position[2]) > 1e-3):
            yield Issue(f"first offset {offsets[0]:g} is neither 0 (relative) nor the Image "
                        "Position (Patient) z (absolute)", "GridFrameOffsetVector", dose)
        steps = np.diff(offsets)
        if len(steps) and not (np.all(steps > 0) or np.all(steps < 0)):
            yield Issue("Grid Frame Offset Vector is not strictly monotonic",
                        "GridFrameOffsetVector", dose)
        pointer = dose.dataset.get("FrameIncrementPointer")
        if pointer is not None and pointer != 0x3004000C:
            yield Issue(f"Frame Increment Pointer is {pointer}, not (3004,000C)",
                        "FrameIncrementPointer", dose)


@rule("DOSE-GRID-SCALING", Severity.ERROR, "Dose Grid Scaling is present and > 0",
      f"{RO5}; DICOM PS3.3 C.8.8.3")
def grid_scaling(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        if not _grid(dose):
            continue
        scaling = number(dose.dataset, "DoseGridScaling")
        if scaling is None or scaling <= 0:
            yield Issue(f"Dose Grid Scaling is {scaling}", "DoseGridScaling", dose)


@rule("DOSE-UNITS-TYPE", Severity.ERROR,
      "Dose Units GY or RELATIVE; Dose Type PHYSICAL, EFFECTIVE or ERROR",
      f"{RO5}; IHE-RO test tool BRTO-RO5-29…32; DICOM PS3.3 C.8.8.3")
def units_and_type(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        units, kind = text(dose.dataset, "DoseUnits"), text(dose.dataset, "DoseType")
        if units not in ("GY", "RELATIVE"):
            yield Issue(f"Dose Units {units or '(empty)'}", "DoseUnits", dose)
        if kind not in ("PHYSICAL", "EFFECTIVE", "ERROR"):
            yield Issue(f"Dose Type {kind or '(empty)'}", "DoseType", dose)


@rule("DOSE-PIXEL-DATA-LENGTH", Severity.ERROR,
      "Pixel Data length is Rows × Columns × Number of Frames × Bits Allocated / 8",
      f"{RO5}; DICOM PS3.5 8.1.1; PS3.3 C.7.6.3")
def pixel_data_length(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        if dose.pixel_data_length is None or dose.pixel_data_length < 0:
            continue  # absent (no grid) or encapsulated
        ds = dose.dataset
        dims = [integer(ds, k) for k in ("Rows", "Columns", "BitsAllocated")]
        if None in dims:
            continue
        rows, cols, bits = dims
        frames = integer(ds, "NumberOfFrames") or 1
        expected = rows * cols * frames * bits // 8
        padded = expected + (expected % 2)
        if dose.pixel_data_length not in (expected, padded):
            yield Issue(f"Pixel Data holds {dose.pixel_data_length} bytes; {rows}×{cols}×{frames}"
                        f" frames at {bits} bits needs {expected}", "PixelData", dose)


def _corners(ds, offsets) -> np.ndarray | None:
    pos = numbers(ds, "ImagePositionPatient")
    ori = numbers(ds, "ImageOrientationPatient")
    spacing = numbers(ds, "PixelSpacing")
    rows, cols = integer(ds, "Rows"), integer(ds, "Columns")
    if not pos or not ori or len(ori) != 6 or not spacing or len(spacing) != 2 \
            or rows is None or cols is None:
        return None
    row_dir, col_dir = np.array(ori[:3]), np.array(ori[3:])
    n = normal(tuple(ori))
    out = []
    for z in (offsets[0], offsets[-1]) if offsets else (0.0,):
        for i in (0, cols - 1):
            for j in (0, rows - 1):
                out.append(np.array(pos) + i * spacing[1] * row_dir + j * spacing[0] * col_dir
                           + (z - (pos[2] if offsets and offsets[0] != 0 else 0)) * n)
    return np.array(out)


@rule("DOSE-GRID-IN-CT", Severity.WARNING,
      "The dose grid lies inside the CT volume and has the CT's orientation (what a Dose "
      "Displayer overlays; no standard makes it an error)",
      f"{RO5}; IHE-RO Dose Displayer (dose on the CT)")
def grid_inside_ct(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for dose in graph.doses:
        if not _grid(dose):
            continue
        images = [i for i in graph.images()
                  if i.frame_of_reference_uid == dose.frame_of_reference_uid
                  and i.position is not None and i.orientation]
        if not images:
            continue  # no images in this Frame of Reference: nothing to compare with
        if not ctx.complete and _partial_ct(graph, dose.frame_of_reference_uid):
            continue  # only the CT that covers the grid can judge it: not a partial export
        orientation = numbers(dose.dataset, "ImageOrientationPatient")
        if orientation is None or len(orientation) != 6 \
                or not np.allclose(orientation, images[0].orientation, atol=1e-3):
            yield Issue(f"Image Orientation (Patient) {orientation} differs from the CT's "
                        f"{list(images[0].orientation)}", "ImageOrientationPatient", dose)
            continue
        corners = _corners(dose.dataset, numbers(dose.dataset, "GridFrameOffsetVector"))
        if corners is None:
            continue
        ct_points = []
        for img in images:
            rows, cols = img.matrix or (0, 0)
            sp = img.pixel_spacing or (0, 0)
            r, c = np.array(img.orientation[:3]), np.array(img.orientation[3:])
            ct_points += [np.array(img.position),
                          np.array(img.position) + (cols - 1) * sp[1] * r + (rows - 1) * sp[0] * c]
        ct = np.array(ct_points)
        low, high = ct.min(axis=0) - 0.5, ct.max(axis=0) + 0.5
        outside = corners[(corners < low).any(axis=1) | (corners > high).any(axis=1)]
        if len(outside):
            yield Issue(f"dose grid extends outside the CT volume ({np.round(low, 1).tolist()} .."
                        f" {np.round(high, 1).tolist()} mm)", "ImagePositionPatient", dose)

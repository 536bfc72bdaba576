"""RT Structure Set content rules (IHE-RO TRO RO-2 Structure Set Storage).

Sources cite the IHE-RO test tool's BRTO checks (BRTO-RO2-nn) and DICOM PS3.3."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from rtconform.dicom.geometry import normal
from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.uids import CT_IMAGE_STORAGE, IMAGE_SOP_CLASSES
from rtconform.dicom.values import decimal_array, integer, items, numbers, text, uid_of
from rtconform.findings import Severity
from rtconform.rules.registry import Issue, RuleContext, rule

RO2 = "IHE-RO TRO RO-2"
CLOSED_PLANAR_TYPES = {"EXTERNAL", "PTV", "CTV", "GTV", "TREATED_VOLUME", "IRRAD_VOLUME", "BOLUS",
                       "AVOIDANCE", "ORGAN", "MARKER", "CONTRAST_AGENT", "CAVITY"}
POINT_TYPES = {"MARKER", "REGISTRATION", "ISOCENTER"}
# PS3.3 C.8.8.8 defined terms for RT ROI Interpreted Type
DEFINED_INTERPRETED_TYPES = CLOSED_PLANAR_TYPES | POINT_TYPES | {
    "SUPPORT", "FIXATION", "DOSE_REGION", "CONTROL", "DOSE_MEASUREMENT", "BRACHY_CHANNEL",
    "BRACHY_ACCESSORY", "BRACHY_SRC_APP", "BRACHY_CHNL_SHLD",
}


def _roi_contours(ss: Instance) -> Iterator[tuple[int, object, int, object, str]]:
    """(roi index, ROI Contour item, contour index, Contour item, tag path)."""
    for r, roi in enumerate(items(ss.dataset, "ROIContourSequence")):
        for c, contour in enumerate(items(roi, "ContourSequence")):
            yield r, roi, c, contour, f"ROIContourSequence[{r}].ContourSequence[{c}]"


def _points(contour) -> np.ndarray | None:
    """Contour Data as an (n, 3) array, decoded as an array (a million
    points must not become three million Python objects)."""
    data = decimal_array(contour)
    if data is None or not len(data) or len(data) % 3:
        return None
    return data.reshape(-1, 3)


def _image_for_for(graph: ObjectGraph, ss: Instance) -> set[str]:
    """Frames of reference of the images the structure set refers to."""
    found = set()
    for frame in items(ss.dataset, "ReferencedFrameOfReferenceSequence"):
        for study in items(frame, "RTReferencedStudySequence"):
            for series in items(study, "RTReferencedSeriesSequence"):
                for img in graph.images_by_series.get(text(series, "SeriesInstanceUID"), []):
                    found.add(img.frame_of_reference_uid)
    return found


@rule("SS-REFERENCED-FRAME-SINGLE", Severity.ERROR,
      "Referenced Frame of Reference, RT Referenced Study and RT Referenced Series Sequences "
      "each hold exactly one item",
      f"{RO2}; IHE-RO test tool BRTO-RO2-17, -19, -21, BRTO-RO7-07 (NrIntOfSequenceItemRule); "
      "Brainlab Table 8-20; DICOM allows several", profile="brto")
def single_frame(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        frames = items(ss.dataset, "ReferencedFrameOfReferenceSequence")
        if len(frames) != 1:
            yield Issue(f"{len(frames)} items, expected 1", "ReferencedFrameOfReferenceSequence",
                        ss)
            continue
        studies = items(frames[0], "RTReferencedStudySequence")
        path = "ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence"
        if len(studies) != 1:
            yield Issue(f"{len(studies)} items, expected 1", path, ss)
            continue
        series = items(studies[0], "RTReferencedSeriesSequence")
        if len(series) != 1:
            yield Issue(f"{len(series)} items, expected 1", f"{path}[0].RTReferencedSeriesSequence",
                        ss)


@rule("SS-FRAME-OF-REFERENCE", Severity.ERROR,
      "The referenced Frame of Reference, and every ROI's, is the images' Frame of Reference",
      f"{RO2}; IHE-RO test tool BRTO-RO2-18, -30; DICOM PS3.3 C.8.8.5")
def frame_matches_images(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        image_frames = _image_for_for(graph, ss)
        if len(image_frames) != 1:
            continue  # images absent (SS-REFERENCED-SERIES says so) or mixed (CT rules do)
        (expected,) = image_frames
        for f, frame in enumerate(items(ss.dataset, "ReferencedFrameOfReferenceSequence")):
            value = text(frame, "FrameOfReferenceUID")
            if value != expected:
                yield Issue(f"Frame of Reference UID {value or '(none)'} is not the images' "
                            f"{expected}",
                            f"ReferencedFrameOfReferenceSequence[{f}].FrameOfReferenceUID", ss)
        for r, roi in enumerate(items(ss.dataset, "StructureSetROISequence")):
            value = text(roi, "ReferencedFrameOfReferenceUID")
            if value != expected:
                yield Issue(f"ROI {text(roi, 'ROIName')!r} Referenced Frame of Reference UID "
                            f"{value or '(none)'} is not the images' {expected}",
                            f"StructureSetROISequence[{r}].ReferencedFrameOfReferenceUID", ss)


@rule("SS-REFERENCED-SERIES", Severity.ERROR,
      "The referenced image series is present (its images are in the set)",
      f"{RO2}; IHE-RO test tool BRTO-RO2-22")
def referenced_series_present(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for f, frame in enumerate(items(ss.dataset, "ReferencedFrameOfReferenceSequence")):
            for s, study in enumerate(items(frame, "RTReferencedStudySequence")):
                for r, series in enumerate(items(study, "RTReferencedSeriesSequence")):
                    uid = text(series, "SeriesInstanceUID")
                    if uid not in graph.images_by_series:
                        yield ctx.missing_reference(
                            graph, ss, CT_IMAGE_STORAGE, f"referenced image series {uid}",
                            f"ReferencedFrameOfReferenceSequence[{f}].RTReferencedStudySequence"
                            f"[{s}].RTReferencedSeriesSequence[{r}].SeriesInstanceUID")


@rule("SS-ROI-NUMBER-CONSISTENCY", Severity.ERROR,
      "Every ROI appears in Structure Set ROI, ROI Contour and RT ROI Observations Sequences",
      f"{RO2}; IHE-RO test tool BRTO-RO2-45; Brainlab Table 8-20 note 4")
def roi_numbers_consistent(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        defined = {integer(i, "ROINumber") for i in items(ss.dataset, "StructureSetROISequence")}
        for seq in ("ROIContourSequence", "RTROIObservationsSequence"):
            used = [integer(i, "ReferencedROINumber") for i in items(ss.dataset, seq)]
            for n, number in enumerate(used):
                if number not in defined:
                    yield Issue(f"Referenced ROI Number {number} is not an ROI Number of the "
                                "Structure Set ROI Sequence", f"{seq}[{n}].ReferencedROINumber",
                                ss)
            for number in sorted(x for x in defined - set(used) if x is not None):
                yield Issue(f"ROI Number {number} has no item in the {seq}", seq, ss)


@rule("SS-ROI-NUMBER-UNIQUE", Severity.ERROR, "ROI Numbers are unique",
      f"{RO2}; IHE-RO test tool BRTO-RO2-29; DICOM PS3.3 C.8.8.5")
def roi_numbers_unique(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        counts = Counter(integer(i, "ROINumber")
                         for i in items(ss.dataset, "StructureSetROISequence"))
        for number, count in sorted(counts.items(), key=lambda kv: str(kv[0])):
            if count > 1:
                yield Issue(f"ROI Number {number} is used {count} times",
                            "StructureSetROISequence", ss)


@rule("SS-ROI-NAME-UNIQUE", Severity.WARNING,
      "ROI Names are unique (stricter than PS3.3; receivers match structures by name)",
      f"{RO2}; IHE-RO test tool BRTO-RO2-31 (ROINameRule)")
def roi_names_unique(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        counts = Counter(text(i, "ROIName") for i in items(ss.dataset, "StructureSetROISequence"))
        for name, count in sorted(counts.items()):
            if count > 1:
                yield Issue(f"ROI Name {name!r} is used {count} times", "StructureSetROISequence",
                            ss)


@rule("SS-CONTOUR-GEOMETRIC-TYPE", Severity.ERROR,
      "Contour Geometric Type is POINT or CLOSED_PLANAR",
      f"{RO2}; IHE-RO test tool BRTO-RO2-41, -42 (ValueListRule); Brainlab Table 8-21; DICOM "
      "also allows OPEN_PLANAR and OPEN_NONPLANAR", profile="brto")
def geometric_type(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            kind = text(contour, "ContourGeometricType")
            if kind not in ("POINT", "CLOSED_PLANAR"):
                yield Issue(f"Contour Geometric Type {kind or '(empty)'}",
                            f"{path}.ContourGeometricType", ss)


@rule("SS-CONTOUR-POINT-COUNT", Severity.ERROR,
      "Number of Contour Points equals the number of (x, y, z) triplets in Contour Data",
      f"{RO2}; IHE-RO test tool BRTO-RO2-44; DICOM PS3.3 C.8.8.6")
def contour_point_count(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            data = decimal_array(contour)
            data = [] if data is None else data
            declared = integer(contour, "NumberOfContourPoints")
            if len(data) % 3:
                yield Issue(f"Contour Data holds {len(data)} values, not a multiple of 3",
                            f"{path}.ContourData", ss)
            elif declared != len(data) // 3:
                yield Issue(f"Number of Contour Points is {declared} but Contour Data holds "
                            f"{len(data) // 3} points", f"{path}.NumberOfContourPoints", ss)


@rule("SS-CONTOUR-CLOSED-PLANAR", Severity.ERROR,
      "A CLOSED_PLANAR contour has at least 3 points, all in one plane",
      f"{RO2}; DICOM PS3.3 C.8.8.6.1")
def closed_planar(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            if text(contour, "ContourGeometricType") != "CLOSED_PLANAR":
                continue
            pts = _points(contour)
            if pts is None:
                continue  # SS-CONTOUR-POINT-COUNT reports malformed data
            if len(pts) < 3:
                yield Issue(f"CLOSED_PLANAR contour with {len(pts)} point(s)",
                            f"{path}.ContourData", ss)
                continue
            centred = pts - pts.mean(axis=0)
            thickness = np.linalg.svd(centred, compute_uv=False)[-1] / np.sqrt(len(pts))
            if thickness > ctx.tolerance_mm:
                yield Issue(f"points are not coplanar (RMS distance from their plane "
                            f"{thickness:.3f} mm)", f"{path}.ContourData", ss)


@rule("SS-CONTOUR-POINT", Severity.ERROR, "A POINT contour has exactly one point",
      f"{RO2}; DICOM PS3.3 C.8.8.6.1")
def point_single(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            if text(contour, "ContourGeometricType") == "POINT":
                pts = _points(contour)
                if pts is not None and len(pts) != 1:
                    yield Issue(f"POINT contour with {len(pts)} points", f"{path}.ContourData",
                                ss)


@rule("SS-CONTOUR-IMAGE", Severity.ERROR,
      "Every contour has exactly one Contour Image Sequence item, an image",
      f"{RO2}; IHE-RO test tool BRTO-RO2-34, -36 (ContourImageSequenceContourInterRelationRule, "
      "ContourDataRule); DICOM makes the sequence optional (Type 3)", profile="brto")
def contour_image_present(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            refs = items(contour, "ContourImageSequence")
            if len(refs) != 1:
                yield Issue(f"Contour Image Sequence has {len(refs)} items, expected 1",
                            f"{path}.ContourImageSequence", ss)
            elif text(refs[0], "ReferencedSOPClassUID") not in IMAGE_SOP_CLASSES:
                yield Issue(f"Referenced SOP Class UID {text(refs[0], 'ReferencedSOPClassUID')} "
                            "is not an image storage class",
                            f"{path}.ContourImageSequence[0].ReferencedSOPClassUID", ss)


@rule("SS-CONTOUR-IMAGE-RESOLVES", Severity.ERROR,
      "Every Contour Image reference resolves to an image in the set",
      f"{RO2}; IHE-RO test tool BRTO-RO2-35, -63")
def contour_image_resolves(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            for i, ref in enumerate(items(contour, "ContourImageSequence")):
                uid = uid_of(ref)
                if graph.get(uid) is None:
                    yield ctx.missing_reference(
                        graph, ss, text(ref, "ReferencedSOPClassUID") or CT_IMAGE_STORAGE,
                        f"contour image {uid}",
                        f"{path}.ContourImageSequence[{i}].ReferencedSOPInstanceUID")


@rule("SS-CONTOUR-ON-PLANE", Severity.ERROR,
      "Every point of a contour lies on its referenced image's plane (default within 0.01 mm)",
      f"{RO2}; IHE-RO test tool BRTO-RO2-35, -37 (ContourDataRule); Brainlab Table 8-21 "
      "import condition")
def contour_on_plane(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            refs = items(contour, "ContourImageSequence")
            pts = _points(contour)
            if len(refs) != 1 or pts is None:
                continue
            image = graph.get(uid_of(refs[0]))
            if image is None or image.position is None or not image.orientation:
                continue
            distance = np.abs((pts - np.array(image.position)) @ normal(image.orientation))
            worst = float(distance.max())
            if worst > ctx.tolerance_mm:
                yield Issue(f"contour lies up to {worst:.3f} mm off the plane of {image.label} "
                            f"(tolerance {ctx.tolerance_mm} mm)", f"{path}.ContourData", ss)


@rule("SS-CONTOUR-OFFSET", Severity.ERROR,
      "Contour Offset Vector is absent or zero",
      f"{RO2}; IHE-RO test tool BRTO-RO2-43 (ValueRule); Brainlab Table 8-21 (otherwise ROI not "
      "imported); legal DICOM otherwise", profile="brto")
def contour_offset(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for _, _, _, contour, path in _roi_contours(ss):
            offset = numbers(contour, "ContourOffsetVector")
            if offset and any(abs(v) > 0 for v in offset):
                yield Issue(f"Contour Offset Vector {offset} is not zero",
                            f"{path}.ContourOffsetVector", ss)


@rule("SS-ROI-DISPLAY-COLOR", Severity.ERROR,
      "ROI Display Color, when present, is three integers 0-255", f"{RO2}; DICOM PS3.3 C.8.8.6")
def display_color(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for r, roi in enumerate(items(ss.dataset, "ROIContourSequence")):
            if "ROIDisplayColor" not in roi:
                continue
            color = numbers(roi, "ROIDisplayColor")
            if color is None or len(color) != 3 or any(not 0 <= c <= 255 for c in color):
                yield Issue(f"ROI Display Color {roi.ROIDisplayColor} is not three values 0-255",
                            f"ROIContourSequence[{r}].ROIDisplayColor", ss)


@rule("SS-ROI-INTERPRETED-TYPE", Severity.WARNING,
      "RT ROI Interpreted Type is one of PS3.3's defined terms (others are legal, but receivers "
      "may not know them)", f"{RO2}; DICOM PS3.3 C.8.8.8")
def interpreted_type(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for o, obs in enumerate(items(ss.dataset, "RTROIObservationsSequence")):
            value = text(obs, "RTROIInterpretedType")
            if value and value not in DEFINED_INTERPRETED_TYPES:
                yield Issue(f"RT ROI Interpreted Type {value!r} is not a defined term",
                            f"RTROIObservationsSequence[{o}].RTROIInterpretedType", ss)


@rule("SS-EXTERNAL-UNIQUE", Severity.ERROR, "At most one ROI is interpreted as EXTERNAL",
      f"{RO2}; DICOM PS3.3 C.8.8.8.1 (only one ROI shall be EXTERNAL)")
def one_external(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        externals = [o for o in items(ss.dataset, "RTROIObservationsSequence")
                     if text(o, "RTROIInterpretedType") == "EXTERNAL"]
        if len(externals) > 1:
            yield Issue(f"{len(externals)} ROIs are interpreted as EXTERNAL",
                        "RTROIObservationsSequence", ss)


@rule("SS-ROI-GENERATION-ALGORITHM", Severity.ERROR,
      "ROI Generation Algorithm is AUTOMATIC, SEMIAUTOMATIC or MANUAL",
      f"{RO2}; IHE-RO test tool BRTO-RO2-32, -33 (IsRequiredRule, ValueListRule), every ROI; "
      "DICOM leaves it Type 2 with defined terms", profile="brto")
def generation_algorithm(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for r, roi in enumerate(items(ss.dataset, "StructureSetROISequence")):
            value = text(roi, "ROIGenerationAlgorithm")
            if value not in ("AUTOMATIC", "SEMIAUTOMATIC", "MANUAL"):
                yield Issue(f"ROI Generation Algorithm {value or '(empty)'}",
                            f"StructureSetROISequence[{r}].ROIGenerationAlgorithm", ss)


DENSITY_PROPERTIES = {"REL_ELEC_DENSITY", "REL_MASS_DENSITY", "EFFECTIVE_Z", "EFF_Z_PER_A",
                      "REL_STOP_RATIO", "ELEM_FRACTION", "MEAN_EXCI_ENERGY"}


@rule("SS-ROI-PHYSICAL-PROPERTIES", Severity.ERROR,
      "A density override is stated as ROI Physical Properties: a defined property "
      "(REL_ELEC_DENSITY, REL_MASS_DENSITY …) with a value that makes sense",
      "DICOM PS3.3 C.8.8.8 (ROI Physical Properties Sequence: ROI Physical Property and "
      "Value Type 1; defined terms)")
def physical_properties(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in graph.structure_sets:
        for o, obs in enumerate(items(ss.dataset, "RTROIObservationsSequence")):
            for p, prop in enumerate(items(obs, "ROIPhysicalPropertiesSequence")):
                path = f"RTROIObservationsSequence[{o}].ROIPhysicalPropertiesSequence[{p}]"
                name = text(prop, "ROIPhysicalProperty")
                values = numbers(prop, "ROIPhysicalPropertyValue")
                if not name:
                    yield Issue("an override without ROI Physical Property",
                                f"{path}.ROIPhysicalProperty", ss)
                elif name not in DENSITY_PROPERTIES:
                    yield Issue(f"ROI Physical Property {name!r} is not a defined term",
                                f"{path}.ROIPhysicalProperty", ss, severity=Severity.WARNING)
                if name != "ELEM_FRACTION" and (not values or len(values) != 1):
                    yield Issue(f"{name or 'the override'} has no single ROI Physical Property "
                                "Value", f"{path}.ROIPhysicalPropertyValue", ss)
                elif name in ("REL_ELEC_DENSITY", "REL_MASS_DENSITY") and \
                        not 0 <= values[0] <= 25:
                    yield Issue(f"{name} {values[0]} is outside any tissue or implant "
                                "(0 … 25)", f"{path}.ROIPhysicalPropertyValue", ss)

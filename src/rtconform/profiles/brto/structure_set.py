"""BRTO rules for the RT Structure Set a Contourer stores (RO-2)."""

from __future__ import annotations

from collections.abc import Iterator

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.uids import CT_IMAGE_STORAGE
from rtconform.dicom.values import CONTOUR_DATA, integer, items, text, uid_of
from rtconform.findings import Severity
from rtconform.profiles.brto.common import BRTO, produced, tool
from rtconform.profiles.dicom_rt.structure_set import CLOSED_PLANAR_TYPES, POINT_TYPES
from rtconform.rules.registry import Issue, RuleContext, rule

RO2 = f"{BRTO} RO-2"
# Explicit VR: a DS value is preceded by a 2-byte length, so Contour Data fits
# in 65,534 bytes (even length) whatever the number of points.
MAX_EXPLICIT_VR_LENGTH = 0xFFFE


@rule("BRTO-SS-REQUIRED", Severity.ERROR,
      "Structure Set Label, Date and Time have values; every ROI has a name, and an ROI "
      "Contour item with contours",
      f"{RO2} (R+, R+*); "
      + tool("BRTO-RO2-14…16", "BRTO-RO2-28", "BRTO-RO2-34", "BRTO-RO2-36",
             "(IsRequiredRule, ContourDataRule)"), profile="brto")
def required(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in produced(ctx, graph.structure_sets):
        ds = ss.dataset
        for keyword in ("StructureSetLabel", "StructureSetDate", "StructureSetTime"):
            if not text(ds, keyword):
                yield Issue(f"{keyword} is absent or empty (R+)", keyword, ss)
        rois = items(ds, "StructureSetROISequence")
        if not rois:
            yield Issue("Structure Set ROI Sequence is absent or empty", "StructureSetROISequence",
                        ss)
        for r, roi in enumerate(rois):
            if not text(roi, "ROIName"):
                yield Issue(f"ROI {integer(roi, 'ROINumber')} has no ROI Name (R+)",
                            f"StructureSetROISequence[{r}].ROIName", ss)
        contours = items(ds, "ROIContourSequence")
        if not contours:
            yield Issue("ROI Contour Sequence is absent or empty", "ROIContourSequence", ss)
        for r, roi in enumerate(contours):
            if not items(roi, "ContourSequence"):
                yield Issue(f"ROI {integer(roi, 'ReferencedROINumber')} has no Contour Sequence",
                            f"ROIContourSequence[{r}].ContourSequence", ss)


@rule("BRTO-SS-IMAGE-REFERENCES", Severity.ERROR,
      "The referenced series lists its Contour Image Sequence (no more items than the series "
      "has images); every image reference is a CT Image without Referenced Frame Number; the "
      "referenced study is the images' study and the series one the actor was given or made",
      f"{RO2} (R+*, O+*); "
      + tool("BRTO-RO2-20", "BRTO-RO2-22…27", "BRTO-RO2-38…40",
             "(ContourImageSequenceStructureSetRule, ValueRule, NotPresentRule)"),
      profile="brto")
def image_references(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    given_series = {g.series_uid for g in ctx.given.values() if g.kind == "image"}
    made_series = {i.series_uid for i in produced(ctx, graph.images())}
    for ss in produced(ctx, graph.structure_sets):
        ds = ss.dataset
        if "ReferencedFrameNumber" in ds:
            yield Issue("Referenced Frame Number at the top level of the dataset",
                        "ReferencedFrameNumber", ss)
        for f, frame in enumerate(items(ds, "ReferencedFrameOfReferenceSequence")):
            for s, study in enumerate(items(frame, "RTReferencedStudySequence")):
                base = f"ReferencedFrameOfReferenceSequence[{f}].RTReferencedStudySequence[{s}]"
                for r, series in enumerate(items(study, "RTReferencedSeriesSequence")):
                    path = f"{base}.RTReferencedSeriesSequence[{r}]"
                    uid = text(series, "SeriesInstanceUID")
                    images = graph.images_by_series.get(uid, [])
                    if images and uid_of(study) != images[0].study_uid:
                        yield Issue(f"RT Referenced Study {uid_of(study)} is not the study "
                                    f"{images[0].study_uid} of series {uid}",
                                    f"{base}.ReferencedSOPInstanceUID", ss)
                    if ctx.given and uid not in given_series | made_series:
                        yield Issue(f"series {uid} is neither a series the actor was given nor "
                                    "one it made", f"{path}.SeriesInstanceUID", ss)
                    refs = items(series, "ContourImageSequence")
                    if not refs:
                        yield Issue("Contour Image Sequence of the referenced series is absent",
                                    f"{path}.ContourImageSequence", ss)
                    elif images and len(refs) > len(images):
                        yield Issue(f"{len(refs)} Contour Image items for a series of "
                                    f"{len(images)} images", f"{path}.ContourImageSequence", ss)
                    for i, ref in enumerate(refs):
                        yield from _image_item(ss, ref, f"{path}.ContourImageSequence[{i}]")
        for r, roi in enumerate(items(ds, "ROIContourSequence")):
            for c, contour in enumerate(items(roi, "ContourSequence")):
                for i, ref in enumerate(items(contour, "ContourImageSequence")):
                    yield from _image_item(ss, ref, f"ROIContourSequence[{r}].ContourSequence"
                                                    f"[{c}].ContourImageSequence[{i}]")


def _image_item(ss, ref, path: str) -> Iterator[Issue]:
    sop_class = text(ref, "ReferencedSOPClassUID")
    if sop_class != CT_IMAGE_STORAGE:
        yield Issue(f"Referenced SOP Class UID {sop_class or '(absent)'} is not CT Image Storage",
                    f"{path}.ReferencedSOPClassUID", ss)
    if "ReferencedFrameNumber" in ref:
        yield Issue("Referenced Frame Number is present (CT images are single-frame)",
                    f"{path}.ReferencedFrameNumber", ss)


@rule("BRTO-SS-INTERPRETED-TYPE", Severity.ERROR,
      "RT ROI Interpreted Type fits the ROI's contours (CLOSED_PLANAR: a volume type; POINT: "
      "MARKER, ISOCENTER or REGISTRATION); an ROI with several observations has a typed one",
      f"{RO2} (RT ROI Interpreted Type O+*); "
      + tool("BRTO-RO2-46", "BRTO-RO2-47", "(RTROIInterpretedTypeRule, INERT in the tool)"),
      profile="brto")
def interpreted_type(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in produced(ctx, graph.structure_sets):
        kinds: dict[int | None, set[str]] = {}
        for roi in items(ss.dataset, "ROIContourSequence"):
            kinds.setdefault(integer(roi, "ReferencedROINumber"), set()).update(
                text(c, "ContourGeometricType") for c in items(roi, "ContourSequence"))
        observations: dict[int | None, list] = {}
        for o, obs in enumerate(items(ss.dataset, "RTROIObservationsSequence")):
            number = integer(obs, "ReferencedROINumber")
            observations.setdefault(number, []).append(obs)
            value = text(obs, "RTROIInterpretedType")
            path = f"RTROIObservationsSequence[{o}].RTROIInterpretedType"
            geometry = kinds.get(number, set())
            if value and "POINT" in geometry and value not in POINT_TYPES:
                yield Issue(f"POINT ROI {number} interpreted as {value}; expected one of "
                            f"{sorted(POINT_TYPES)}", path, ss)
            if value and "CLOSED_PLANAR" in geometry and value not in CLOSED_PLANAR_TYPES:
                yield Issue(f"CLOSED_PLANAR ROI {number} interpreted as {value}; expected one of "
                            f"{sorted(CLOSED_PLANAR_TYPES)}", path, ss)
        for number, group in observations.items():
            needs = len(group) > 1 or any("ROIPhysicalPropertiesSequence" in o for o in group)
            if needs and not any(text(o, "RTROIInterpretedType") for o in group):
                yield Issue(f"ROI {number} has {len(group)} observation item(s), none with an RT "
                            "ROI Interpreted Type", "RTROIObservationsSequence", ss)


@rule("BRTO-SS-ISOCENTER", Severity.WARNING,
      "The structure set holds an ISOCENTER point ROI",
      f"{RO2}; " + tool("BRTO-RO2-48 (rule sheet only; the tool does not test it)"),
      profile="brto")
def isocenter(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in produced(ctx, graph.structure_sets):
        if not any(text(o, "RTROIInterpretedType") == "ISOCENTER"
                   for o in items(ss.dataset, "RTROIObservationsSequence")):
            yield Issue("no RT ROI Observations item is interpreted as ISOCENTER",
                        "RTROIObservationsSequence", ss)


@rule("BRTO-SS-PHYSICAL-PROPERTY", Severity.ERROR,
      "ROI Physical Property, when sent, is REL_ELEC_DENSITY",
      f"{RO2} (R+*); " + tool("BRTO-RO2-49", "(ValueRule)"), profile="brto")
def physical_property(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in produced(ctx, graph.structure_sets):
        for o, obs in enumerate(items(ss.dataset, "RTROIObservationsSequence")):
            for p, prop in enumerate(items(obs, "ROIPhysicalPropertiesSequence")):
                value = text(prop, "ROIPhysicalProperty")
                if value != "REL_ELEC_DENSITY":
                    yield Issue(f"ROI Physical Property {value or '(empty)'}",
                                f"RTROIObservationsSequence[{o}].ROIPhysicalPropertiesSequence"
                                f"[{p}].ROIPhysicalProperty", ss)


@rule("BRTO-SS-CONTOUR-DATA-LENGTH", Severity.ERROR,
      "Contour Data fits an Explicit VR element (at most 65,534 bytes)",
      f"{RO2}; DICOM PS3.5 7.1.2; " + tool("BRTO-RO2-62 (rule sheet; not tested by the tool)"),
      profile="brto")
def contour_data_length(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for ss in produced(ctx, graph.structure_sets):
        for r, roi in enumerate(items(ss.dataset, "ROIContourSequence")):
            for c, contour in enumerate(items(roi, "ContourSequence")):
                if "ContourData" not in contour:
                    continue
                raw = contour.get_item(CONTOUR_DATA).value  # not decoded if still raw
                if isinstance(raw, bytes):  # as encoded (a million points stay text)
                    length = len(raw.rstrip(b" \0"))
                else:
                    values = [raw] if isinstance(raw, str) or not hasattr(raw, "__len__") \
                        else raw
                    # as encoded: each value's own text, joined by backslashes
                    length = sum(len(getattr(v, "original_string", None) or str(v))
                                 for v in values) + max(len(values) - 1, 0)
                if length > MAX_EXPLICIT_VR_LENGTH:
                    yield Issue(f"Contour Data encodes to {length} bytes; an Explicit VR DS "
                                f"element holds at most {MAX_EXPLICIT_VR_LENGTH}",
                                f"ROIContourSequence[{r}].ContourSequence[{c}].ContourData", ss)

"""Module tables of the IODs the TRO profile exchanges (PS3.3 A.3, A.18, A.19,
A.20), with each module's identifying attributes: enough to say, for an
object received, which modules are present, absent or not applicable, as a
conformance statement's Annex does (Brainlab RT Elements Tables 8-1 … 8-32)."""

from __future__ import annotations

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from rtconform.dicom.uids import (
    CT_IMAGE_STORAGE,
    RT_DOSE_STORAGE,
    RT_PLAN_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
)

# (module, usage M/C/U, attributes whose presence shows the module)
MODULES = {
    CT_IMAGE_STORAGE: ("CT Image", [
        ("Patient", "M", ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]),
        ("General Study", "M", ["StudyInstanceUID", "StudyDate", "StudyTime", "StudyID"]),
        ("General Series", "M", ["Modality", "SeriesInstanceUID", "SeriesNumber"]),
        ("Frame of Reference", "M", ["FrameOfReferenceUID", "PositionReferenceIndicator"]),
        ("General Equipment", "M", ["Manufacturer"]),
        ("General Image", "M", ["InstanceNumber", "ImageType"]),
        ("Image Plane", "M", ["PixelSpacing", "ImageOrientationPatient", "ImagePositionPatient",
                              "SliceThickness"]),
        ("Image Pixel", "M", ["Rows", "Columns", "BitsAllocated", "PixelRepresentation"]),
        ("CT Image", "M", ["RescaleIntercept", "RescaleSlope", "KVP"]),
        ("SOP Common", "M", ["SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet"]),
    ]),
    RT_STRUCTURE_SET_STORAGE: ("RT Structure Set", [
        ("Patient", "M", ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]),
        ("General Study", "M", ["StudyInstanceUID", "StudyDate", "StudyTime", "StudyID"]),
        ("RT Series", "M", ["Modality", "SeriesInstanceUID", "SeriesNumber"]),
        ("Frame of Reference", "U", ["FrameOfReferenceUID", "PositionReferenceIndicator"]),
        ("General Equipment", "M", ["Manufacturer"]),
        ("Structure Set", "M", ["StructureSetLabel", "StructureSetDate",
                                "ReferencedFrameOfReferenceSequence", "StructureSetROISequence"]),
        ("ROI Contour", "M", ["ROIContourSequence"]),
        ("RT ROI Observations", "M", ["RTROIObservationsSequence"]),
        ("Approval", "U", ["ApprovalStatus"]),
        ("SOP Common", "M", ["SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet"]),
    ]),
    RT_PLAN_STORAGE: ("RT Plan", [
        ("Patient", "M", ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]),
        ("General Study", "M", ["StudyInstanceUID", "StudyDate", "StudyTime", "StudyID"]),
        ("RT Series", "M", ["Modality", "SeriesInstanceUID", "SeriesNumber"]),
        ("Frame of Reference", "U", ["FrameOfReferenceUID", "PositionReferenceIndicator"]),
        ("General Equipment", "M", ["Manufacturer"]),
        ("RT General Plan", "M", ["RTPlanLabel", "RTPlanDate", "RTPlanGeometry",
                                  "ReferencedStructureSetSequence"]),
        ("RT Prescription", "U", ["DoseReferenceSequence"]),
        ("RT Patient Setup", "U", ["PatientSetupSequence"]),
        ("RT Fraction Scheme", "U", ["FractionGroupSequence"]),
        ("RT Beams", "C", ["BeamSequence"]),
        ("Approval", "U", ["ApprovalStatus"]),
        ("SOP Common", "M", ["SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet"]),
    ]),
    RT_DOSE_STORAGE: ("RT Dose", [
        ("Patient", "M", ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"]),
        ("General Study", "M", ["StudyInstanceUID", "StudyDate", "StudyTime", "StudyID"]),
        ("RT Series", "M", ["Modality", "SeriesInstanceUID", "SeriesNumber"]),
        ("Frame of Reference", "M", ["FrameOfReferenceUID", "PositionReferenceIndicator"]),
        ("General Equipment", "M", ["Manufacturer"]),
        ("General Image", "C", ["InstanceNumber", "ImageType"]),
        ("Image Plane", "C", ["PixelSpacing", "ImageOrientationPatient",
                              "ImagePositionPatient"]),
        ("Image Pixel", "C", ["Rows", "Columns", "BitsAllocated"]),
        ("Multi-frame", "C", ["NumberOfFrames", "FrameIncrementPointer"]),
        ("RT Dose", "M", ["DoseUnits", "DoseType", "DoseSummationType",
                          "ReferencedRTPlanSequence", "GridFrameOffsetVector",
                          "DoseGridScaling"]),
        ("RT DVH", "U", ["DVHSequence"]),
        ("SOP Common", "M", ["SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet"]),
    ]),
}

# Nested attributes whose values a reader wants summarised (path → keyword).
SUMMARISED = {
    "RT Structure Set": [("ROIContourSequence", "ContourSequence", "ContourGeometricType"),
                         ("RTROIObservationsSequence", None, "RTROIInterpretedType"),
                         ("StructureSetROISequence", None, "ROIGenerationAlgorithm")],
    "RT Plan": [("BeamSequence", None, "BeamType"), ("BeamSequence", None, "RadiationType"),
                ("BeamSequence", "BeamLimitingDeviceSequence", "RTBeamLimitingDeviceType")],
    "RT Dose": [],
    "CT Image": [],
}


def module_table(ds: Dataset) -> tuple[str, list[dict]]:
    """(IOD name, [{module, usage, status}]) where status is present,
    partial (some of its attributes), absent, or not applicable."""
    name, modules = MODULES.get(str(ds.get("SOPClassUID", "")), ("", []))
    rows = []
    for module, usage, keywords in modules:
        found = sum(1 for k in keywords if k in ds)
        status = "present" if found == len(keywords) else "partial" if found else \
            ("absent" if usage == "M" else "not present")
        rows.append({"module": module, "usage": usage, "status": status})
    return name, rows


def summarise(values: list) -> str:
    distinct = sorted({str(v) for v in values})
    if len(distinct) <= 6:
        return ", ".join(f'"{v}"' for v in distinct)
    return f"{len(values)} values, {len(distinct)} distinct"


def attribute_rows(datasets: list[Dataset], iod: str) -> list[dict]:
    """Top-level attributes (VR, values or a summary) and the summarised
    nested ones, over every received object of one IOD."""
    seen: dict[str, dict] = {}
    for ds in datasets:
        for elem in ds:
            if elem.tag.is_private or elem.tag.group == 0x7FE0:
                continue
            row = seen.setdefault(elem.keyword or str(elem.tag), {
                "tag": f"({elem.tag.group:04X},{elem.tag.element:04X})",
                "keyword": elem.keyword or str(elem.tag), "vr": elem.VR, "values": []})
            row["values"].append(_value_text(elem))
    for outer, middle, keyword in SUMMARISED.get(iod, []):
        values = nested_values(datasets, outer, middle, keyword)
        if values:
            path = ".".join(p for p in (outer, middle, keyword) if p)
            seen[path] = {"tag": "", "keyword": path, "vr": "CS", "values": values}
    return [{"tag": row["tag"], "keyword": row["keyword"], "vr": row["vr"],
             "summary": summarise(row["values"]), "objects": len(row["values"])}
            for row in seen.values()]


def _value_text(elem) -> str:
    """An element's value as the annex shows it: a sequence by its item
    count, bulk data by its length, a multi-value joined by backslashes."""
    if elem.VR == "SQ":
        return f"{len(elem.value)} item(s)"
    if elem.VR in ("OB", "OW", "OF", "OD", "UN"):
        return f"{len(elem.value or b'')} bytes"
    value = elem.value
    return "\\".join(map(str, value)) if isinstance(value, list) \
        or type(value).__name__ == "MultiValue" else str(value)


def nested_values(datasets: list[Dataset], outer: str, middle: str | None,
                  keyword: str) -> list:
    """Every value of `keyword` in the items of `outer` (or of `middle`
    within them), over all the datasets."""
    values = []
    for ds in datasets:
        for item in ds.get(outer, []):
            for inner in (item.get(middle, []) if middle else [item]):
                if keyword in inner:
                    values.append(inner.get(keyword))
    return values


def private_attributes(datasets: list[Dataset]) -> list[dict]:
    """Private elements, at any depth, with their private creator (looked up
    in the data set that holds them, PS3.5 7.8.1)."""
    found: dict[tuple, dict] = {}
    for ds in datasets:
        for holder, elem in _private_elements(ds):
            creator = ""
            if elem.tag.element >= 0x1000:
                block = (elem.tag.group << 16) | (elem.tag.element >> 8)
                creator = str(holder.get(block, "") and holder[block].value)
            key = (f"({elem.tag.group:04X},{elem.tag.element:04X})", creator)
            found.setdefault(key, {"tag": key[0], "creator": creator, "vr": elem.VR})
    return list(found.values())


def _private_elements(ds: Dataset):
    """(holding data set, element) of every private element, found by tag:
    no other value is decoded (a structure set's Contour Data is most of a
    report's reading time otherwise) but the sequences walked into."""
    for tag in ds.keys():  # noqa: SIM118 (iter(ds) decodes every element)
        if tag.is_private:
            yield ds, ds[tag]
        elif _is_sequence(ds, tag):
            for item in ds[tag].value:
                yield from _private_elements(item)


def _is_sequence(ds: Dataset, tag) -> bool:
    vr = ds.get_item(tag).VR
    if vr is None:  # Implicit VR: the dictionary's (an unknown public tag is no sequence)
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            return False
    return vr == "SQ"

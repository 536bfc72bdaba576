"""A minimal excerpt of the DICOM standard in DocBook, for dicom-validator.

The real PS3.3/3.4/3.6 DocBook cannot be downloaded here, so this builds the
three parts with just the RT Structure Set IOD (PS3.3 A.19) and the modules it
uses, in the same XML shape NEMA publishes. Tag, VR and VM come from pydicom's
copy of the PS3.6 dictionary; types and module membership are from PS3.3.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword

NS = "http://docbook.org/ns/docbook"
EDITION = "2025b"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"

# (module name, PS3.3 section, usage, [(keyword with '>' nesting, type, enumerated values)])
MODULES = [
    ("Patient", "C.7.1.1", "M", [
        ("PatientName", "2"), ("PatientID", "2"), ("PatientBirthDate", "2"),
        ("PatientSex", "2")]),
    ("General Study", "C.7.2.1", "M", [
        ("StudyInstanceUID", "1"), ("StudyDate", "2"), ("StudyTime", "2"),
        ("ReferringPhysicianName", "2"), ("StudyID", "2"), ("AccessionNumber", "2"),
        ("StudyDescription", "3")]),
    ("RT Series", "C.8.8.1", "M", [
        ("Modality", "1", ["RTSTRUCT", "RTPLAN", "RTDOSE"]), ("SeriesInstanceUID", "1"),
        ("SeriesNumber", "2"), ("SeriesDescription", "3"), ("OperatorsName", "2")]),
    ("Frame of Reference", "C.7.4.1", "U", [
        ("FrameOfReferenceUID", "1"), ("PositionReferenceIndicator", "2")]),
    ("General Equipment", "C.7.5.1", "M", [
        ("Manufacturer", "2"), ("StationName", "3"), ("ManufacturerModelName", "3"),
        ("SoftwareVersions", "3")]),
    ("Structure Set", "C.8.8.5", "M", [
        ("StructureSetLabel", "1"), ("StructureSetName", "3"), ("InstanceNumber", "3"),
        ("StructureSetDate", "2"), ("StructureSetTime", "2"),
        ("ReferencedFrameOfReferenceSequence", "3"),
        (">FrameOfReferenceUID", "1"),
        (">RTReferencedStudySequence", "3"),
        (">>ReferencedSOPClassUID", "1"), (">>ReferencedSOPInstanceUID", "1"),
        (">>RTReferencedSeriesSequence", "1"),
        (">>>SeriesInstanceUID", "1"), (">>>ContourImageSequence", "1"),
        (">>>>ReferencedSOPClassUID", "1"), (">>>>ReferencedSOPInstanceUID", "1"),
        ("StructureSetROISequence", "1"),
        (">ROINumber", "1"), (">ReferencedFrameOfReferenceUID", "1"), (">ROIName", "2"),
        (">ROIGenerationAlgorithm", "2", ["AUTOMATIC", "SEMIAUTOMATIC", "MANUAL"])]),
    ("ROI Contour", "C.8.8.6", "M", [
        ("ROIContourSequence", "1"),
        (">ReferencedROINumber", "1"), (">ROIDisplayColor", "3"),
        (">ContourSequence", "3"),
        (">>ContourNumber", "3"),
        (">>ContourImageSequence", "3"),
        (">>>ReferencedSOPClassUID", "1"), (">>>ReferencedSOPInstanceUID", "1"),
        (">>ContourGeometricType", "1",
         ["POINT", "OPEN_PLANAR", "OPEN_NONPLANAR", "CLOSED_PLANAR", "CLOSEDPLANAR_XOR"]),
        (">>NumberOfContourPoints", "1"), (">>ContourData", "1")]),
    ("RT ROI Observations", "C.8.8.8", "M", [
        ("RTROIObservationsSequence", "1"),
        (">ObservationNumber", "1"), (">ReferencedROINumber", "1"),
        (">RTROIInterpretedType", "2"), (">ROIInterpreter", "2")]),
    ("Approval", "C.8.8.16", "U", [
        ("ApprovalStatus", "1", ["APPROVED", "UNAPPROVED", "REJECTED"])]),
    ("SOP Common", "C.12.1", "M", [
        ("SOPClassUID", "1"), ("SOPInstanceUID", "1"), ("SpecificCharacterSet", "1C"),
        ("InstanceCreationDate", "3"), ("InstanceCreationTime", "3")]),
]


def _para(text: str) -> str:
    return f"<para>{escape(text)}</para>"


def _tag(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _attribute_row(entry: tuple) -> str:
    nested, type_ = entry[0], entry[1]
    keyword = nested.lstrip(">")
    depth = len(nested) - len(keyword)
    description = _para(f"Description of {keyword}.")
    if len(entry) > 2:
        terms = "".join(f"<varlistentry><term>{t}</term><listitem><para/></listitem>"
                        f"</varlistentry>" for t in entry[2])
        description += f"<variablelist><title>Enumerated Values:</title>{terms}</variablelist>"
    condition = " Required if the character set is extended." if type_ == "1C" else ""
    if condition:
        description = _para(f"Description of {keyword}.{condition}")
    return (f"<tr><td>{_para('>' * depth + keyword)}</td><td>{_para(_tag(keyword))}</td>"
            f"<td>{_para(type_)}</td><td>{description}</td></tr>")


def _nest(label: str, body: str) -> str:
    """Wrap a module table in the chapter/section nesting its label implies."""
    parts = label.split(".")
    xml = f'<section label="{label}" xml:id="sect_{label}"><title>Module</title>{body}</section>'
    for i in range(len(parts) - 1, 1, -1):
        outer = ".".join(parts[:i])
        xml = f'<section label="{outer}"><title>{outer}</title>{xml}</section>'
    return xml


def part03() -> str:
    rows = "".join(
        f'<tr><td rowspan="1">{_para(name)}</td><td>{_para(name)}</td>'
        f'<td><para><xref linkend="sect_{section}"/></para></td><td>{_para(usage)}</td></tr>'
        for name, section, usage, _ in MODULES)
    iod = (
        '<section label="A.1"><title>Elements of an IOD</title></section>'
        '<section label="A.19"><title>RT Structure Set Information Object Definition</title>'
        '<section label="A.19.3"><title>RT Structure Set IOD Module Table</title>'
        f"<table><tbody>{rows}</tbody></table></section></section>")
    # Chapter C: each module in its own nested section.
    modules = "".join(
        _nest(section, "<table><tbody>" + "".join(map(_attribute_row, attrs))
              + "</tbody></table>")
        for _, section, _, attrs in MODULES)
    return (f'<?xml version="1.0" encoding="utf-8"?><book xmlns="{NS}" '
            f'xmlns:xl="http://www.w3.org/1999/xlink">'
            f'<chapter label="A">{iod}</chapter><chapter label="C">{modules}</chapter></book>')


def part04() -> str:
    row = (f"<tr>{_td('RT Structure Set Storage')}{_td(RT_STRUCTURE_SET_STORAGE)}"
           '<td><para><olink targetdoc="PS3.3" targetptr="sect_A.19"/></para></td></tr>')
    return (f'<?xml version="1.0" encoding="utf-8"?><book xmlns="{NS}"><chapter label="B">'
            f'<section label="B.5"><table><tbody>{row}</tbody></table></section></chapter></book>')


def _td(text: str) -> str:
    return f"<td>{_para(text)}</td>"


def part06() -> str:
    keywords = sorted({entry[0].lstrip(">") for _, _, _, attrs in MODULES for entry in attrs})
    rows = "".join(
        f"<tr>{_td(_tag(k))}{_td(k)}{_td(k)}{_td(dictionary_VR(tag_for_keyword(k)))}"
        f"{_td(dictionary_VM(tag_for_keyword(k)))}{_td('')}</tr>" for k in keywords)
    uid_row = (f"<tr>{_td(RT_STRUCTURE_SET_STORAGE)}{_td('RT Structure Set Storage')}"
               f"{_td('RTStructureSetStorage')}{_td('SOP Class')}{_td('PS3.4')}</tr>")
    return (f'<?xml version="1.0" encoding="utf-8"?><book xmlns="{NS}">'
            f'<chapter label="6"><table><tbody>{rows}</tbody></table></chapter>'
            f'<chapter label="A"><table><tbody>{uid_row}</tbody></table></chapter></book>')


def write_mini_standard(root: Path, edition: str = EDITION) -> Path:
    """Write <root>/<edition>/docbook/part0{3,4,6}.xml; return root."""
    docbook = root / edition / "docbook"
    docbook.mkdir(parents=True, exist_ok=True)
    (docbook / "part03.xml").write_text(part03(), encoding="utf-8")
    (docbook / "part04.xml").write_text(part04(), encoding="utf-8")
    (docbook / "part06.xml").write_text(part06(), encoding="utf-8")
    return root

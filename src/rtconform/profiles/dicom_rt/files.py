"""Per-file rules, run on every header as it streams by: UIDs, file meta
information, the Type 1 attributes the TRO rules stand on."""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from rtconform.dicom.index import Instance
from rtconform.dicom.uids import uid_problem
from rtconform.findings import Severity
from rtconform.rules.registry import Issue, RuleContext, rule

# Type 1 attributes per IOD that the profile's checks rely on (PS3.3 sections).
TYPE1 = {
    "common": (("SOPClassUID", "C.12.1"), ("SOPInstanceUID", "C.12.1"),
               ("StudyInstanceUID", "C.7.2.1"), ("SeriesInstanceUID", "C.7.3.1 / C.8.8.1"),
               ("Modality", "C.7.3.1 / C.8.8.1")),
    "image": (("FrameOfReferenceUID", "C.7.4.1"), ("ImagePositionPatient", "C.7.6.2"),
              ("ImageOrientationPatient", "C.7.6.2"), ("PixelSpacing", "C.7.6.2"),
              ("Rows", "C.7.6.3"), ("Columns", "C.7.6.3")),
    "rtstruct": (("StructureSetLabel", "C.8.8.5"), ("StructureSetROISequence", "C.8.8.5"),
                 ("ROIContourSequence", "C.8.8.6"), ("RTROIObservationsSequence", "C.8.8.8")),
    "rtplan": (("RTPlanLabel", "C.8.8.9"), ("RTPlanGeometry", "C.8.8.9")),
    "rtdose": (("FrameOfReferenceUID", "C.7.4.1"), ("DoseUnits", "C.8.8.3"),
               ("DoseType", "C.8.8.3"), ("DoseSummationType", "C.8.8.3")),
}


def _vr(ds: Dataset, tag) -> str:
    """An element's VR without decoding its value (decoding every element of
    every header was most of the time validate spent on a CT)."""
    raw = ds.get_item(tag)
    if getattr(raw, "VR", None) not in (None, "UN"):  # UN: pydicom decodes it by the dictionary
        return raw.VR
    try:
        return dictionary_VR(tag)
    except KeyError:  # private or unknown: not walked, as before
        return "UN"


def _walk_uids(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, str]]:
    for tag in sorted(ds.keys()):
        if _vr(ds, tag) not in ("SQ", "UI"):
            continue
        elem = ds[tag]
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                yield from _walk_uids(item, f"{prefix}{elem.keyword or elem.tag}[{i}].")
        elif elem.VR == "UI" and elem.value not in (None, ""):
            values = elem.value if elem.VM > 1 else [elem.value]
            for value in values:
                yield f"{prefix}{elem.keyword or elem.tag}", str(value)


@rule("UID-VALID", Severity.ERROR,
      "Every UID follows the PS3.5 grammar (digits and dots, no leading zeros, root 0/1/2, "
      "at most 64 characters)", "DICOM PS3.5 9.1", scope="instance")
def valid_uids(inst: Instance, ds: Dataset, ctx: RuleContext) -> Iterator[Issue]:
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for path, value in _walk_uids(meta):
            if problem := uid_problem(value):
                yield Issue(f"{problem}: {value!r}", path, inst)
    for path, value in _walk_uids(ds):
        if problem := uid_problem(value):
            yield Issue(f"{problem}: {value!r}", path, inst)


@rule("FILE-META", Severity.ERROR,
      "File Meta Information is present and its Media Storage SOP Class/Instance UIDs equal the "
      "dataset's", "DICOM PS3.10 7.1", scope="instance")
def file_meta(inst: Instance, ds: Dataset, ctx: RuleContext) -> Iterator[Issue]:
    if not inst.part10:
        yield Issue("no preamble and File Meta Information (not a DICOM Part 10 file)",
                    "FileMetaInformation", inst, Severity.WARNING)
        return
    meta = ds.file_meta
    for meta_kw, kw in (("MediaStorageSOPClassUID", "SOPClassUID"),
                        ("MediaStorageSOPInstanceUID", "SOPInstanceUID")):
        if str(meta.get(meta_kw, "")) != str(ds.get(kw, "")):
            yield Issue(f"{meta_kw} {meta.get(meta_kw, '(absent)')} differs from the dataset's "
                        f"{kw} {ds.get(kw, '(absent)')}", meta_kw, inst)


@rule("STD-TYPE1", Severity.ERROR,
      "Type 1 attributes the profile relies on are present and not empty",
      "DICOM PS3.3 (section given per attribute)", scope="instance")
def type1(inst: Instance, ds: Dataset, ctx: RuleContext) -> Iterator[Issue]:
    for keyword, section in TYPE1["common"] + TYPE1.get(inst.kind, ()):
        if keyword not in ds or ds[keyword].value in (None, "", []):
            yield Issue(f"Type 1 attribute {keyword} is missing or empty (PS3.3 {section})",
                        keyword, inst)


@rule("FILE-UNREADABLE", Severity.ERROR,
      "Every input file is a complete, decodable DICOM file",
      "DICOM PS3.10 7 (file format); PS3.5 7 (data set encoding)", scope="input")
def unreadable(path: str, reason: str) -> Iterator[Issue]:
    yield Issue(f"unreadable: {reason}", "")


@rule("FILE-NOT-DICOM", Severity.INFO,
      "Files that are not DICOM (reports, plan documents, logs) are listed, not judged",
      "DICOM PS3.10 7 (a DICOM file begins with the preamble and 'DICM'); an export folder "
      "may hold other files", scope="input")
def not_dicom(path: str, kind: str) -> Iterator[Issue]:
    yield Issue(f"not a DICOM file ({kind}): listed, not checked", "")


@rule("FILE-UNKNOWN-SOP-CLASS", Severity.WARNING,
      "The SOP Class UID is one the DICOM standard defines",
      "DICOM PS3.4 B.5; PS3.6 Annex A", scope="input")
def unknown_sop_class(path: str, sop_class: str) -> Iterator[Issue]:
    yield Issue(f"SOP Class UID {sop_class!r} is not a standard SOP class; only per-file checks "
                "apply", "SOPClassUID")

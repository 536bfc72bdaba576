"""Re-export regression: two exports of the same patient and plan, before and
after a release, compared as a receiver sees them.

Objects are paired by SOP Instance UID, and those left over by what they are
(SOP class and label, image position, dose summation and beams). Then:

- a plan that was APPROVED (RT General Plan, Approval Status) must come out
  with the same Study, Series and SOP Instance UIDs, and so must every object
  of its study: a receiver would otherwise hold two "approved" versions;
- an object whose content changed must have a new SOP Instance UID (PS3.3
  C.12.1.1.1: one UID, one content), whatever the approval;
- content is compared attribute by attribute apart from volatile ones
  (instance creation date and time, software versions by default).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from rtconform.dicom.index import Unreadable, iter_files, read_instance
from rtconform.findings import Finding, Severity, sort_key

VOLATILE = ("InstanceCreationDate", "InstanceCreationTime", "SoftwareVersions")
SOURCE_UID = "DICOM PS3.3 C.12.1.1.1 (a SOP Instance UID names one content)"
SOURCE_APPROVED = ("DICOM PS3.3 C.8.8.16 (Approval Status APPROVED: the plan as approved); "
                   "a re-export regression gate")


@dataclass
class Export:
    root: Path
    objects: dict[str, tuple[Path, Dataset]] = field(default_factory=dict)  # by SOP UID
    # files not compared, as validate reports them (FILE-NOT-DICOM, FILE-UNREADABLE)
    not_compared: list[Finding] = field(default_factory=list)

    @classmethod
    def read(cls, root: Path) -> Export:
        """Every file under `root`: read as validate reads it (header checked
        first), so a PDF beside the export is listed, never a Python error."""
        from rtconform.filecheck import check_unreadable

        export = cls(Path(root))
        for path in iter_files([root]):
            read = read_instance(path)
            if not isinstance(read, tuple):
                export.not_compared += check_unreadable(path, read)
                continue
            inst, _ = read
            if inst.dicomdir or not inst.sop_instance_uid:
                continue  # a File-set's index is not an exported object
            try:  # the whole object this time: pixel data are content too
                ds = pydicom.dcmread(path, force=not inst.part10)
            except Exception as exc:  # pydicom raises many types on corrupt data
                export.not_compared += check_unreadable(path, Unreadable(
                    path, f"cannot be decoded: {type(exc).__name__}: {exc}"))
                continue
            export.objects[inst.sop_instance_uid] = (path, ds)
        return export

    def approved_studies(self) -> set[str]:
        return {str(ds.get("StudyInstanceUID", "")) for _, ds in self.objects.values()
                if ds.get("Modality") == "RTPLAN" and ds.get("ApprovalStatus") == "APPROVED"}


def content_key(ds: Dataset) -> tuple:
    """What an object is, independent of its UIDs."""
    modality = str(ds.get("Modality", ""))
    key: tuple = (str(ds.get("SOPClassUID", "")), modality)
    if modality == "RTPLAN":
        return (*key, str(ds.get("RTPlanLabel", "")))
    if modality == "RTSTRUCT":
        return (*key, str(ds.get("StructureSetLabel", "")))
    if modality == "RTDOSE":
        beams = tuple(sorted(int(b.ReferencedBeamNumber) for r in ds.get(
            "ReferencedRTPlanSequence", []) for g in r.get("ReferencedFractionGroupSequence", [])
            for b in g.get("ReferencedBeamSequence", []) if "ReferencedBeamNumber" in b))
        return (*key, str(ds.get("DoseSummationType", "")), beams)
    position = tuple(round(float(v), 2) for v in ds.get("ImagePositionPatient", []) or [])
    return (*key, str(ds.get("SeriesDescription", "")), position,
            str(ds.get("InstanceNumber", "")))


def differences(a: Dataset, b: Dataset, volatile: Iterable[str], prefix: str = "") -> list[str]:
    """Tag paths whose values differ (volatile keywords and UIDs aside)."""
    skip = set(volatile)
    out = []
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        elem_a, elem_b = a.get(tag), b.get(tag)
        keyword = (elem_a or elem_b).keyword or str(tag)
        if keyword in skip or (elem_a or elem_b).VR == "UI":
            continue
        path = f"{prefix}{keyword}"
        if elem_a is None or elem_b is None:
            out.append(f"{path} ({'added' if elem_a is None else 'removed'})")
        elif elem_a.VR == "SQ":
            items_a, items_b = list(elem_a.value), list(elem_b.value)
            if len(items_a) != len(items_b):
                out.append(f"{path} ({len(items_a)} → {len(items_b)} items)")
                continue
            for i, (x, y) in enumerate(zip(items_a, items_b, strict=True)):
                out += differences(x, y, skip, f"{path}[{i}].")
        elif elem_a.value != elem_b.value:
            out.append(path)
    return out


def diff_exports(a: Path, b: Path, volatile: Iterable[str] = VOLATILE) -> list[Finding]:
    old, new = Export.read(a), Export.read(b)
    volatile = tuple(volatile)
    findings = old.not_compared + new.not_compared
    approved = old.approved_studies()
    pairs, only_old = [], []
    for uid, (path, ds) in old.objects.items():
        if uid in new.objects:
            pairs.append((path, ds, *new.objects[uid]))
        else:
            only_old.append((path, ds))
    unpaired_new = {u: v for u, v in new.objects.items() if u not in old.objects}
    by_key = {content_key(ds): (p, ds) for p, ds in unpaired_new.values()}
    for path, ds in only_old:
        match = by_key.pop(content_key(ds), None)
        if match is None:
            findings.append(Finding("EXPORT-OBJECT-MISSING", Severity.ERROR,
                                    f"{ds.get('Modality', '')} object {ds.SOPInstanceUID} is "
                                    "not in the new export", "rtconform diff-export", str(path),
                                    str(ds.SOPInstanceUID)))
            continue
        new_path, new_ds = match
        study = str(ds.get("StudyInstanceUID", ""))
        if study in approved:
            changed = [k for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
                       if str(ds.get(k, "")) != str(new_ds.get(k, ""))]
            findings.append(Finding(
                "EXPORT-APPROVED-UIDS", Severity.ERROR,
                f"the study's plan is APPROVED, yet {', '.join(changed)} changed on "
                f"re-export ({ds.SOPInstanceUID} → {new_ds.SOPInstanceUID})", SOURCE_APPROVED,
                str(new_path), str(new_ds.SOPInstanceUID), changed[0]))
        diff = differences(ds, new_ds, volatile)
        if not diff and study not in approved:
            findings.append(Finding("EXPORT-NEW-UID-SAME-CONTENT", Severity.INFO,
                                    f"same content under a new SOP Instance UID "
                                    f"({ds.SOPInstanceUID} → {new_ds.SOPInstanceUID})",
                                    "rtconform diff-export", str(new_path),
                                    str(new_ds.SOPInstanceUID)))
    for _, ds, new_path, new_ds in pairs:
        diff = differences(ds, new_ds, volatile)
        if diff:
            findings.append(Finding(
                "EXPORT-CONTENT-SAME-UID", Severity.ERROR,
                f"{ds.get('Modality', '')} {ds.SOPInstanceUID} changed under the same SOP "
                f"Instance UID: {', '.join(diff[:8])}" + (f" (+{len(diff) - 8} more)"
                                                          if len(diff) > 8 else ""),
                SOURCE_UID, str(new_path), str(new_ds.SOPInstanceUID), diff[0].split(" ")[0]))
    for p, ds in by_key.values():
        findings.append(Finding("EXPORT-OBJECT-ADDED", Severity.INFO,
                                f"{ds.get('Modality', '')} object {ds.SOPInstanceUID} is new in "
                                "this export", "rtconform diff-export", str(p),
                                str(ds.SOPInstanceUID)))
    return sorted(findings, key=sort_key)

"""Across objects: one patient, one Frame of Reference, unique UIDs
(IHE-RO TRO, critical attributes copied between actors)."""

from __future__ import annotations

import filecmp
from collections import Counter
from collections.abc import Iterator

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.values import items, text
from rtconform.findings import Severity
from rtconform.rules.registry import Issue, RuleContext, rule

CRITICAL = "IHE-RO TRO (all transactions); IHE-RO test tool CriticalAttributeMappingRule"


@rule("REF-PATIENT-IDENTITY", Severity.ERROR,
      "All objects of a study carry the same Patient Name, Patient ID, Birth Date and Sex",
      f"{CRITICAL}; DICOM PS3.3 C.7.1.1 (one patient per study); Brainlab 8.1.3.3")
def patient_identity(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    # Objects are grouped by Study Instance UID: one study is one patient.
    by_study: dict[str, list] = {}
    for inst in graph.instances.values():
        by_study.setdefault(inst.study_uid, []).append(inst)
    for members in by_study.values():
        identities = [_identity(i) for i in members]
        usual = Counter(identities).most_common(1)[0][0]
        for inst, identity in zip(members, identities, strict=True):
            for label, tag, seen, expected in zip(
                ("Patient Name", "Patient ID", "Patient Birth Date", "Patient Sex"),
                ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"), identity, usual,
                strict=True,
            ):
                if seen != expected:
                    yield Issue(f"{label} {seen!r} differs from the study's {expected!r}", tag,
                                inst)


def _identity(inst) -> tuple[str, str, str, str]:
    return (*inst.patient, inst.attributes.get("PatientSex") or "")


def _referenced_frame(graph: ObjectGraph, inst, sequence: str) -> str:
    """The Frame of Reference of the object `inst` references through `sequence`."""
    for ref in items(inst.dataset, sequence):
        target = graph.get(text(ref, "ReferencedSOPInstanceUID"))
        if target is None:
            continue
        if target.kind == "rtstruct":
            frames = items(target.dataset, "ReferencedFrameOfReferenceSequence")
            return text(frames[0], "FrameOfReferenceUID") if frames \
                else target.frame_of_reference_uid
        return target.frame_of_reference_uid
    return ""


@rule("REF-FRAME-OF-REFERENCE", Severity.ERROR,
      "A plan shares its structure set's Frame of Reference, a dose its plan's",
      f"{CRITICAL}; DICOM PS3.3 C.7.4.1")
def one_frame_of_reference(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for inst, sequence, what in (
        *((p, "ReferencedStructureSetSequence", "structure set") for p in graph.plans),
        *((d, "ReferencedRTPlanSequence", "plan") for d in graph.doses),
    ):
        expected = _referenced_frame(graph, inst, sequence)
        own = inst.frame_of_reference_uid
        if expected and own and own != expected:
            yield Issue(f"Frame of Reference UID {own} is not its {what}'s {expected}",
                        "FrameOfReferenceUID", inst)


@rule("UID-UNIQUE", Severity.ERROR,
      "A SOP Instance UID identifies one object: two different files may not share it",
      "DICOM PS3.5 9.1; PS3.3 C.12.1.1.1 (an altered object gets a new SOP Instance UID)")
def unique_instances(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for first, second in graph.duplicates:
        if filecmp.cmp(first.path, second.path, shallow=False):
            yield Issue(f"identical copy of {first.path}", "SOPInstanceUID", second,
                        Severity.INFO)
        else:
            yield Issue(f"SOP Instance UID also used by {first.path}, with different content",
                        "SOPInstanceUID", second)

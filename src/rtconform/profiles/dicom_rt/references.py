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
        usual = list(Counter(identities).most_common(1)[0][0])
        for i in (2, 3):  # Birth Date, Sex: the value known, when one object knows it
            known = Counter(identity[i] for identity in identities if identity[i])
            usual[i] = known.most_common(1)[0][0] if known else ""
        for inst, identity in zip(members, identities, strict=True):
            for label, tag, seen, expected in zip(
                ("Patient Name", "Patient ID", "Patient Birth Date", "Patient Sex"),
                ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"), identity, usual,
                strict=True,
            ):
                if seen == expected:
                    continue
                if not seen and tag in UNKNOWN_ALLOWED:
                    # Type 2 sent empty means unknown (PS3.5 7.4.3): information
                    # lost, not another patient (plastimatch 1.9.4 writes it so)
                    yield Issue(f"{label} is empty (unknown) where the study's is "
                                f"{expected!r}: a receiver matching on it may not see one "
                                "patient", tag, inst, Severity.WARNING)
                    continue
                yield Issue(f"{label} {seen!r} differs from the study's {expected!r}", tag,
                            inst)


# Demographics (Type 2, PS3.3 C.7.1.1) an object may send empty as unknown;
# Patient Name and Patient ID identify the patient and must agree.
UNKNOWN_ALLOWED = ("PatientBirthDate", "PatientSex")


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
      "A UID names one entity: two different files never share a SOP Instance UID, and no UID "
      "is used for two of SOP Instance, Series, Study and Frame of Reference",
      "DICOM PS3.5 9.1 (a UID identifies one entity); PS3.3 C.12.1.1.1 (an altered object gets "
      "a new SOP Instance UID)")
def unique_instances(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for first, second in graph.duplicates:
        if filecmp.cmp(first.path, second.path, shallow=False):
            yield Issue(f"identical copy of {first.path}", "SOPInstanceUID", second,
                        Severity.INFO)
        else:
            yield Issue(f"SOP Instance UID also used by {first.path}, with different content",
                        "SOPInstanceUID", second)
    yield from _one_uid_two_entities(graph)


# An entity's UID, where the object names it (FrameOfReferenceUID: its own
# Frame of Reference module; a structure set names its frames in a sequence).
ENTITY_UIDS = (("SOP Instance", "SOPInstanceUID"), ("Series", "SeriesInstanceUID"),
               ("Study", "StudyInstanceUID"), ("Frame of Reference", "FrameOfReferenceUID"))


def _entity_uids(inst) -> Iterator[tuple[str, str, str]]:
    """(entity, keyword, UID) of what the object says it is and belongs to."""
    values = (inst.sop_instance_uid, inst.series_uid, inst.study_uid,
              inst.attributes.get("FrameOfReferenceUID") or inst.frame_of_reference_uid)
    for (entity, keyword), uid in zip(ENTITY_UIDS, values, strict=True):
        if uid:
            yield entity, keyword, uid


def _one_uid_two_entities(graph: ObjectGraph) -> Iterator[Issue]:
    """A UID seen naming two kinds of entity (a structure set whose SOP
    Instance UID is its Series Instance UID, seen in a real export): said
    once per UID and pair of entities, on the first object that shows it."""
    first: dict[str, tuple[str, object]] = {}  # UID → (entity, object) first seen
    said: set[tuple[str, str, str]] = set()
    for inst in graph.instances.values():
        for entity, keyword, uid in _entity_uids(inst):
            seen = first.setdefault(uid, (entity, inst))
            if seen[0] == entity or (uid, seen[0], entity) in said:
                continue
            said.add((uid, seen[0], entity))
            other = seen[1]
            where = "its own" if other is inst else f"{other.label}'s"
            # on one object, said where the first use is (dciodvfy says it there too)
            tag = dict(ENTITY_UIDS)[seen[0]] if other is inst else keyword
            yield Issue(f"{uid} is both {where} {seen[0]} UID and this object's {entity} UID: "
                        "one UID names one entity", tag, inst)

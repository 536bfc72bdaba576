"""BRTO rules for every object an actor produces: character set, attributes
copied from the input, new SOP Instance UIDs, and the attributes the test
tool only logs."""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataset import Dataset

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance, person_name
from rtconform.dicom.values import items, uid_of
from rtconform.findings import Severity
from rtconform.rules.registry import Issue, RuleContext, rule

BRTO = "IHE-RO BRTO (TRO 2007)"
PRODUCED_BY = {"image": "RO-11", "rtstruct": "RO-2", "rtplan": "RO-3/RO-4", "rtdose": "RO-5"}


def tool(*row_ids: str) -> str:
    """Cite rows of the IHE-RO test tool's BRTO checklist."""
    return "IHE-RO test tool " + ", ".join(row_ids)


def produced(ctx: RuleContext, instances) -> list[Instance]:
    return ctx.produced(instances)


# -- Specific Character Set -------------------------------------------------------------
@rule("BRTO-CHARSET", Severity.ERROR, "Specific Character Set is ISO_IR 100 or empty",
      f"{BRTO} RO-2…RO-5, RO-11 (Specific Character Set O+*); "
      + tool("BRTO-RO2-51", "BRTO-RO3-53", "BRTO-RO4-38", "BRTO-RO5-40", "BRTO-RO11-21"),
      profile="brto")
def character_set(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for inst in produced(ctx, graph.instances.values()):
        value = inst.attributes.get("SpecificCharacterSet")
        if value is None:
            continue
        other = [v for v in value.split("\\") if v.strip() not in ("", "ISO_IR 100")]
        if other:
            yield Issue(f"Specific Character Set {value!r}: BRTO allows only ISO_IR 100 or "
                        "empty", "SpecificCharacterSet", inst)


# -- attributes copied from the input -----------------------------------------------------
PATIENT_REQUIRED = ("PatientName", "PatientID")
PATIENT_OPTIONAL = ("PatientBirthDate", "PatientSex")
STUDY = ("StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
         "AccessionNumber", "StudyDescription")
STUDY_OPTIONAL = ("StudyDescription",)
KIND_ORDER = {"image": 0, "rtstruct": 1, "rtplan": 2, "rtdose": 3, "other": 4}


def _normal(keyword: str, value: str | None) -> str | None:
    """Compare as the tool does: PN by components, TM by its digits."""
    if value is None:
        return None
    if keyword in ("PatientName", "ReferringPhysicianName"):
        return person_name(value)
    if keyword == "StudyTime":
        whole, _, fraction = value.replace(":", "").partition(".")
        return whole + ("." + fraction.rstrip("0") if fraction.rstrip("0") else "")
    return value.strip()


def _first_in_graph(graph: ObjectGraph, uids) -> Instance | None:
    for uid in uids:
        if (target := graph.get(uid)) is not None:
            return target
    return None


def referenced_source(graph: ObjectGraph, inst: Instance) -> Instance | None:
    """The object `inst` was made from, by its own references: a structure
    set's images, a plan's predecessor plan or structure set, a dose's plan."""
    ds = inst.dataset
    if inst.kind == "rtstruct":
        return _first_in_graph(graph, (
            uid_of(img) for frame in items(ds, "ReferencedFrameOfReferenceSequence")
            for study in items(frame, "RTReferencedStudySequence")
            for series in items(study, "RTReferencedSeriesSequence")
            for img in items(series, "ContourImageSequence")))
    if inst.kind == "rtplan":
        return _first_in_graph(graph, [uid_of(r) for r in items(ds, "ReferencedRTPlanSequence")]
                               + [uid_of(r) for r in items(ds, "ReferencedStructureSetSequence")])
    if inst.kind == "rtdose":
        return _first_in_graph(graph, (uid_of(r) for r in items(ds, "ReferencedRTPlanSequence")))
    return None


def given_source(ctx: RuleContext) -> Instance | None:
    """The input an actor copies from when its input is known (a scenario,
    `validate --given`): an image before a structure set before a plan."""
    return min(ctx.given.values(), key=lambda g: KIND_ORDER.get(g.kind, 9), default=None)


@rule("BRTO-COPIED-ATTRIBUTES", Severity.ERROR,
      "Patient, study and frame-of-reference attributes are copied unchanged from the input "
      "(a structure set may start a new study)",
      f"{BRTO} critical attributes (R+ must be equal; O+ equal when sent); "
      + tool("BRTO-RO2-03…13", "BRTO-RO3-03…15", "BRTO-RO4-03…15", "BRTO-RO5-03…15",
             "BRTO-RO11-03…15", "(CriticalAttributeMappingRule)"), profile="brto")
def copied_attributes(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    given = given_source(ctx)  # once: the same input for every produced object
    for inst in produced(ctx, graph.instances.values()):
        if inst.kind == "other":
            continue
        if given is not None:
            yield from _compare_copied(inst, given, "the input the actor was given")
        elif (source := referenced_source(graph, inst)) is not None:
            yield from _compare_copied(inst, source, "the object it references")


def _compare_copied(inst: Instance, source: Instance, how: str) -> Iterator[Issue]:
    mine, theirs = inst.attributes, source.attributes
    where = f"{source.label} ({how})"
    for keyword in PATIENT_REQUIRED + PATIENT_OPTIONAL:
        got, want = _normal(keyword, mine.get(keyword)), _normal(keyword, theirs.get(keyword))
        if got == want or want is None:
            continue
        if keyword in PATIENT_OPTIONAL and not got:
            yield Issue(f"{keyword} not sent, though {where} has {want!r} (O+: optional; the "
                        "IHE-RO test tool reports this as an error)", keyword, inst,
                        Severity.WARNING)
        else:
            yield Issue(f"{keyword} {got!r} is not {want!r} of {where}", keyword, inst)
    if inst.kind == "rtstruct":
        # may-copy: a Contourer may start a new study, but must send the attributes
        for keyword in STUDY:
            if mine.get(keyword) is not None:
                continue
            if keyword not in STUDY_OPTIONAL:
                yield Issue(f"{keyword} is absent (R+: required, any value)", keyword, inst)
            elif theirs.get(keyword):
                yield Issue(f"{keyword} is absent, though {where} has one (O+: optional; the "
                            "IHE-RO test tool reports this as an error)", keyword, inst,
                            Severity.WARNING)
        return
    for keyword in (*STUDY, "FrameOfReferenceUID"):
        got, want = _normal(keyword, mine.get(keyword)), _normal(keyword, theirs.get(keyword))
        if want is None or got == want:
            continue
        yield Issue(f"{keyword} {got!r} is not {want!r} of {where}", keyword, inst)
    want = theirs.get("PositionReferenceIndicator")
    got = mine.get("PositionReferenceIndicator")
    if want is not None and got != want:
        if got is None:
            yield Issue(f"Position Reference Indicator absent; {where} has {want!r}",
                        "PositionReferenceIndicator", inst, Severity.WARNING)
        else:
            yield Issue(f"Position Reference Indicator {got!r} is not {want!r} of {where}",
                        "PositionReferenceIndicator", inst)


# -- new SOP Instance UIDs -----------------------------------------------------------------
@rule("BRTO-NEW-SOP-INSTANCE", Severity.ERROR,
      "What an actor produces has new SOP Instance UIDs, and a resampled CT a new Series "
      "Instance UID, never those of its input",
      f"{BRTO}; DICOM PS3.3 C.12.1.1.1; "
      + tool("BRTO-RO2-50", "BRTO-RO3-52", "BRTO-RO4-37", "BRTO-RO5-39", "BRTO-RO11-16",
             "BRTO-RO11-20", "(SOPInstanceUIDRule)"), profile="brto")
def new_instances(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    if not ctx.given:
        return  # without the input, UID-UNIQUE judges reused UIDs in the set
    for first, second in graph.duplicates:
        for inst, other in ((first, second), (second, first)):
            given = ctx.given.get(inst.sop_instance_uid)
            if given is not None and given.path == other.path:
                yield Issue(f"SOP Instance UID {inst.sop_instance_uid} is that of {other.label}, "
                            "an object the actor was given", "SOPInstanceUID", inst)
    given_series = {g.series_uid for g in ctx.given.values() if g.kind == "image"}
    seen = set()
    for inst in produced(ctx, graph.images()):
        if inst.series_uid in given_series and inst.series_uid not in seen:
            seen.add(inst.series_uid)
            yield Issue(f"Series Instance UID {inst.series_uid} is that of a series the actor "
                        "was given; a resampled or combined series needs its own",
                        "SeriesInstanceUID", inst)


# -- what the test tool only logs ----------------------------------------------------------
OPTIONAL_BY_KIND = {
    "rtstruct": ("StructureSetROISequence[].ROIDescription", "StructureSetROISequence[].ROIVolume",
                 "ROIContourSequence[].ROIDisplayColor",
                 "ROIContourSequence[].ContourSequence[].ContourSlabThickness",
                 "RTROIObservationsSequence[].ROIPhysicalPropertiesSequence"),
    "rtplan": ("BeamSequence[].HighDoseTechniqueType", "BeamSequence[].TreatmentMachineName",
               "BeamSequence[].ControlPointSequence[].NominalBeamEnergy",
               "BeamSequence[].ControlPointSequence[].DoseRateSet"),
    "rtdose": ("SliceThickness", "SliceLocation", "NormalizationPoint",
               "TissueHeterogeneityCorrection"),
    "image": ("SliceThickness", "SliceLocation"),
}
INSTANCE_CREATION = ("InstanceCreationDate", "InstanceCreationTime", "InstanceCreatorUID",
                     "InstanceNumber")


def present_count(ds: Dataset | None, path: str) -> tuple[int, int]:
    """(items carrying the last keyword, items looked at) along `A[].B[].C`."""
    *sequences, keyword = path.replace("[]", "").split(".")
    level = [ds] if ds is not None else []
    for sequence in sequences:
        level = [item for parent in level for item in items(parent, sequence)]
    return sum(keyword in item for item in level), len(level)


@rule("BRTO-OPTIONAL-ATTRIBUTES", Severity.INFO,
      "Which optional attributes (that receivers must not rely on) an actor sent",
      f"{BRTO} O+* 'actors must not rely on it'; "
      + tool("LOG rows: BRTO-RO2-52…60", "BRTO-RO3-54…57", "BRTO-RO4-39…44", "BRTO-RO5-41…48",
             "BRTO-RO11-22…27", "(OptionalRule)"),
      scope="instance", tags={"log"}, default_on=False, profile="brto")
def optional_attributes(inst: Instance, ds: Dataset, ctx: RuleContext) -> Iterator[Issue]:
    if inst.sop_instance_uid in ctx.given or inst.kind not in OPTIONAL_BY_KIND:
        return
    seen = []
    for path in (*OPTIONAL_BY_KIND[inst.kind], *INSTANCE_CREATION):
        have, of = present_count(ds, path)
        seen.append(f"{path} {have}/{of}" if of != 1
                    else f"{path} {'present' if have else 'absent'}")
    yield Issue("; ".join(seen), "", inst)

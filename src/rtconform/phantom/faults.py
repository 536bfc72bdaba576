"""Deliberate defects for the synthetic patient, one at a time.

Each fault names the rule(s) it must trip, so the test suite proves every
rule both stays silent on the clean patient and fires on its defect. The
standard engines (dciodvfy, dicom-validator) may add their own findings on top.

This module is the mechanism; the faults themselves live with the profile
whose rules they prove (`rtconform.profiles.<name>.faults`) and register here
when the profiles load (at the end of this module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from rtconform.dicom.uids import DEFAULT_UID_ROOT, derived_uid
from rtconform.phantom.sets import SampleSet, build_sample


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    rule_ids: frozenset[str]
    apply: Callable[[SampleSet], None]
    after_write: Callable[[Path], None] | None = None
    profile: str = "dicom-rt"  # the profile whose rules it must trip
    beam_doses: bool = False  # needs the per-beam doses
    # a producer's defect that shows only against its input (a scenario), not
    # in the sample alone: proven by a broken-SUT run, not by `validate`
    scenario_only: bool = False
    # a reference to what is not in the set: an error only when the set must be
    # self-contained (--complete); a partial export is legal
    complete: bool = False
    # the plans of these delivery techniques (`rtconform.phantom.techniques`) are the
    # sample it breaks, instead of the default patient
    techniques: tuple[str, ...] = ()


FAULTS: dict[str, Fault] = {}


def fault(name: str, description: str, *rule_ids: str,
          after_write: Callable[[Path], None] | None = None, profile: str = "dicom-rt",
          beam_doses: bool = False, scenario_only: bool = False,
          complete: bool = False, techniques: tuple[str, ...] = ()) -> Callable:
    def register(func: Callable[[SampleSet], None]) -> Callable[[SampleSet], None]:
        if name in FAULTS:
            raise ValueError(f"fault {name} registered twice")
        FAULTS[name] = Fault(name, description, frozenset(rule_ids), func, after_write, profile,
                             beam_doses, scenario_only, complete, tuple(techniques))
        return func

    return register


def write_sample(folder: Path, fault_name: str | None = None,
                 uid_root: str = DEFAULT_UID_ROOT, sample_set: str = "equidistant",
                 beam_doses: bool = False, export: str | None = None,
                 approved: bool = False, techniques: tuple[str, ...] = ()) -> list[Path]:
    """Write the synthetic patient, with one named fault applied; as an
    exporter of style `export` writes it (`rtconform.phantom.exports`); or, with
    `techniques`, the patient's CT and structure set and one plan per
    delivery technique (`rtconform.phantom.techniques`)."""
    from rtconform.phantom.exports import write_export

    chosen = FAULTS[fault_name] if fault_name else None
    techniques = tuple(techniques) or (chosen.techniques if chosen else ())
    _check_techniques(chosen, techniques)
    if techniques:
        sample = _plans_sample(uid_root, techniques, sample_set, beam_doses, export, approved)
    elif export:
        sample = _export_sample(chosen, uid_root, export, sample_set, approved)
    else:
        sample = _default_sample(chosen, uid_root, sample_set, beam_doses, approved)
    if chosen:
        chosen.apply(sample)
    paths = write_export(sample, folder, export) if export else sample.write(folder)
    if chosen and chosen.after_write:
        chosen.after_write(folder)
    return paths


def _check_techniques(chosen: Fault | None, techniques: tuple[str, ...]) -> None:
    """A fault of the beam-type plans needs its plans; a fault of the default
    patient none."""
    if chosen and chosen.techniques and not set(chosen.techniques) <= set(techniques):
        raise ValueError(f"fault {chosen.name!r} breaks the plans of "
                         f"{', '.join(chosen.techniques)}: give those beam types")
    if chosen and techniques and not chosen.techniques:
        raise ValueError(f"fault {chosen.name!r} breaks the default patient, not the beam-type "
                         "plans")


def _plans_sample(uid_root: str, techniques: tuple[str, ...], sample_set: str,
                  beam_doses: bool, export: str | None, approved: bool) -> SampleSet:
    """The CT, the structure set and one plan per beam type, and nothing else."""
    if export or sample_set != "equidistant" or beam_doses or approved:
        raise ValueError("the beam-type plans are written alone: no --export, --set, "
                         "--beam-doses or --approved with them")
    from rtconform.phantom.technique_plans import build_plan_sample

    return build_plan_sample(uid_root, techniques)


def _export_sample(chosen: Fault | None, uid_root: str, export: str, sample_set: str,
                   approved: bool) -> SampleSet:
    """The default set as an exporter has it (bolus, beam doses, approval)."""
    from rtconform.phantom.exports import build_export

    if sample_set != "equidistant":
        raise ValueError("an export is written from the default set")
    if chosen and chosen.after_write and export != "planning-system":
        raise ValueError(f"fault {chosen.name!r} works on a flat folder: use it with the "
                         "planning-system export")
    return build_export(uid_root, approved)


def _default_sample(chosen: Fault | None, uid_root: str, sample_set: str, beam_doses: bool,
                    approved: bool) -> SampleSet:
    """A stimulus set, with the beam doses its fault needs."""
    if approved:
        raise ValueError("--approved marks an export's plan: give --export too")
    return build_sample(uid_root, sample_set, beam_doses or bool(chosen and chosen.beam_doses))


# -- what the profiles' faults reach for ----------------------------------------------------
def structure_set(s: SampleSet) -> Dataset:
    return s.datasets["RS_structure_set.dcm"]


def contour(s: SampleSet, roi: int = 2, contour: int = 3) -> Dataset:
    """A contour of the PTV (ROI index 1) by default."""
    return structure_set(s).ROIContourSequence[roi - 1].ContourSequence[contour]


def new_uid(s: SampleSet, *parts: object) -> str:
    return derived_uid(s.uid_root, "rtconform-fault", *parts)


def geometric_plan(s: SampleSet) -> Dataset:
    return s.datasets["RP_geometric.dcm"]


def dosimetric_plan(s: SampleSet) -> Dataset:
    return s.datasets["RP_dosimetric.dcm"]


def plan_dose(s: SampleSet) -> Dataset:
    return s.datasets["RD_plan.dcm"]


def _name_of(ds: Dataset) -> str:
    """The synthetic-patient file name an object plays, so faults can find it."""
    modality = str(ds.get("Modality", ""))
    if modality == "RTSTRUCT":
        return "RS_structure_set.dcm"
    if modality == "RTPLAN":
        from rtconform.phantom.techniques import technique_of_label

        technique = technique_of_label(str(ds.get("RTPlanLabel", "")))
        if technique:  # a beam-type plan (rtconform.phantom.techniques)
            return f"RP_{technique}.dcm"
        metersets = any("BeamMeterset" in ref for group in ds.get("FractionGroupSequence", [])
                        for ref in group.get("ReferencedBeamSequence", []))
        return "RP_dosimetric.dcm" if metersets else "RP_geometric.dcm"
    if modality == "RTDOSE":
        if ds.get("DoseSummationType") == "BEAM":
            beam = (ds.ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence[0]
                    .ReferencedBeamSequence[0].ReferencedBeamNumber)
            return f"RD_beam_{beam}.dcm"
        return "RD_plan.dcm"
    return f"CT_{int(ds.get('InstanceNumber', 0)):03d}.dcm"


def inject(datasets: list[Dataset], fault_name: str, uid_root: str = DEFAULT_UID_ROOT,
           given: dict[str, str] | None = None) -> bool:
    """Apply a fault to objects an actor is about to send, when the fault
    concerns them; True when it did. Lets a reference producer misbehave.
    `given`: the UIDs of the stimulus the actor was given (SampleSet.uids),
    for the faults that reuse one."""
    fault = FAULTS[fault_name]
    sample = SampleSet(uid_root=uid_root, datasets={_name_of(ds): ds for ds in datasets},
                       uids=dict(given or {}))
    try:
        fault.apply(sample)
    except (KeyError, IndexError, AttributeError):
        return False  # the fault is about another object
    return True


def _register_profile_faults() -> None:
    """Each installed profile's faults register themselves on import."""
    from rtconform.rules.profiles import profiles

    for profile in profiles().values():
        profile.load_faults()


_register_profile_faults()

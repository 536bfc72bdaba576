"""Faults of the `tppc` profile: one defect at a time in the beam-type plans
of the synthetic patient (`rtconform sample --beam-type`), each proven to
trip exactly its rule ids under --profile tppc (tests/rules/test_rules.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable

from pydicom.dataset import Dataset

from rtconform.phantom.faults import fault, new_uid
from rtconform.phantom.modifiers import aperture_block
from rtconform.phantom.sets import SampleSet


def tppc(name: str, description: str, *rule_ids: str, techniques: tuple[str, ...]) -> Callable:
    return fault(name, description, *rule_ids, profile="tppc", techniques=techniques)


def plan(s: SampleSet, technique: str) -> Dataset:
    return s.datasets[f"RP_{technique}.dcm"]


def beam(s: SampleSet, technique: str, index: int = 0) -> Dataset:
    return plan(s, technique).BeamSequence[index]


def referenced(s: SampleSet, technique: str, index: int = 0) -> Dataset:
    return plan(s, technique).FractionGroupSequence[0].ReferencedBeamSequence[index]


# -- the plan --------------------------------------------------------------------------------
@tppc("tppc-no-software-versions", "the basic static plan without Software Versions",
      "TPPC-PLAN-ATTRIBUTES", techniques=("basic-static",))
def _software(s: SampleSet) -> None:
    del plan(s, "basic-static").SoftwareVersions


@tppc("tppc-plan-new-study", "the VMAT plan in a study of its own, not its structure set's",
      "TPPC-PLAN-STUDY", techniques=("vmat",))
def _new_study(s: SampleSet) -> None:
    plan(s, "vmat").StudyInstanceUID = new_uid(s, "tppc-study")


@tppc("tppc-no-delivery-duration-limit", "the sliding-window plan's second referenced beam "
      "without Beam Delivery Duration Limit (the tool checks the first only)",
      "TPPC-FRACTION-GROUP", techniques=("sliding-window",))
def _duration(s: SampleSet) -> None:
    del referenced(s, "sliding-window", 1).BeamDeliveryDurationLimit


@tppc("tppc-one-dose-verification-point", "the second VMAT arc with one Beam Dose "
      "Verification Control Point", "TPPC-DOSE-VERIFICATION", techniques=("vmat",))
def _verification(s: SampleSet) -> None:
    points = referenced(s, "vmat", 1).BeamDoseVerificationControlPointSequence
    del points[1]


@tppc("tppc-unknown-dose-reference", "a cone arc's control point 0 references dose reference 2, "
      "which the plan lacks", "TPPC-DOSE-REFERENCES", techniques=("photon-applicator-arc",))
def _dose_reference(s: SampleSet) -> None:
    cp = beam(s, "photon-applicator-arc", 2).ControlPointSequence[0]
    cp.ReferencedDoseReferenceSequence[0].ReferencedDoseReferenceNumber = 2


# -- the beams -------------------------------------------------------------------------------
@tppc("tppc-no-machine-name", "the second step-and-shoot field without Treatment Machine Name "
      "(the tool checks beam 1 only)", "TPPC-BEAM-ATTRIBUTES", techniques=("step-and-shoot",))
def _machine(s: SampleSet) -> None:
    del beam(s, "step-and-shoot", 1).TreatmentMachineName


@tppc("tppc-static-arc", "an arc with Beam Type STATIC", "TPPC-BEAM-TYPE", techniques=("arc",))
def _static_arc(s: SampleSet) -> None:
    beam(s, "arc", 1).BeamType = "STATIC"


@tppc("tppc-sliding-window-hdr", "a sliding-window field with High-Dose Technique Type HDR",
      "TPPC-BEAM-HIGH-DOSE", techniques=("sliding-window",))
def _hdr(s: SampleSet) -> None:
    beam(s, "sliding-window", 2).HighDoseTechniqueType = "HDR"


@tppc("tppc-block-in-mlc-arc", "a block in the MLC fixed-aperture arc (the type has none)",
      "TPPC-BEAM-MODIFIER-COUNTS", techniques=("mlc-fixed-aperture-arc",))
def _block_in_arc(s: SampleSet) -> None:
    arc = beam(s, "mlc-fixed-aperture-arc")
    arc.BlockSequence = [aperture_block("RTC-TRAY-1", 650, "CERROBEND", 75, 38, "PRESENT",
                                        "PATIENT_SIDE")]
    arc.NumberOfBlocks = 1


@tppc("tppc-square-cone", "a cone of Applicator Type PHOTON_SQUARE", "TPPC-BEAM-APPLICATOR",
      techniques=("photon-applicator",))
def _square_cone(s: SampleSet) -> None:
    beam(s, "photon-applicator", 1).ApplicatorSequence[0].ApplicatorType = "PHOTON_SQUARE"


@tppc("tppc-electron-no-applicator", "the electron field without its applicator",
      "TPPC-BEAM-APPLICATOR", techniques=("static-electron",))
def _no_applicator(s: SampleSet) -> None:
    del beam(s, "static-electron").ApplicatorSequence


@tppc("tppc-wedge-three-control-points", "a hard-wedge field of three control points",
      "TPPC-BEAM-CONTROL-POINTS", techniques=("hard-wedge",))
def _three_cps(s: SampleSet) -> None:
    wedged = beam(s, "hard-wedge")
    last = copy.deepcopy(wedged.ControlPointSequence[1])
    last.ControlPointIndex = 2
    wedged.ControlPointSequence[1].CumulativeMetersetWeight = "0.5"
    wedged.ControlPointSequence.append(last)
    wedged.NumberOfControlPoints = 3


@tppc("tppc-segment-weights", "a step-and-shoot field whose second segment starts at another "
      "weight than the first ends (CP 2n+1 ≠ CP 2n+2)", "TPPC-BEAM-CONTROL-POINTS",
      techniques=("step-and-shoot",))
def _segment_weights(s: SampleSet) -> None:
    cps = beam(s, "step-and-shoot").ControlPointSequence
    for k in (2, 3):  # the second segment keeps the first's shape: only the weights differ
        cps[k].BeamLimitingDevicePositionSequence = copy.deepcopy(
            cps[1].BeamLimitingDevicePositionSequence)
    cps[2].CumulativeMetersetWeight = "0.6"


@tppc("tppc-crossing-leaves", "a VMAT control point where leaf pair 30 crosses",
      "TPPC-BLD", techniques=("vmat",))
def _crossing(s: SampleSet) -> None:
    position = beam(s, "vmat", 1).ControlPointSequence[40].BeamLimitingDevicePositionSequence[0]
    values = list(position.LeafJawPositions)
    half = len(values) // 2
    values[29], values[half + 29] = "20", "-20"
    position.LeafJawPositions = values


@tppc("tppc-one-jaw", "a basic static field with one jaw (the type has exactly two)",
      "TPPC-BLD", techniques=("basic-static",))
def _one_jaw(s: SampleSet) -> None:
    field = beam(s, "basic-static", 1)
    field.BeamLimitingDeviceSequence = field.BeamLimitingDeviceSequence[:1]
    cp = field.ControlPointSequence[0]
    cp.BeamLimitingDevicePositionSequence = cp.BeamLimitingDevicePositionSequence[:1]


@tppc("tppc-electron-no-ssd", "the fixed-SSD electron field without Source to Surface Distance",
      "TPPC-SSD", techniques=("static-electron",))
def _no_ssd(s: SampleSet) -> None:
    del beam(s, "static-electron").ControlPointSequence[0].SourceToSurfaceDistance


# -- control points ------------------------------------------------------------------------
@tppc("tppc-vmat-weights-down", "a VMAT arc whose Cumulative Meterset Weight goes down at "
      "control point 30", "TPPC-CONTROL-POINTS", techniques=("vmat",))
def _weights_down(s: SampleSet) -> None:
    cps = beam(s, "vmat").ControlPointSequence
    cps[30].CumulativeMetersetWeight = f"{float(cps[28].CumulativeMetersetWeight):.6f}"


@tppc("tppc-arc-turns-back", "a VMAT arc whose gantry turns back at control point 20",
      "TPPC-GANTRY", techniques=("vmat",))
def _turns_back(s: SampleSet) -> None:
    cps = beam(s, "vmat").ControlPointSequence
    cps[20].GantryAngle = cps[18].GantryAngle


@tppc("tppc-couch-rotates", "a cone field whose couch rotates (Patient Support Rotation "
      "Direction CW)", "TPPC-ROTATIONS", techniques=("photon-applicator",))
def _couch(s: SampleSet) -> None:
    beam(s, "photon-applicator", 1).ControlPointSequence[0].PatientSupportRotationDirection = "CW"


@tppc("tppc-energy-changes", "a wedged field whose energy changes at control point 1",
      "TPPC-CP-FIXED", techniques=("hard-wedge",))
def _energy(s: SampleSet) -> None:
    beam(s, "hard-wedge", 1).ControlPointSequence[1].NominalBeamEnergy = "10"


# -- modifiers --------------------------------------------------------------------------------
@tppc("tppc-wedge-without-tray", "the second hard wedge without Source to Wedge Tray Distance "
      "(the tool checks beam 1's wedge 1 only)", "TPPC-WEDGES", techniques=("hard-wedge",))
def _wedge_tray(s: SampleSet) -> None:
    del beam(s, "hard-wedge", 1).WedgeSequence[0].SourceToWedgeTrayDistance


@tppc("tppc-motorized-wedge-out-beam-on", "a motorized wedge that moves out while the beam is "
      "on", "TPPC-WEDGE-POSITIONS", techniques=("motorized-wedge",))
def _wedge_beam_on(s: SampleSet) -> None:
    beam(s, "motorized-wedge", 1).ControlPointSequence[2].CumulativeMetersetWeight = "0.5"


@tppc("tppc-bolus-without-id", "the electron field's bolus without Bolus ID", "TPPC-BOLI",
      techniques=("static-electron",))
def _bolus_id(s: SampleSet) -> None:
    del beam(s, "static-electron").ReferencedBolusSequence[0].BolusID


@tppc("tppc-block-without-tray", "the AP field's block without Block Tray ID", "TPPC-BLOCKS",
      techniques=("basic-static",))
def _block_tray(s: SampleSet) -> None:
    del beam(s, "basic-static").BlockSequence[0].BlockTrayID


@tppc("tppc-compensator-mounting", "a compensator mounted DOUBLE_SIDED", "TPPC-COMPENSATORS",
      techniques=("basic-static",))
def _compensator(s: SampleSet) -> None:
    beam(s, "basic-static", 1).CompensatorSequence[0].CompensatorMountingPosition = "DOUBLE_SIDED"


@tppc("tppc-beam-not-referenced", "a third cone arc that the fraction group does not reference",
      "TPPC-BEAMS-REFERENCED", techniques=("photon-applicator-arc",))
def _not_referenced(s: SampleSet) -> None:
    group = plan(s, "photon-applicator-arc").FractionGroupSequence[0]
    group.ReferencedBeamSequence = group.ReferencedBeamSequence[:2]
    group.NumberOfBeams = 2

"""The synthetic patient planned with every delivery technique a planning
system exports: one RT Plan per technique, on the patient's CT and structure
set (with a bolus), each as a real planning system writes it.

The techniques are the 14 beam types of IHE-RO TPPC (Treatment Planning –
Plan Content, 2014). Each plan is physically consistent, control point by
control point: gantry angles move in their rotation direction, cumulative
meterset weights never decrease and end at the Final Cumulative Meterset
Weight, leaves never cross, a step-and-shoot beam moves its leaves only
while the beam is off, a VMAT arc modulates its dose rate, an electron beam
has its applicator, cut-out, fixed SSD and bolus. Same UID root in, same
UIDs out; `rtconform.dicom.faults` breaks one thing at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from rtconform.dicom.exports import BOLUS_MM, add_bolus_roi
from rtconform.dicom.sample import (
    BODY_A,
    BODY_B,
    STUDY_DATE,
    STUDY_TIME,
    PatientBuilder,
    SampleSet,
    _ds_number,
)
from rtconform.dicom.uids import (
    DEFAULT_UID_ROOT,
    RT_PLAN_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
    derived_uid,
)

# key → (RT Plan Label, what the plan is); the keys are TPPC's beam types
TECHNIQUES: dict[str, tuple[str, str]] = {
    "basic-static": ("RTC Static", "AP/PA photon fields on jaws, an aperture block and a "
                                   "compensator"),
    "basic-static-mlc": ("RTC Static MLC", "two lateral photon fields shaped by the MLC"),
    "arc": ("RTC Arc", "two full photon arcs on jaws (CW and CC)"),
    "mlc-fixed-aperture-arc": ("RTC MLC Arc", "a photon arc with one MLC aperture"),
    "mlc-variable-aperture-arc": ("RTC Conf Arc", "a conformal arc: the MLC follows the "
                                                  "target's outline every 10 degrees"),
    "hard-wedge": ("RTC Hard Wedge", "a wedged pair with 45-degree physical wedges"),
    "virtual-wedge": ("RTC Virt Wedge", "a lateral pair with 30-degree dynamic (virtual) "
                                           "wedges"),
    "motorized-wedge": ("RTC Motor Wedge", "a lateral pair with a 60-degree motorized wedge "
                                           "(30 degrees effective: wedged, then open)"),
    "static-electron": ("RTC Electron", "a 9 MeV electron field: 10 x 10 applicator with its "
                                        "cut-out, fixed SSD, 5 mm bolus"),
    "step-and-shoot": ("RTC Step Shoot", "three IMRT fields of three segments each, leaves "
                                         "moving while the beam is off"),
    "sliding-window": ("RTC Sliding Win", "three IMRT fields whose leaves sweep while the "
                                          "beam is on"),
    "vmat": ("RTC VMAT", "two 6 MV FFF VMAT arcs: leaves, gantry and dose rate modulated"),
    "photon-applicator": ("RTC SRS Static", "three static cone (photon applicator) fields with "
                                            "couch kicks"),
    "photon-applicator-arc": ("RTC SRS Arc", "three cone arcs with couch kicks"),
}

MACHINE = "RTC_LINAC"
SAD = 1000.0
TARGET_MM = 35.0  # the PTV (30 mm) plus the margin the apertures give it
# Millennium-120-like MLC: 10 pairs of 10 mm, 40 of 5 mm, 10 of 10 mm
MLC_WIDTHS = [10.0] * 10 + [5.0] * 40 + [10.0] * 10
MLC_BOUNDARIES = [-200.0 + sum(MLC_WIDTHS[:i]) for i in range(len(MLC_WIDTHS) + 1)]
PARKED = -TARGET_MM - 15  # where a closed leaf pair waits, under the X1 jaw


def fl(value: float) -> float:
    """An FL value as it is written (32 bits) and read back, to 0.1 mm: what
    is compared after a round trip is what was sent."""
    return float(np.float32(round(value, 1)))


def weight_ds(value: float) -> str:
    """A meterset weight as DS, to 6 decimals: a VMAT arc's steps are small."""
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def technique_of_label(label: str) -> str | None:
    """The technique whose plan carries this RT Plan Label."""
    return next((k for k, (lab, _) in TECHNIQUES.items() if lab == label), None)


def skin_distance(gantry: float, iso: tuple[float, float] = (0.0, 0.0)) -> float:
    """Distance (mm) from the isocentre to the body outline towards the source
    (IEC gantry angle, head-first supine: the source is at -y at 0 degrees)."""
    theta = math.radians(gantry)
    ux, uy = math.sin(theta), -math.cos(theta)
    x0, y0 = iso
    # solve (x0 + t ux)^2 / a^2 + (y0 + t uy)^2 / b^2 = 1 for t > 0
    a = (ux / BODY_A) ** 2 + (uy / BODY_B) ** 2
    b = 2 * (x0 * ux / BODY_A ** 2 + y0 * uy / BODY_B ** 2)
    c = (x0 / BODY_A) ** 2 + (y0 / BODY_B) ** 2 - 1
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def aperture(half_width: Callable[[float], float]) -> list[float]:
    """Leaf/Jaw Positions of the MLCX (bank A then bank B) opening each pair
    to ±half_width(pair centre); pairs with no opening closed under the X1 jaw."""
    a, b = [], []
    for lo, hi in pairwise(MLC_BOUNDARIES):
        w = half_width((lo + hi) / 2)
        if w > 0.5:
            a.append(-w)
            b.append(w)
        else:
            a.append(PARKED)
            b.append(PARKED)
    return a + b


def circle(radius: float) -> Callable[[float], float]:
    return lambda y: math.sqrt(radius * radius - y * y) if abs(y) < radius else 0.0


def ellipsoid_outline(gantry: float) -> Callable[[float], float]:
    """The beam's-eye view of an ellipsoidal target (35 × 25 × 35 mm, x y z)
    at this gantry angle: why a conformal arc's aperture changes as it turns."""
    theta = math.radians(gantry)
    width = math.hypot(TARGET_MM * math.cos(theta), 25.0 * math.sin(theta))
    return lambda y: width * math.sqrt(1 - (y / TARGET_MM) ** 2) if abs(y) < TARGET_MM else 0.0


# -- what a control point holds ------------------------------------------------------------
@dataclass
class ControlPoint:
    weight: float
    gantry: float | None = None  # None: unchanged from the control point before
    direction: str | None = None
    mlc: list[float] | None = None
    jaws: tuple[list[float], list[float]] | None = None
    wedges: dict[int, str] = field(default_factory=dict)  # wedge number → IN/OUT


@dataclass
class BeamPlan:
    """One beam as the planning system decided it."""

    name: str
    gantry: float
    points: list[ControlPoint]
    beam_type: str = "STATIC"
    radiation: str = "PHOTON"
    energy: float = 6.0
    dose_rate: float = 600.0
    meterset: float = 100.0
    couch: float = 0.0
    jaws: tuple[list[float], list[float]] = ([-45.0, 45.0], [-45.0, 45.0])
    jaw_types: tuple[str, str] = ("ASYMX", "ASYMY")
    mlc: bool = False
    wedges: list[Dataset] = field(default_factory=list)
    blocks: list[Dataset] = field(default_factory=list)
    compensators: list[Dataset] = field(default_factory=list)
    applicator: Dataset | None = None
    bolus: bool = False
    fluence: tuple[str, str | None] = ("STANDARD", None)
    high_dose: str | None = None
    iso: tuple[float, float, float] = (0.0, 0.0, 0.0)


class PlanWriter:
    """Writes the RT Plan of one technique on a patient's structure set."""

    def __init__(self, builder: PatientBuilder, technique: str, bolus_roi: int | None,
                 namespace: str = "rtconform-tppc") -> None:
        self.b = builder
        self.technique = technique
        self.bolus_roi = bolus_roi
        self.namespace = namespace  # a planner's plans get UIDs of their own

    def uid(self, *parts: object) -> str:
        return derived_uid(self.b.root, self.namespace, self.b.uid["study"], self.technique,
                           *parts)

    def plan(self, beams: list[BeamPlan], fractions: int, dose_gy: float,
             setup: str = "ISOCENTRIC") -> FileDataset:
        label, what = TECHNIQUES[self.technique]
        series = derived_uid(self.b.root, self.namespace, self.b.uid["study"], "series")
        ds = self.b.base(RT_PLAN_STORAGE, self.uid("plan"), "RTPLAN", series, 30)
        self.b.frame_of_reference(ds)
        ds.InstanceNumber = list(TECHNIQUES).index(self.technique) + 1
        ds.RTPlanLabel = label
        ds.RTPlanName = label
        ds.RTPlanDescription = what[:1024]
        ds.RTPlanDate = STUDY_DATE
        ds.RTPlanTime = STUDY_TIME
        ds.PlanIntent = "CURATIVE"
        ds.RTPlanGeometry = "PATIENT"
        ds.ReferencedStructureSetSequence = Sequence(
            [self.b.ref(RT_STRUCTURE_SET_STORAGE, self.b.uid["ss"])])
        dose_ref = Dataset()
        dose_ref.DoseReferenceNumber = 1
        dose_ref.DoseReferenceUID = self.uid("dose-reference")
        dose_ref.DoseReferenceStructureType = "SITE"
        dose_ref.DoseReferenceDescription = "PTV"
        dose_ref.DoseReferenceType = "TARGET"
        dose_ref.TargetPrescriptionDose = _ds_number(dose_gy * fractions)
        ds.DoseReferenceSequence = Sequence([dose_ref])
        group = Dataset()
        group.FractionGroupNumber = 1
        group.NumberOfFractionsPlanned = fractions
        group.NumberOfBeams = len(beams)
        group.NumberOfBrachyApplicationSetups = 0
        group.ReferencedBeamSequence = Sequence(
            [self.referenced_beam(n, beam, dose_gy / len(beams))
             for n, beam in enumerate(beams, start=1)])
        ds.FractionGroupSequence = Sequence([group])
        ds.BeamSequence = Sequence([self.beam(n, beam) for n, beam in enumerate(beams, start=1)])
        patient_setup = Dataset()
        patient_setup.PatientPosition = "HFS"
        patient_setup.PatientSetupNumber = 1
        patient_setup.SetupTechnique = setup
        ds.PatientSetupSequence = Sequence([patient_setup])
        ds.ApprovalStatus = "UNAPPROVED"
        return ds

    def referenced_beam(self, number: int, beam: BeamPlan, dose_gy: float) -> Dataset:
        """The fraction group's view of a beam: its dose and meterset, the
        time it may take, and the dose verification points TPPC asks for."""
        ref = Dataset()
        ref.BeamDoseSpecificationPoint = [_ds_number(v) for v in beam.iso]
        ref.BeamDose = _ds_number(dose_gy)
        ref.BeamMeterset = _ds_number(beam.meterset)
        ref.BeamDeliveryDurationLimit = round(beam.meterset / beam.dose_rate * 60 * 1.5, 1)
        depth = skin_distance(beam.gantry, beam.iso[:2]) if beam.radiation == "PHOTON" else 15.0
        points = []
        for weight in (0.0, 1.0):
            point = Dataset()
            point.CumulativeMetersetWeight = weight_ds(weight)
            point.AverageBeamDosePointDepth = fl(depth)
            point.AverageBeamDosePointEquivalentDepth = fl(depth)
            point.AverageBeamDosePointSSD = fl(SAD - depth)
            point.AverageBeamDosePointSourceToExternalContourDistance = fl(SAD - depth)
            points.append(point)
        ref.BeamDoseVerificationControlPointSequence = Sequence(points)
        ref.ReferencedBeamNumber = number
        return ref

    def beam(self, number: int, p: BeamPlan) -> Dataset:
        beam = Dataset()
        beam.Manufacturer = "rtconform"
        beam.TreatmentMachineName = MACHINE
        beam.PrimaryDosimeterUnit = "MU"
        beam.SourceAxisDistance = _ds_number(SAD)
        devices = []
        for kind in p.jaw_types:
            device = Dataset()
            device.RTBeamLimitingDeviceType = kind
            device.NumberOfLeafJawPairs = 1
            devices.append(device)
        if p.mlc:
            mlc = Dataset()
            mlc.RTBeamLimitingDeviceType = "MLCX"
            mlc.NumberOfLeafJawPairs = len(MLC_WIDTHS)
            mlc.LeafPositionBoundaries = [_ds_number(v) for v in MLC_BOUNDARIES]
            devices.append(mlc)
        beam.BeamLimitingDeviceSequence = Sequence(devices)
        beam.BeamNumber = number
        beam.BeamName = p.name
        beam.BeamType = p.beam_type
        beam.RadiationType = p.radiation
        if p.high_dose:
            beam.HighDoseTechniqueType = p.high_dose
        fluence = Dataset()
        fluence.FluenceMode = p.fluence[0]
        if p.fluence[1]:
            fluence.FluenceModeID = p.fluence[1]
        beam.PrimaryFluenceModeSequence = Sequence([fluence])
        beam.TreatmentDeliveryType = "TREATMENT"
        beam.NumberOfWedges = len(p.wedges)
        if p.wedges:
            beam.WedgeSequence = Sequence(p.wedges)
        beam.NumberOfCompensators = len(p.compensators)
        if p.compensators:
            beam.CompensatorSequence = Sequence(p.compensators)
        bolus = p.bolus and self.bolus_roi is not None  # no bolus ROI: planned without
        beam.NumberOfBoli = 1 if bolus else 0
        if bolus:
            bolus = Dataset()
            bolus.ReferencedROINumber = self.bolus_roi
            bolus.BolusID = f"BOLUS{BOLUS_MM:g}MM"
            beam.ReferencedBolusSequence = Sequence([bolus])
        beam.NumberOfBlocks = len(p.blocks)
        if p.blocks:
            beam.BlockSequence = Sequence(p.blocks)
        if p.applicator is not None:
            beam.ApplicatorSequence = Sequence([p.applicator])
        beam.FinalCumulativeMetersetWeight = weight_ds(p.points[-1].weight)
        beam.NumberOfControlPoints = len(p.points)
        beam.ControlPointSequence = Sequence(
            [self.control_point(p, i, point) for i, point in enumerate(p.points)])
        beam.ReferencedPatientSetupNumber = 1
        return beam

    def control_point(self, p: BeamPlan, index: int, point: ControlPoint) -> Dataset:
        cp = Dataset()
        cp.ControlPointIndex = index
        first = index == 0
        if first:
            cp.NominalBeamEnergy = _ds_number(p.energy)
            cp.DoseRateSet = _ds_number(p.dose_rate)
        if point.wedges:
            positions = []
            for number, where in point.wedges.items():
                item = Dataset()
                item.WedgePosition = where
                item.ReferencedWedgeNumber = number
                positions.append(item)
            cp.WedgePositionSequence = Sequence(positions)
        positions = []
        jaws = p.jaws if first else point.jaws
        if jaws is not None:
            for kind, values in zip(p.jaw_types, jaws, strict=True):
                item = Dataset()
                item.RTBeamLimitingDeviceType = kind
                item.LeafJawPositions = [_ds_number(v) for v in values]
                positions.append(item)
        if point.mlc is not None:
            item = Dataset()
            item.RTBeamLimitingDeviceType = "MLCX"
            item.LeafJawPositions = [_ds_number(v) for v in point.mlc]
            positions.append(item)
        if positions:
            cp.BeamLimitingDevicePositionSequence = Sequence(positions)
        if first or point.gantry is not None:
            cp.GantryAngle = _ds_number(p.gantry if first else point.gantry)
        if first or point.direction is not None:
            cp.GantryRotationDirection = point.direction or "NONE"
        if first:
            cp.BeamLimitingDeviceAngle = "0"
            cp.BeamLimitingDeviceRotationDirection = "NONE"
            cp.PatientSupportAngle = _ds_number(p.couch)
            cp.PatientSupportRotationDirection = "NONE"
            cp.TableTopEccentricAngle = "0"
            cp.TableTopEccentricRotationDirection = "NONE"
            cp.TableTopPitchAngle = 0.0
            cp.TableTopPitchRotationDirection = "NONE"
            cp.TableTopRollAngle = 0.0
            cp.TableTopRollRotationDirection = "NONE"
            cp.TableTopVerticalPosition = None  # Type 2: unknown until set up
            cp.TableTopLongitudinalPosition = None
            cp.TableTopLateralPosition = None
            cp.IsocenterPosition = [_ds_number(v) for v in p.iso]
            if p.radiation == "ELECTRON":  # fixed SSD on the bolus over the skin
                cp.SourceToSurfaceDistance = _ds_number(SAD - BOLUS_MM)
                cp.SourceToExternalContourDistance = fl(SAD)
            else:
                ssd = SAD - skin_distance(p.gantry, p.iso[:2])
                cp.SourceToSurfaceDistance = _ds_number(ssd)
                cp.SourceToExternalContourDistance = fl(ssd)
        cp.CumulativeMetersetWeight = weight_ds(point.weight)
        ref = Dataset()  # the share of the beam's dose delivered so far, at every point
        ref.CumulativeDoseReferenceCoefficient = weight_ds(point.weight / p.points[-1].weight)
        ref.ReferencedDoseReferenceNumber = 1
        cp.ReferencedDoseReferenceSequence = Sequence([ref])
        return cp


# -- the modifiers --------------------------------------------------------------------------
def polygon(radius: float, points: int = 12) -> list[str]:
    return [_ds_number(v) for i in range(points)
            for v in (radius * math.cos(2 * math.pi * i / points),
                      radius * math.sin(2 * math.pi * i / points))]


def aperture_block(tray: str, distance: float, material: str, thickness: float,
                   radius: float, divergence: str, mounting: str) -> Dataset:
    block = Dataset()
    block.BlockTrayID = tray
    block.SourceToBlockTrayDistance = _ds_number(distance)
    block.BlockType = "APERTURE"
    block.BlockDivergence = divergence
    block.BlockMountingPosition = mounting
    block.BlockNumber = 1
    block.BlockName = "aperture"
    block.MaterialID = material
    block.BlockThickness = _ds_number(thickness)
    block.BlockTransmission = "0.035"
    data = polygon(radius)
    block.BlockNumberOfPoints = len(data) // 2
    block.BlockData = data
    return block


def compensator() -> Dataset:
    """A 3 × 3 brass compensator, thicker at the centre."""
    comp = Dataset()
    comp.MaterialID = "BRASS"
    comp.CompensatorNumber = 1
    comp.CompensatorID = "RTC-COMP-PA"
    comp.SourceToCompensatorTrayDistance = "700"
    comp.CompensatorRows = 3
    comp.CompensatorColumns = 3
    comp.CompensatorPixelSpacing = ["20", "20"]
    comp.CompensatorPosition = ["-30", "30"]
    thickness = [2, 4, 2, 4, 8, 4, 2, 4, 2]
    comp.CompensatorTransmissionData = [_ds_number(math.exp(-0.05 * t)) for t in thickness]
    comp.CompensatorThicknessData = [_ds_number(t) for t in thickness]
    comp.CompensatorType = "STANDARD"
    comp.CompensatorDivergence = "ABSENT"
    comp.CompensatorMountingPosition = "PATIENT_SIDE"
    return comp


def wedge(number: int, kind: str, wedge_id: str, angle: int, orientation: float,
          tray: float | None = None, effective: float | None = None) -> Dataset:
    item = Dataset()
    item.WedgeNumber = number
    item.WedgeType = kind
    item.WedgeID = wedge_id
    item.WedgeAngle = angle
    item.WedgeFactor = _ds_number(1 - angle / 150)
    item.WedgeOrientation = _ds_number(orientation)
    if tray is not None:
        item.SourceToWedgeTrayDistance = _ds_number(tray)
    if effective is not None:
        item.EffectiveWedgeAngle = _ds_number(effective)
    return item


def electron_applicator() -> Dataset:
    applicator = Dataset()
    applicator.ApplicatorID = "A10"
    applicator.ApplicatorType = "ELECTRON_SQUARE"
    applicator.ApplicatorDescription = "10 x 10 cm electron applicator"
    return applicator


def cone(diameter: float) -> Dataset:
    applicator = Dataset()
    applicator.ApplicatorID = f"CONE{diameter:g}"
    applicator.ApplicatorType = "PHOTON_CIRC"
    geometry = Dataset()
    geometry.ApplicatorApertureShape = "SYM_CIRCULAR"
    geometry.ApplicatorOpening = fl(diameter)
    applicator.ApplicatorGeometrySequence = Sequence([geometry])
    applicator.ApplicatorDescription = f"stereotactic cone {diameter:g} mm"
    return applicator


# -- the beams of each technique ------------------------------------------------------------
def static(weight_points: Seq[float] = (0.0, 1.0)) -> list[ControlPoint]:
    return [ControlPoint(w) for w in weight_points]


def arc_points(start: float, span: float, direction: str, step: float,
               mlc: Callable[[float], list[float]] | None = None,
               rate: Callable[[float], float] | None = None) -> list[ControlPoint]:
    """Control points every `step` degrees along an arc; the meterset each
    step gets follows `rate` (constant when None)."""
    sign = 1 if direction == "CW" else -1
    steps = max(1, round(span / step))
    angles = [(start + sign * span * k / steps) % 360 for k in range(steps + 1)]
    weights = [0.0]
    for k in range(1, steps + 1):
        middle = (start + sign * span * (k - 0.5) / steps) % 360
        weights.append(weights[-1] + (rate(middle) if rate else 1.0))
    weights = [w / weights[-1] for w in weights]
    points = []
    for k, (angle, weight) in enumerate(zip(angles, weights, strict=True)):
        last = k == steps
        points.append(ControlPoint(round(weight, 6), None if k == 0 else round(angle, 4),
                                   "NONE" if last else direction,
                                   mlc(angle) if mlc and (k == 0 or steps > 1) else None))
    points[0].direction = direction
    return points


def basic_static() -> tuple[list[BeamPlan], int, float]:
    block = aperture_block("RTC-TRAY-1", 650, "CERROBEND", 75, TARGET_MM + 3, "PRESENT",
                           "PATIENT_SIDE")
    return ([BeamPlan("AP", 0.0, static(), meterset=118, blocks=[block], bolus=True),
             BeamPlan("PA", 180.0, static(), meterset=121, compensators=[compensator()])],
            30, 2.0)


def basic_static_mlc() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    return ([BeamPlan(name, g, [ControlPoint(0.0, mlc=shape), ControlPoint(1.0)],
                      meterset=m, mlc=True)
             for name, g, m in (("LAT R", 270.0, 131), ("LAT L", 90.0, 129))], 30, 2.0)


def arcs() -> tuple[list[BeamPlan], int, float]:
    return ([BeamPlan("ARC CW", 181.0, arc_points(181.0, 358.0, "CW", 358.0),
                      beam_type="DYNAMIC", meterset=140),
             BeamPlan("ARC CC", 179.0, arc_points(179.0, 358.0, "CC", 358.0),
                      beam_type="DYNAMIC", meterset=140)], 30, 2.0)


def mlc_fixed_arc() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    points = arc_points(220.0, 280.0, "CW", 280.0)
    points[0].mlc = shape
    return ([BeamPlan("ARC MLC", 220.0, points, beam_type="DYNAMIC", meterset=260, mlc=True)],
            30, 2.0)


def conformal_arc() -> tuple[list[BeamPlan], int, float]:
    points = arc_points(200.0, 320.0, "CW", 10.0,
                        mlc=lambda g: aperture(ellipsoid_outline(g)))
    return ([BeamPlan("CONF ARC", 200.0, points, beam_type="DYNAMIC", meterset=255,
                      mlc=True)], 30, 2.0)


def hard_wedge() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    return ([BeamPlan(name, g, [ControlPoint(0.0, mlc=shape, wedges={1: "IN"}),
                                ControlPoint(1.0)], meterset=m, mlc=True,
                      wedges=[wedge(1, "STANDARD", "W45", 45, orientation, tray=574)])
             for name, g, orientation, m in (("ANT W45", 0.0, 90.0, 182),
                                             ("LAT W45", 90.0, 180.0, 176))], 30, 2.0)


def virtual_wedge() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    return ([BeamPlan(name, g, [ControlPoint(0.0, mlc=shape, wedges={1: "IN"}),
                                ControlPoint(1.0)], meterset=m, mlc=True,
                      wedges=[wedge(1, "DYNAMIC", "EDW30OUT", 30, 0.0)])
             for name, g, m in (("LAT R EDW", 270.0, 152), ("LAT L EDW", 90.0, 150))], 30, 2.0)


def motorized_wedge() -> tuple[list[BeamPlan], int, float]:
    """Wedged for a third of the meterset (tan 30° / tan 60°), then open;
    the wedge moves out while the beam is off (equal weights at CP 1 and 2)."""
    shape = aperture(circle(TARGET_MM))
    wedged = round(math.tan(math.radians(30)) / math.tan(math.radians(60)), 4)
    points = [ControlPoint(0.0, mlc=shape, wedges={1: "IN"}),
              ControlPoint(wedged, wedges={1: "IN"}),
              ControlPoint(wedged, wedges={1: "OUT"}),
              ControlPoint(1.0, wedges={1: "OUT"})]
    return ([BeamPlan(name, g, points, meterset=m, mlc=True, dose_rate=400,
                      wedges=[wedge(1, "MOTORIZED", "MW60", 60, 0.0, effective=30)])
             for name, g, m in (("LAT R MW", 270.0, 160), ("LAT L MW", 90.0, 158))], 30, 2.0)


def static_electron() -> tuple[list[BeamPlan], int, float]:
    cutout = aperture_block("RTC-A10-CUTOUT", 950, "CERROBEND", 15, 35, "ABSENT", "PATIENT_SIDE")
    return ([BeamPlan("E AP 9MeV", 0.0, static(), radiation="ELECTRON", energy=9.0,
                      dose_rate=400, meterset=212, jaws=([-100.0, 100.0], [-100.0, 100.0]),
                      jaw_types=("X", "Y"), blocks=[cutout], applicator=electron_applicator(),
                      bolus=True, iso=(0.0, -BODY_B, 0.0))], 10, 2.0)


def step_and_shoot() -> tuple[list[BeamPlan], int, float]:
    """Three segments per field, each a control point pair (2n control
    points): the leaves move between CP 2k+1 and 2k+2, where the weight stays."""
    beams = []
    for name, g, m in (("IMRT 0", 0.0, 96), ("IMRT 120", 120.0, 101), ("IMRT 240", 240.0, 99)):
        points, weight = [], 0.0
        for radius, share in ((TARGET_MM, 0.5), (25.0, 0.3), (15.0, 0.2)):
            shape = aperture(circle(radius))
            points.append(ControlPoint(round(weight, 6), mlc=shape))
            weight += share
            points.append(ControlPoint(round(weight, 6), mlc=shape))
        beams.append(BeamPlan(name, g, points, meterset=m, mlc=True))
    return beams, 30, 2.0


def sliding_window() -> tuple[list[BeamPlan], int, float]:
    """Both banks sweep left to right while the beam is on; the gap between
    them modulates the fluence."""
    beams = []
    steps = 10
    widths = [circle(TARGET_MM)((lo + hi) / 2)
              for lo, hi in pairwise(MLC_BOUNDARIES)]
    for name, g, m in (("SW 0", 0.0, 310), ("SW 120", 120.0, 322), ("SW 240", 240.0, 318)):
        points = []
        for k in range(steps + 1):
            t = k / steps
            a, b = [], []
            for w in widths:
                if w <= 0.5:
                    a.append(PARKED)
                    b.append(PARKED)
                    continue
                left = -w - 5 + (2 * w + 10) * t
                a.append(round(left, 1))
                b.append(round(left + 5 + 10 * math.sin(math.pi * t), 1))
            points.append(ControlPoint(round(t, 6), mlc=a + b))
        beams.append(BeamPlan(name, g, points, beam_type="DYNAMIC", meterset=m, mlc=True,
                              jaws=([-55.0, 55.0], [-45.0, 45.0])))
    return beams, 30, 2.0


def vmat() -> tuple[list[BeamPlan], int, float]:
    """Two arcs, control points every 4 degrees; the leaves open and close
    around the target's outline, and the dose rate (meterset per degree) is
    modulated, as an optimiser makes it."""
    def leaves(gantry: float) -> list[float]:
        outline = ellipsoid_outline(gantry)
        phase = math.radians(gantry)

        def half_width(y: float) -> float:
            return outline(y) * (0.55 + 0.45 * (0.5 + 0.5 * math.sin(3 * phase + y / 9)))
        return [round(v, 1) for v in aperture(half_width)]

    def rate(gantry: float) -> float:
        return 1.0 + 0.6 * math.sin(2 * math.radians(gantry))

    return ([BeamPlan(name, start, arc_points(start, 356.0, direction, 4.0, leaves, rate),
                      beam_type="DYNAMIC", meterset=m, mlc=True, fluence=("NON_STANDARD", "FFF"),
                      dose_rate=1400, jaws=([-45.0, 45.0], [-40.0, 40.0]))
             for name, start, direction, m in (("VMAT CW", 182.0, "CW", 274),
                                                ("VMAT CC", 178.0, "CC", 281))], 30, 2.0)


def cone_static() -> tuple[list[BeamPlan], int, float]:
    return ([BeamPlan(name, g, static(), meterset=m, couch=couch, applicator=cone(20),
                      jaws=([-25.0, 25.0], [-25.0, 25.0]), jaw_types=("X", "Y"))
             for name, g, couch, m in (("CONE 0", 0.0, 0.0, 610), ("CONE 45", 45.0, 30.0, 605),
                                       ("CONE 315", 315.0, 330.0, 607))], 1, 18.0)


def cone_arcs() -> tuple[list[BeamPlan], int, float]:
    return ([BeamPlan(name, start, arc_points(start, 120.0, direction, 120.0),
                      beam_type="DYNAMIC", meterset=m, couch=couch, applicator=cone(20),
                      jaws=([-25.0, 25.0], [-25.0, 25.0]), jaw_types=("X", "Y"))
             for name, start, direction, couch, m in (
                 ("CONE ARC 1", 200.0, "CW", 0.0, 620), ("CONE ARC 2", 30.0, "CW", 30.0, 612),
                 ("CONE ARC 3", 330.0, "CC", 330.0, 615))], 1, 18.0)


BUILD = {
    "basic-static": basic_static, "basic-static-mlc": basic_static_mlc, "arc": arcs,
    "mlc-fixed-aperture-arc": mlc_fixed_arc, "mlc-variable-aperture-arc": conformal_arc,
    "hard-wedge": hard_wedge, "virtual-wedge": virtual_wedge,
    "motorized-wedge": motorized_wedge, "static-electron": static_electron,
    "step-and-shoot": step_and_shoot, "sliding-window": sliding_window, "vmat": vmat,
    "photon-applicator": cone_static, "photon-applicator-arc": cone_arcs,
}


def technique_plan(builder: PatientBuilder, technique: str, bolus_roi: int | None,
                   namespace: str = "rtconform-tppc") -> FileDataset:
    """The plan of one technique on the builder's structure set (its bolus
    ROI, if it has one, under the beams that use a bolus)."""
    beams, fractions, dose = BUILD[technique]()
    setup = "FIXED_SSD" if technique == "static-electron" else "ISOCENTRIC"
    return PlanWriter(builder, technique, bolus_roi, namespace).plan(beams, fractions, dose,
                                                                     setup)


def build_plan_sample(uid_root: str = DEFAULT_UID_ROOT,
                      techniques: Seq[str] = tuple(TECHNIQUES), seed: str = "") -> SampleSet:
    """The patient's CT and structure set (with its bolus) and one RT Plan
    per technique (`all` for every one), as `RP_<technique>.dcm`. With a
    `seed`, every UID is the seed's own (a harness run's objects)."""
    chosen = list(TECHNIQUES) if "all" in techniques else list(dict.fromkeys(techniques))
    unknown = [t for t in chosen if t not in TECHNIQUES]
    if unknown:
        raise ValueError(f"unknown beam type(s) {', '.join(unknown)}; known: "
                         f"{', '.join(TECHNIQUES)}, all")
    builder = PatientBuilder(uid_root, seed=seed)
    # with its bolus the structure set is another content: another SOP Instance UID
    builder.uid["ss"] = derived_uid(uid_root, "rtconform-tppc", *([seed] if seed else []),
                                    "structure-set")
    sample = SampleSet(uid_root=uid_root, uids=dict(builder.uid))
    sample.datasets.update(builder.ct())
    ss = builder.structure_set()
    bolus_roi = add_bolus_roi(ss)
    sample.datasets["RS_structure_set.dcm"] = ss
    for technique in chosen:
        sample.datasets[f"RP_{technique}.dcm"] = technique_plan(builder, technique, bolus_roi)
    return sample

"""The synthetic patient planned with every delivery technique a planning
system exports: one RT Plan per technique, on the patient's CT and structure
set (with a bolus), each as a real planning system writes it.

The techniques are the 14 beam types of IHE-RO TPPC (`techniques`). Each plan
is physically consistent, control point by control point: gantry angles move
in their rotation direction, cumulative meterset weights never decrease and
end at the Final Cumulative Meterset Weight, leaves never cross, a
step-and-shoot beam moves its leaves only while the beam is off, a VMAT arc
modulates its dose rate, an electron beam has its applicator, cut-out, fixed
SSD and bolus. Same UID root in, same UIDs out; `rtconform.phantom.faults`
breaks one thing at a time.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq

from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from rtconform.dicom.uids import (
    DEFAULT_UID_ROOT,
    RT_PLAN_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
    derived_uid,
)
from rtconform.phantom.beam_model import (
    MACHINE,
    MLC_BOUNDARIES,
    MLC_WIDTHS,
    SAD,
    BeamPlan,
    ControlPoint,
    fl,
    skin_distance,
    weight_ds,
)
from rtconform.phantom.builder import PatientBuilder
from rtconform.phantom.design import STUDY_DATE, STUDY_TIME
from rtconform.phantom.exports import BOLUS_MM, add_bolus_roi
from rtconform.phantom.patient import ds_number
from rtconform.phantom.plans import set_fixed_axes
from rtconform.phantom.sets import SampleSet
from rtconform.phantom.techniques import BUILD, TECHNIQUES


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
        dose_ref.TargetPrescriptionDose = ds_number(dose_gy * fractions)
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
        ref.BeamDoseSpecificationPoint = [ds_number(v) for v in beam.iso]
        ref.BeamDose = ds_number(dose_gy)
        ref.BeamMeterset = ds_number(beam.meterset)
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
        beam.SourceAxisDistance = ds_number(SAD)
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
            mlc.LeafPositionBoundaries = [ds_number(v) for v in MLC_BOUNDARIES]
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
            cp.NominalBeamEnergy = ds_number(p.energy)
            cp.DoseRateSet = ds_number(p.dose_rate)
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
                item.LeafJawPositions = [ds_number(v) for v in values]
                positions.append(item)
        if point.mlc is not None:
            item = Dataset()
            item.RTBeamLimitingDeviceType = "MLCX"
            item.LeafJawPositions = [ds_number(v) for v in point.mlc]
            positions.append(item)
        if positions:
            cp.BeamLimitingDevicePositionSequence = Sequence(positions)
        if first or point.gantry is not None:
            cp.GantryAngle = ds_number(p.gantry if first else point.gantry)
        if first or point.direction is not None:
            cp.GantryRotationDirection = point.direction or "NONE"
        if first:
            set_fixed_axes(cp, ds_number(p.couch))
            cp.IsocenterPosition = [ds_number(v) for v in p.iso]
            if p.radiation == "ELECTRON":  # fixed SSD on the bolus over the skin
                cp.SourceToSurfaceDistance = ds_number(SAD - BOLUS_MM)
                cp.SourceToExternalContourDistance = fl(SAD)
            else:
                ssd = SAD - skin_distance(p.gantry, p.iso[:2])
                cp.SourceToSurfaceDistance = ds_number(ssd)
                cp.SourceToExternalContourDistance = fl(ssd)
        cp.CumulativeMetersetWeight = weight_ds(point.weight)
        ref = Dataset()  # the share of the beam's dose delivered so far, at every point
        ref.CumulativeDoseReferenceCoefficient = weight_ds(point.weight / p.points[-1].weight)
        ref.ReferencedDoseReferenceNumber = 1
        cp.ReferencedDoseReferenceSequence = Sequence([ref])
        return cp



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

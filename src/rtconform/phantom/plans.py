"""The synthetic patient's RT Plans as IHE-RO BRTO wants them: a geometric
plan (no metersets, RO-3) and a dosimetric plan (RO-4), a four-field box with
an aperture block on the first beam. The plans of every TPPC beam type are
`technique_plans`."""

from __future__ import annotations

import math

from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from rtconform.dicom.uids import (
    RT_PLAN_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
)
from rtconform.phantom.design import (
    BEAM_NAMES,
    BODY_A,
    BODY_B,
    FRACTIONS,
    GANTRY_ANGLES,
    JAW_MM,
    MLC_PAIRS,
    MLC_WIDTH,
    PRESCRIPTION_GY,
    STUDY_DATE,
    STUDY_TIME,
    TARGETS,
)
from rtconform.phantom.patient import Patient, ds_number


def set_fixed_axes(cp: Dataset, couch: str = "0") -> None:
    """The axes of a first control point that no beam here moves: collimator
    and table top at rest, the couch at `couch` degrees, and the table top's
    position empty (Type 2: unknown until the patient is set up)."""
    cp.BeamLimitingDeviceAngle = "0"
    cp.BeamLimitingDeviceRotationDirection = "NONE"
    cp.PatientSupportAngle = couch
    cp.PatientSupportRotationDirection = "NONE"
    cp.TableTopEccentricAngle = "0"
    cp.TableTopEccentricRotationDirection = "NONE"
    cp.TableTopPitchAngle = 0.0
    cp.TableTopPitchRotationDirection = "NONE"
    cp.TableTopRollAngle = 0.0
    cp.TableTopRollRotationDirection = "NONE"
    cp.TableTopVerticalPosition = None
    cp.TableTopLongitudinalPosition = None
    cp.TableTopLateralPosition = None


class Plans(Patient):
    """The geometric and the dosimetric plan."""

    def beam(self, number: int, gantry: float, name: str, dosimetric: bool = True) -> Dataset:
        beam = Dataset()
        beam.Manufacturer = "rtconform"
        beam.TreatmentMachineName = "RTC_LINAC"
        beam.PrimaryDosimeterUnit = "MU"
        beam.SourceAxisDistance = "1000"
        devices = []
        for kind in ("ASYMX", "ASYMY"):
            dev = Dataset()
            dev.RTBeamLimitingDeviceType = kind
            dev.NumberOfLeafJawPairs = 1
            devices.append(dev)
        mlc = Dataset()
        mlc.RTBeamLimitingDeviceType = "MLCX"
        mlc.NumberOfLeafJawPairs = MLC_PAIRS
        half = MLC_PAIRS * MLC_WIDTH / 2
        mlc.LeafPositionBoundaries = [
            ds_number(-half + i * MLC_WIDTH) for i in range(MLC_PAIRS + 1)
        ]
        devices.append(mlc)
        beam.BeamLimitingDeviceSequence = Sequence(devices)
        beam.BeamNumber = number
        beam.BeamName = name
        beam.BeamType = "STATIC"
        beam.RadiationType = "PHOTON"
        beam.TreatmentDeliveryType = "TREATMENT"
        beam.NumberOfWedges = 0
        beam.NumberOfCompensators = 0
        beam.NumberOfBoli = 0
        blocks = [self.aperture_block()] if number == 1 else []
        beam.NumberOfBlocks = len(blocks)
        if blocks:
            beam.BlockSequence = Sequence(blocks)
        if dosimetric:  # a geometric plan has no metersets (BRTO RO-3)
            beam.FinalCumulativeMetersetWeight = "1"
        beam.NumberOfControlPoints = 2

        cp0 = Dataset()
        cp0.ControlPointIndex = 0
        cp0.CumulativeMetersetWeight = "0" if dosimetric else None
        if dosimetric:
            cp0.NominalBeamEnergy = "6"
            cp0.DoseRateSet = "600"
        positions = []
        for kind, values in (
            ("ASYMX", [-JAW_MM, JAW_MM]),
            ("ASYMY", [-JAW_MM, JAW_MM]),
            ("MLCX", self.mlc_positions()),
        ):
            pos = Dataset()
            pos.RTBeamLimitingDeviceType = kind
            pos.LeafJawPositions = [ds_number(v) for v in values]
            positions.append(pos)
        cp0.BeamLimitingDevicePositionSequence = Sequence(positions)
        cp0.GantryAngle = ds_number(gantry)
        cp0.GantryRotationDirection = "NONE"
        set_fixed_axes(cp0)
        cp0.IsocenterPosition = ["0", "0", "0"]
        cp0.SourceToSurfaceDistance = ds_number(1000 - (BODY_B if gantry % 180 == 0 else BODY_A))
        cp1 = Dataset()
        cp1.ControlPointIndex = 1
        cp1.CumulativeMetersetWeight = "1" if dosimetric else None
        beam.ControlPointSequence = Sequence([cp0, cp1])
        beam.ReferencedPatientSetupNumber = 1
        return beam

    @staticmethod
    def aperture_block() -> Dataset:
        """An APERTURE block around the PTV (an octagon at the isocentre
        plane): BRTO planners must support blocks."""
        block = Dataset()
        block.BlockTrayID = "RTC-TRAY-1"
        block.SourceToBlockTrayDistance = "650"
        block.BlockType = "APERTURE"
        block.BlockDivergence = "PRESENT"
        block.BlockMountingPosition = "SOURCE_SIDE"
        block.BlockNumber = 1
        block.BlockName = "PTV aperture"
        block.MaterialID = "CERROBEND"
        block.BlockThickness = "75"
        block.BlockTransmission = "0.05"
        radius = dict(TARGETS)["PTV"] + 8.0
        points = [(radius * math.cos(math.pi * i / 4), radius * math.sin(math.pi * i / 4))
                  for i in range(8)]
        block.BlockNumberOfPoints = len(points)
        block.BlockData = [ds_number(v) for point in points for v in point]
        return block

    @staticmethod
    def mlc_positions() -> list[float]:
        """Leaves shaped to the PTV (bank A then bank B); leaves outside the
        jaws closed at the centre line."""
        radius = dict(TARGETS)["PTV"] + 5.0
        half = MLC_PAIRS * MLC_WIDTH / 2
        a, b = [], []
        for i in range(MLC_PAIRS):
            centre = -half + (i + 0.5) * MLC_WIDTH
            if abs(centre) < radius:
                opening = math.sqrt(radius * radius - centre * centre)
                a.append(-opening)
                b.append(opening)
            else:
                a.append(0.0)
                b.append(0.0)
        return a + b

    def plan(self, dosimetric: bool) -> FileDataset:
        key = "dos_plan" if dosimetric else "geo_plan"
        ds = self.base(RT_PLAN_STORAGE, self.uid[key], "RTPLAN", self.uid["plan_series"], 3)
        self.frame_of_reference(ds)
        ds.InstanceNumber = 2 if dosimetric else 1
        ds.RTPlanLabel = "RTC dosimetric" if dosimetric else "RTC geometric"
        ds.RTPlanName = ds.RTPlanLabel
        ds.RTPlanDate = STUDY_DATE
        ds.RTPlanTime = STUDY_TIME
        ds.PlanIntent = "CURATIVE"
        ds.RTPlanGeometry = "PATIENT"
        ds.ReferencedStructureSetSequence = Sequence(
            [self.ref(RT_STRUCTURE_SET_STORAGE, self.uid["ss"])]
        )
        setup = Dataset()
        setup.PatientPosition = "HFS"
        setup.PatientSetupNumber = 1
        setup.SetupTechnique = "ISOCENTRIC"
        ds.PatientSetupSequence = Sequence([setup])
        ds.BeamSequence = Sequence(
            [self.beam(n + 1, g, name, dosimetric)
             for n, (g, name) in enumerate(zip(GANTRY_ANGLES, BEAM_NAMES, strict=True))]
        )
        group = Dataset()
        group.FractionGroupNumber = 1
        group.NumberOfFractionsPlanned = FRACTIONS
        group.NumberOfBeams = len(GANTRY_ANGLES)
        group.NumberOfBrachyApplicationSetups = 0
        refs = []
        for n in range(len(GANTRY_ANGLES)):
            ref = Dataset()
            if dosimetric:
                ref.BeamDose = ds_number(PRESCRIPTION_GY / FRACTIONS / len(GANTRY_ANGLES))
                ref.BeamMeterset = ds_number(125.0 + 5 * n)
            ref.ReferencedBeamNumber = n + 1
            refs.append(ref)
        group.ReferencedBeamSequence = Sequence(refs)
        ds.FractionGroupSequence = Sequence([group])
        if dosimetric:
            predecessor = self.ref(RT_PLAN_STORAGE, self.uid["geo_plan"])
            predecessor.RTPlanRelationship = "PREDECESSOR"
            ds.ReferencedRTPlanSequence = Sequence([predecessor])
            dose_ref = Dataset()
            dose_ref.DoseReferenceNumber = 1
            dose_ref.DoseReferenceUID = self.sample_uid("dose-ref")
            dose_ref.DoseReferenceStructureType = "SITE"
            dose_ref.DoseReferenceDescription = "PTV"
            dose_ref.DoseReferenceType = "TARGET"
            dose_ref.TargetPrescriptionDose = ds_number(PRESCRIPTION_GY)
            ds.DoseReferenceSequence = Sequence([dose_ref])
        ds.ApprovalStatus = "UNAPPROVED"
        return ds

"""A synthetic, deterministic RT patient: CT → structure set → geometric plan →
dosimetric plan → plan dose (and, on request, one dose per beam).

The default patient is shaped as IHE-RO BRTO (TRO 2007) expects what actors
exchange: a geometric plan with one fraction group, two control points per
beam and no metersets, a block, an ISOCENTER point, one PLAN dose. Stimulus
sets (`SAMPLE_SETS`) vary it as the IHE-RO test tool's data sets do.

Why synthetic: every scenario and every rule needs a complete set whose
references all resolve and that passes dciodvfy, and a place to inject one
defect at a time (see `faults.py`). Same UID root in, same UIDs out.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from rtconform import __version__
from rtconform.dicom.uids import (
    CT_IMAGE_STORAGE,
    DEFAULT_UID_ROOT,
    RT_DOSE_STORAGE,
    RT_PLAN_STORAGE,
    RT_STRUCTURE_SET_STORAGE,
    derived_uid,
)

PATIENT_NAME = "RTCONFORM^Phantom"
PATIENT_ID = "RTC-PHANTOM-0001"
PATIENT_BIRTH_DATE = "19700101"
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.8.498.1"
IMPLEMENTATION_VERSION_NAME = f"RTCONFORM_{__version__.replace('.', '')}"[:16]

STUDY_DATE = "20260101"
STUDY_TIME = "090000"

# CT geometry: 60 axial slices of 96 x 96, 4 mm pixels, 2.5 mm apart,
# centred on the isocentre at the origin (small: a run stores hundreds).
N_SLICES = 60
MATRIX = 96
PIXEL_MM = 4.0
SLICE_MM = 2.5
X0 = -(MATRIX - 1) * PIXEL_MM / 2


def slice_z(k: int) -> float:
    return (k - N_SLICES // 2) * SLICE_MM


def uneven_z() -> list[float]:
    """Slices 5 mm apart, then 7 mm apart, as in IHE-RO's reference CT."""
    return [-80.0 + 5 * i for i in range(25)] + [40.0 + 7 * i for i in range(1, 11)]


SAMPLE_SETS = {
    "equidistant": "60 CT slices 2.5 mm apart, structure set, geometric and dosimetric plan, "
                   "plan dose (the default)",
    "uneven": "35 CT slices 5 mm then 7 mm apart (as IHE-RO's reference CT), with the RT objects",
    "multi-series": "the default set plus the same positions as two more CT series of the same "
                    "study and Frame of Reference, overlapping by 3 slices (the RO-6 stimulus)",
    "limited": "the default set with only the attributes DICOM and BRTO require (no Type 3 "
               "attributes the profile leaves optional)",
}


# Anatomy (mm): body ellipse, nested target spheres, two organs, one marker.
BODY_A, BODY_B = 140.0, 100.0
TARGETS = (("GTV", 15.0), ("CTV", 22.0), ("PTV", 30.0))
RECTUM = (0.0, 45.0, 10.0, -30.0, 30.0)  # x, y, r, z from, z to (cylinder)
BLADDER = (0.0, -45.0, 10.0, 18.0)  # x, y, z, r (sphere)
MARKER = (0.0, -BODY_B, 0.0)

# Beams: a four-field box around the isocentre.
GANTRY_ANGLES = (0.0, 90.0, 180.0, 270.0)
BEAM_NAMES = ("AP", "LAO", "PA", "RAO")
JAW_MM = 35.0
MLC_PAIRS = 20
MLC_WIDTH = 10.0
FRACTIONS = 30
PRESCRIPTION_GY = 60.0

# Dose grid: 5 mm, covering the PTV with a margin, inside the CT volume.
DOSE_STEP = 5.0
DOSE_HALF = 50.0
DOSE_Z_HALF = 40.0


def _ds_number(value: float) -> str:
    """A DS string of at most 16 characters."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class SampleSet:
    """The datasets of one synthetic patient, by file name."""

    uid_root: str
    datasets: dict[str, FileDataset] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, ds in self.datasets.items():
            path = folder / name
            write_atomically(ds, path)
            paths.append(path)
        return paths


def write_atomically(ds: FileDataset, path: Path) -> None:
    """Write through a temporary name in the same folder, then rename: a
    reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".dcm")
    os.close(fd)
    try:
        ds.save_as(tmp, enforce_file_format=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PatientBuilder:
    """Builds each object of the chain from what comes before it, so the
    reference actors can contour the CT they retrieved, plan on the structure
    set they retrieved, and copy the patient's identity unchanged (IHE-RO
    critical attributes)."""

    def __init__(self, uid_root: str, z: list[float] | None = None, seed: str = "") -> None:
        self.root = uid_root
        self.seed = seed  # a run's seed: its own UIDs, the same again for the same seed
        self.uid = {
            key: self.sample_uid(key)
            for key in (
                "study", "ct_series", "for", "ss_series", "ss", "plan_series", "geo_plan",
                "dos_plan", "dose_series", "plan_dose",
            )
        }
        self.z = list(z) if z is not None else [slice_z(k) for k in range(N_SLICES)]
        self.ct_uids = [self.sample_uid("ct", k) for k in range(len(self.z))]
        self.patient = {"PatientName": PATIENT_NAME, "PatientID": PATIENT_ID,
                        "PatientBirthDate": PATIENT_BIRTH_DATE, "PatientSex": "O"}
        self.beam_dose_uids = [self.sample_uid("beam-dose", n + 1)
                               for n in range(len(GANTRY_ANGLES))]

    def sample_uid(self, *parts: object) -> str:
        """A UID of the synthetic patient: fixed for a root (and seed), so
        `rtconform sample` writes the same files on every run."""
        return derived_uid(self.root, "rtconform-sample", *([self.seed] if self.seed else []),
                           *parts)

    def _adopt(self, ds: Dataset) -> None:
        """Take study, frame of reference and patient from an input object."""
        self.uid["study"] = str(ds.StudyInstanceUID)
        if "FrameOfReferenceUID" in ds:
            self.uid["for"] = str(ds.FrameOfReferenceUID)
        for keyword in self.patient:
            self.patient[keyword] = str(ds.get(keyword, ""))
        # derived objects get UIDs of their own, stable for the same input
        for key in ("ss_series", "ss", "plan_series", "geo_plan", "dos_plan", "dose_series",
                    "plan_dose"):
            self.uid[key] = derived_uid(self.root, "rtconform-derived", self.uid["study"], key)
        self.beam_dose_uids = [derived_uid(self.root, "rtconform-derived", self.uid["study"],
                                           "beam-dose", n + 1)
                               for n in range(len(GANTRY_ANGLES))]

    @classmethod
    def from_images(cls, images: list[Dataset], uid_root: str = DEFAULT_UID_ROOT
                    ) -> PatientBuilder:
        """Contour on these CT images (sorted along z)."""
        images = sorted(images, key=lambda ds: float(ds.ImagePositionPatient[2]))
        builder = cls(uid_root)
        builder._adopt(images[0])
        builder.uid["ct_series"] = str(images[0].SeriesInstanceUID)
        builder.ct_uids = [str(ds.SOPInstanceUID) for ds in images]
        builder.z = [float(ds.ImagePositionPatient[2]) for ds in images]
        return builder

    @classmethod
    def from_structure_set(cls, ss: Dataset, uid_root: str = DEFAULT_UID_ROOT,
                           geometric_plan: Dataset | None = None) -> PatientBuilder:
        """Plan on this structure set (and, for a dosimetric plan, from this
        geometric plan)."""
        builder = cls(uid_root)
        frame = ss.ReferencedFrameOfReferenceSequence[0]
        builder._adopt(ss)
        builder.uid["for"] = str(frame.FrameOfReferenceUID)
        builder.uid["ss"] = str(ss.SOPInstanceUID)
        if geometric_plan is not None:
            builder.uid["geo_plan"] = str(geometric_plan.SOPInstanceUID)
            builder.uid["plan_series"] = str(geometric_plan.SeriesInstanceUID)
        return builder

    # -- common modules -------------------------------------------------
    def base(self, sop_class: str, sop_instance: str, modality: str, series: str,
             series_number: int) -> FileDataset:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.MediaStorageSOPInstanceUID = sop_instance
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        meta.SourceApplicationEntityTitle = "RTCONFORM"
        ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
        # built in memory, encoded as its file meta says: Explicit VR Little Endian
        ds.set_original_encoding(False, True, "ISO_IR 100")
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.InstanceCreationDate = STUDY_DATE
        ds.InstanceCreationTime = STUDY_TIME
        ds.SOPClassUID = sop_class
        ds.SOPInstanceUID = sop_instance
        ds.StudyDate = STUDY_DATE
        ds.StudyTime = STUDY_TIME
        ds.AccessionNumber = ""
        ds.Modality = modality
        ds.Manufacturer = "rtconform"
        ds.ReferringPhysicianName = ""
        ds.StationName = "RTCONFORM"
        ds.StudyDescription = "rtconform synthetic phantom"
        ds.SeriesDescription = f"rtconform {modality}"
        ds.ManufacturerModelName = "rtconform sample"
        ds.SoftwareVersions = __version__
        for keyword, value in self.patient.items():
            setattr(ds, keyword, value)
        ds.StudyInstanceUID = self.uid["study"]
        ds.SeriesInstanceUID = series
        ds.StudyID = "RTC1"
        ds.SeriesNumber = series_number
        if modality != "CT":
            ds.OperatorsName = ""
        return ds

    def frame_of_reference(self, ds: Dataset) -> None:
        ds.FrameOfReferenceUID = self.uid["for"]
        ds.PositionReferenceIndicator = ""

    @staticmethod
    def ref(sop_class: str, sop_instance: str) -> Dataset:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        return item

    # -- CT ------------------------------------------------------------------
    def ct_pixels(self) -> np.ndarray:
        x = X0 + PIXEL_MM * np.arange(MATRIX)
        xx, yy = np.meshgrid(x, x)
        hu = np.full((MATRIX, MATRIX), -1000, dtype=np.int32)
        hu[(xx / BODY_A) ** 2 + (yy / BODY_B) ** 2 <= 1.0] = 0
        hu[(xx - 0) ** 2 + (yy - 75) ** 2 <= 12**2] = 700  # vertebra
        return (hu + 1024).astype(np.uint16)

    def ct(self, series: str | None = None, uids: list[str] | None = None,
           slices: range | None = None, series_number: int = 1, prefix: str = "CT"
           ) -> dict[str, FileDataset]:
        pixels = self.ct_pixels().tobytes()
        series = series or self.uid["ct_series"]
        uids = uids or self.ct_uids
        out = {}
        for n, k in enumerate(slices or range(len(self.z)), start=1):
            ds = self.base(CT_IMAGE_STORAGE, uids[k], "CT", series, series_number)
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.ContentDate = STUDY_DATE
            ds.ContentTime = STUDY_TIME
            ds.PatientPosition = "HFS"
            ds.BodyPartExamined = "PELVIS"
            self.frame_of_reference(ds)
            ds.InstanceNumber = n
            ds.AcquisitionNumber = 1
            ds.KVP = "120"
            ds.SliceThickness = _ds_number(SLICE_MM)
            ds.ImagePositionPatient = [_ds_number(X0), _ds_number(X0), _ds_number(self.z[k])]
            ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
            ds.SliceLocation = _ds_number(self.z[k])
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.Rows = MATRIX
            ds.Columns = MATRIX
            ds.PixelSpacing = [_ds_number(PIXEL_MM), _ds_number(PIXEL_MM)]
            ds.BitsAllocated = 16
            ds.BitsStored = 12
            ds.HighBit = 11
            ds.PixelRepresentation = 0
            ds.RescaleIntercept = "-1024"
            ds.RescaleSlope = "1"
            ds.RescaleType = "HU"
            ds.WindowCenter = "40"
            ds.WindowWidth = "400"
            ds.PixelData = pixels
            out[f"{prefix}_{n:03d}.dcm"] = ds
        return out

    def extra_series(self) -> dict[str, FileDataset]:
        """The same positions again as two overlapping series of the same study
        and Frame of Reference (what RO-6 gives a Contourer to combine)."""
        half = len(self.z) // 2
        out = {}
        for number, (label, slices) in enumerate(
                (("A", range(0, half + 3)), ("B", range(half, len(self.z)))), start=5):
            series = self.sample_uid("ct-series", label)
            uids = {k: self.sample_uid("ct", label, k) for k in slices}
            out.update(self.ct(series, uids, slices, number, f"CT2{label}"))
        return out

    # -- RT Structure Set ------------------------------------------------------
    def rois(self) -> list[dict]:
        """ROI number, name, type, colour and contours [(slice, points)]."""

        def circle(cx: float, cy: float, rx: float, ry: float, n: int = 32) -> list[tuple]:
            return [
                (cx + rx * math.cos(2 * math.pi * i / n), cy + ry * math.sin(2 * math.pi * i / n))
                for i in range(n)
            ]

        z = self.z

        def sphere(cx, cy, cz, r):
            contours = []
            for k in range(len(z)):
                dz = z[k] - cz
                if abs(dz) < r - 1.0:
                    rk = math.sqrt(r * r - dz * dz)
                    contours.append((k, circle(cx, cy, rk, rk)))
            return contours

        rois = [
            {"number": 1, "name": "External", "type": "EXTERNAL", "color": [0, 255, 0],
             "contours": [(k, circle(0, 0, BODY_A, BODY_B, 48)) for k in range(len(z))]},
        ]
        colors = {"GTV": [255, 0, 0], "CTV": [255, 128, 0], "PTV": [255, 0, 255]}
        for number, (name, radius) in enumerate(reversed(TARGETS), start=2):
            rois.append({"number": number, "name": name, "type": name, "color": colors[name],
                         "contours": sphere(0, 0, 0, radius)})
        rx, ry, rr, z0, z1 = RECTUM
        rois.append({"number": 5, "name": "Rectum", "type": "ORGAN", "color": [128, 64, 0],
                     "contours": [(k, circle(rx, ry, rr, rr)) for k in range(len(z))
                                  if z0 <= z[k] <= z1]})
        bx, by, bz, br = BLADDER
        rois.append({"number": 6, "name": "Bladder", "type": "ORGAN", "color": [255, 255, 0],
                     "contours": sphere(bx, by, bz, br)})
        mx, my, mz = MARKER
        k_marker = min(range(len(z)), key=lambda k: abs(z[k] - mz))
        rois.append({"number": 7, "name": "Marker", "type": "MARKER", "color": [0, 255, 255],
                     "contours": [(k_marker, [(mx, my)])], "point": True})
        k_iso = min(range(len(z)), key=lambda k: abs(z[k]))
        rois.append({"number": 8, "name": "Isocenter", "type": "ISOCENTER",
                     "color": [255, 255, 255], "contours": [(k_iso, [(0.0, 0.0)])],
                     "point": True})
        return rois

    def structure_set(self) -> FileDataset:
        ds = self.base(RT_STRUCTURE_SET_STORAGE, self.uid["ss"], "RTSTRUCT",
                       self.uid["ss_series"], 2)
        self.frame_of_reference(ds)
        ds.InstanceNumber = 1
        ds.StructureSetLabel = "RTC phantom"
        ds.StructureSetName = "rtconform phantom"
        ds.StructureSetDate = STUDY_DATE
        ds.StructureSetTime = STUDY_TIME

        series = Dataset()
        series.SeriesInstanceUID = self.uid["ct_series"]
        series.ContourImageSequence = Sequence(
            [self.ref(CT_IMAGE_STORAGE, uid) for uid in self.ct_uids]
        )
        study = self.ref("1.2.840.10008.3.1.2.3.1", self.uid["study"])
        study.RTReferencedSeriesSequence = Sequence([series])
        frame = Dataset()
        frame.FrameOfReferenceUID = self.uid["for"]
        frame.RTReferencedStudySequence = Sequence([study])
        ds.ReferencedFrameOfReferenceSequence = Sequence([frame])

        ss_rois, contours, observations = [], [], []
        for roi in self.rois():
            item = Dataset()
            item.ROINumber = roi["number"]
            item.ReferencedFrameOfReferenceUID = self.uid["for"]
            item.ROIName = roi["name"]
            item.ROIGenerationAlgorithm = "MANUAL"
            ss_rois.append(item)

            roi_contour = Dataset()
            roi_contour.ROIDisplayColor = roi["color"]
            seq = []
            for number, (k, points) in enumerate(roi["contours"], start=1):
                contour = Dataset()
                contour.ContourImageSequence = Sequence(
                    [self.ref(CT_IMAGE_STORAGE, self.ct_uids[k])]
                )
                contour.ContourGeometricType = "POINT" if roi.get("point") else "CLOSED_PLANAR"
                contour.NumberOfContourPoints = len(points)
                contour.ContourNumber = number
                plane = _ds_number(self.z[k])
                contour.ContourData = [
                    value for x, y in points for value in (_ds_number(x), _ds_number(y), plane)
                ]
                seq.append(contour)
            roi_contour.ContourSequence = Sequence(seq)
            roi_contour.ReferencedROINumber = roi["number"]
            contours.append(roi_contour)

            obs = Dataset()
            obs.ObservationNumber = roi["number"]
            obs.ReferencedROINumber = roi["number"]
            obs.RTROIInterpretedType = roi["type"]
            obs.ROIInterpreter = ""
            observations.append(obs)
        ds.StructureSetROISequence = Sequence(ss_rois)
        ds.ROIContourSequence = Sequence(contours)
        ds.RTROIObservationsSequence = Sequence(observations)
        ds.ApprovalStatus = "UNAPPROVED"
        return ds

    # -- RT Plan ---------------------------------------------------------------
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
            _ds_number(-half + i * MLC_WIDTH) for i in range(MLC_PAIRS + 1)
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
            pos.LeafJawPositions = [_ds_number(v) for v in values]
            positions.append(pos)
        cp0.BeamLimitingDevicePositionSequence = Sequence(positions)
        cp0.GantryAngle = _ds_number(gantry)
        cp0.GantryRotationDirection = "NONE"
        cp0.BeamLimitingDeviceAngle = "0"
        cp0.BeamLimitingDeviceRotationDirection = "NONE"
        cp0.PatientSupportAngle = "0"
        cp0.PatientSupportRotationDirection = "NONE"
        cp0.TableTopEccentricAngle = "0"
        cp0.TableTopEccentricRotationDirection = "NONE"
        cp0.TableTopPitchAngle = 0.0
        cp0.TableTopPitchRotationDirection = "NONE"
        cp0.TableTopRollAngle = 0.0
        cp0.TableTopRollRotationDirection = "NONE"
        cp0.TableTopVerticalPosition = None  # Type 2: empty
        cp0.TableTopLongitudinalPosition = None
        cp0.TableTopLateralPosition = None
        cp0.IsocenterPosition = ["0", "0", "0"]
        cp0.SourceToSurfaceDistance = _ds_number(1000 - (BODY_B if gantry % 180 == 0 else BODY_A))
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
        block.BlockData = [_ds_number(v) for point in points for v in point]
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
                ref.BeamDose = _ds_number(PRESCRIPTION_GY / FRACTIONS / len(GANTRY_ANGLES))
                ref.BeamMeterset = _ds_number(125.0 + 5 * n)
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
            dose_ref.TargetPrescriptionDose = _ds_number(PRESCRIPTION_GY)
            ds.DoseReferenceSequence = Sequence([dose_ref])
        ds.ApprovalStatus = "UNAPPROVED"
        return ds

    # -- RT Dose -------------------------------------------------------------
    def beam_doses_gy(self) -> list[np.ndarray]:
        """A simple, smooth per-beam dose (Gy, whole course) on the grid:
        a field profile times an exponential depth fall-off."""
        axis = np.arange(-DOSE_HALF, DOSE_HALF + 0.1, DOSE_STEP)
        zaxis = np.arange(-DOSE_Z_HALF, DOSE_Z_HALF + 0.1, DOSE_STEP)
        zz, yy, xx = np.meshgrid(zaxis, axis, axis, indexing="ij")
        per_beam = PRESCRIPTION_GY / len(GANTRY_ANGLES)
        out = []
        for gantry in GANTRY_ANGLES:
            theta = math.radians(gantry)
            # beam direction in patient coordinates (HFS, IEC gantry)
            dx, dy = -math.sin(theta), math.cos(theta)
            depth = xx * dx + yy * dy  # mm beyond the isocentre
            lateral = xx * dy - yy * dx

            def edge(t):
                return 1 / (1 + np.exp((np.abs(t) - JAW_MM) / 3.0))

            out.append(per_beam * edge(lateral) * edge(zz) * np.exp(-0.005 * depth))
        return out

    def dose(self, key: str, sop_instance: str, grid: np.ndarray, scaling: float,
             beam_number: int | None) -> FileDataset:
        ds = self.base(RT_DOSE_STORAGE, sop_instance, "RTDOSE", self.uid["dose_series"], 4)
        self.frame_of_reference(ds)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "DOSE"]
        ds.ContentDate = STUDY_DATE
        ds.ContentTime = STUDY_TIME
        ds.InstanceNumber = 1 if beam_number is None else 1 + beam_number
        frames, rows, cols = grid.shape
        ds.SliceThickness = _ds_number(DOSE_STEP)
        ds.ImagePositionPatient = [_ds_number(-DOSE_HALF), _ds_number(-DOSE_HALF),
                                   _ds_number(-DOSE_Z_HALF)]
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.NumberOfFrames = frames
        ds.FrameIncrementPointer = 0x3004000C
        ds.Rows = rows
        ds.Columns = cols
        ds.PixelSpacing = [_ds_number(DOSE_STEP), _ds_number(DOSE_STEP)]
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.DoseUnits = "GY"
        ds.DoseType = "PHYSICAL"
        ds.DoseSummationType = "PLAN" if beam_number is None else "BEAM"
        plan_ref = self.ref(RT_PLAN_STORAGE, self.uid["dos_plan"])
        if beam_number is not None:
            group = Dataset()
            beam = Dataset()
            beam.ReferencedBeamNumber = beam_number
            group.ReferencedBeamSequence = Sequence([beam])
            group.ReferencedFractionGroupNumber = 1
            plan_ref.ReferencedFractionGroupSequence = Sequence([group])
        ds.ReferencedRTPlanSequence = Sequence([plan_ref])
        ds.GridFrameOffsetVector = [_ds_number(DOSE_STEP * i) for i in range(frames)]
        ds.DoseGridScaling = f"{scaling:.6e}"
        ds.TissueHeterogeneityCorrection = "IMAGE"
        ds.PixelData = grid.astype("<u2").tobytes()
        del key
        return ds

    def doses(self, beam_doses: bool = False) -> dict[str, FileDataset]:
        """The plan dose; with `beam_doses`, one BEAM dose per beam too (legal
        DICOM, a planning system's export; not BRTO, whose RO-5 is PLAN)."""
        beams = self.beam_doses_gy()
        scaling = float(sum(beams).max()) / 60000.0
        scaling = float(f"{scaling:.6e}")
        ints = [np.rint(b / scaling).astype(np.int64) for b in beams]
        total = sum(ints)
        out = {"RD_plan.dcm": self.dose("plan", self.uid["plan_dose"], total, scaling, None)}
        for n, grid in enumerate(ints if beam_doses else [], start=1):
            out[f"RD_beam_{n}.dcm"] = self.dose("beam", self.beam_dose_uids[n - 1], grid,
                                                scaling, n)
        return out


# Type 3 attributes (and one optional module) the `limited` set leaves out.
OPTIONAL_KEYWORDS = (
    "InstanceCreationDate", "InstanceCreationTime", "StationName", "StudyDescription",
    "SeriesDescription", "ManufacturerModelName", "SoftwareVersions", "StructureSetName",
    "RTPlanName", "PlanIntent", "ContourNumber", "ROIDisplayColor", "WindowCenter",
    "WindowWidth", "SliceLocation", "NominalBeamEnergy",
    "DoseRateSet", "BlockTrayID", "BlockMountingPosition", "BlockName",
    "TreatmentDeliveryType", "DoseReferenceDescription", "ContentDate", "ContentTime",
)


def _strip_optional(ds: Dataset) -> None:
    for keyword in OPTIONAL_KEYWORDS:
        if keyword in ds:
            delattr(ds, keyword)
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                _strip_optional(item)


def build_sample(uid_root: str = DEFAULT_UID_ROOT, sample_set: str = "equidistant",
                 beam_doses: bool = False, seed: str = "") -> SampleSet:
    """Build the whole synthetic patient in memory, as one of `SAMPLE_SETS`.
    With a `seed`, every UID is the seed's own (a harness run gives a SUT
    objects no earlier run used: a SOP Instance UID names one content)."""
    if sample_set not in SAMPLE_SETS:
        raise KeyError(f"unknown sample set {sample_set!r}; known: {', '.join(SAMPLE_SETS)}")
    builder = PatientBuilder(uid_root, uneven_z() if sample_set == "uneven" else None, seed)
    sample = SampleSet(uid_root=uid_root, uids=dict(builder.uid))
    sample.datasets.update(builder.ct())
    if sample_set == "multi-series":
        sample.datasets.update(builder.extra_series())
    sample.datasets["RS_structure_set.dcm"] = builder.structure_set()
    sample.datasets["RP_geometric.dcm"] = builder.plan(dosimetric=False)
    sample.datasets["RP_dosimetric.dcm"] = builder.plan(dosimetric=True)
    sample.datasets.update(builder.doses(beam_doses))
    if sample_set == "limited":
        for ds in sample.datasets.values():
            _strip_optional(ds)
    return sample


def resample_series(images: list[Dataset], uid_root: str = DEFAULT_UID_ROOT,
                    step: int = 2, kind: str = "resampled") -> list[Dataset]:
    """A resampled CT series (every `step`-th slice, thicker): a new Series
    Instance UID and new SOP Instance UIDs, same Frame of Reference and patient
    (IHE-RO TRO RO-11; IHE-RO test tool BRTO-RO11-16, -20)."""
    import copy

    images = sorted(images, key=lambda ds: float(ds.ImagePositionPatient[2]))
    source = str(images[0].SeriesInstanceUID)
    series_uid = derived_uid(uid_root, f"rtconform-{kind}", source, step)
    out = []
    for number, ds in enumerate(images[::step], start=1):
        new = copy.deepcopy(ds)
        new.SeriesInstanceUID = series_uid
        new.SOPInstanceUID = derived_uid(uid_root, f"rtconform-{kind}", source, step,
                                         str(ds.SOPInstanceUID))
        new.file_meta.MediaStorageSOPInstanceUID = new.SOPInstanceUID
        new.SeriesNumber = int(ds.get("SeriesNumber", 1)) + 100
        new.SeriesDescription = f"{kind} x{step}"
        new.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        new.InstanceNumber = number
        new.SliceThickness = _ds_number(float(ds.get("SliceThickness", SLICE_MM)) * step)
        new.InstanceCreationDate = STUDY_DATE
        new.InstanceCreationTime = STUDY_TIME
        out.append(new)
    return out


def combine_series(images: list[Dataset], uid_root: str = DEFAULT_UID_ROOT) -> list[Dataset]:
    """One new series from several of the same Frame of Reference (RO-6 →
    RO-11): one image per position, the first series' image where they
    overlap, new Series and SOP Instance UIDs."""
    by_z: dict[float, Dataset] = {}
    for ds in sorted(images, key=lambda d: (int(d.get("SeriesNumber", 0)),
                                              float(d.ImagePositionPatient[2]))):
        by_z.setdefault(round(float(ds.ImagePositionPatient[2]), 3), ds)
    return resample_series(list(by_z.values()), uid_root, step=1, kind="combined")


def edit_structure_set(given: Dataset, uid_root: str = DEFAULT_UID_ROOT) -> Dataset:
    """An edited copy of a structure set, as a Contourer stores it (RO-7 →
    RO-2): a new SOP Instance UID (PS3.3 C.12.1.1.1: changed content is a new
    instance), a new label, an ROI renamed."""
    import copy

    edited = copy.deepcopy(given)
    uid = derived_uid(uid_root, "rtconform-edited", str(given.SOPInstanceUID))
    edited.SOPInstanceUID = uid
    edited.file_meta.MediaStorageSOPInstanceUID = uid
    edited.StructureSetLabel = (str(given.get("StructureSetLabel", "")) + " ed")[:16]
    edited.StructureSetDate = STUDY_DATE
    edited.StructureSetTime = STUDY_TIME
    rois = edited.get("StructureSetROISequence", [])
    if rois:
        rois[-1].ROIName = (str(rois[-1].get("ROIName", "ROI")) + " edited")[:64]
    return edited

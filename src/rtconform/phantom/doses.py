"""The synthetic patient's RT Doses: the plan dose and, on request, one
BEAM dose per beam that sum to it (a simple, smooth dose model)."""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from rtconform.dicom.uids import (
    RT_DOSE_STORAGE,
    RT_PLAN_STORAGE,
)
from rtconform.phantom.design import (
    DOSE_HALF,
    DOSE_STEP,
    DOSE_Z_HALF,
    GANTRY_ANGLES,
    JAW_MM,
    PRESCRIPTION_GY,
    STUDY_DATE,
    STUDY_TIME,
)
from rtconform.phantom.patient import Patient, ds_number


class Doses(Patient):
    """The plan dose and the beam doses of the dosimetric plan."""

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
        ds.SliceThickness = ds_number(DOSE_STEP)
        ds.ImagePositionPatient = [ds_number(-DOSE_HALF), ds_number(-DOSE_HALF),
                                   ds_number(-DOSE_Z_HALF)]
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.NumberOfFrames = frames
        ds.FrameIncrementPointer = 0x3004000C
        ds.Rows = rows
        ds.Columns = cols
        ds.PixelSpacing = [ds_number(DOSE_STEP), ds_number(DOSE_STEP)]
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
        ds.GridFrameOffsetVector = [ds_number(DOSE_STEP * i) for i in range(frames)]
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

"""The synthetic patient's RT Structure Set (its anatomy contoured on every
CT slice it crosses), and the edited copy a Contourer stores (RO-7 → RO-2)."""

from __future__ import annotations

import math

from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence

from rtconform.dicom.uids import (
    CT_IMAGE_STORAGE,
    DEFAULT_UID_ROOT,
    RT_STRUCTURE_SET_STORAGE,
    derived_uid,
)
from rtconform.phantom.design import (
    BLADDER,
    BODY_A,
    BODY_B,
    MARKER,
    RECTUM,
    STUDY_DATE,
    STUDY_TIME,
    TARGETS,
)
from rtconform.phantom.patient import Patient, ds_number


class StructureSets(Patient):
    """The structure set of the anatomy in `design`."""

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
                plane = ds_number(self.z[k])
                contour.ContourData = [
                    value for x, y in points for value in (ds_number(x), ds_number(y), plane)
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

"""The synthetic patient as the two kinds of exporter a release pipeline
gates write it:

- `planning-system`: a treatment planning system's DICOM export to a folder:
  CT, structure set (with a bolus and a density override, as a clinical
  plan has them), plans, the plan dose and one dose per beam that sum to it;
- `patient-tree`: a batch patient exporter's tree, the same objects placed
  as `LastName_FirstName_MedicalID/DICOM/` (images, structure set) and
  `<plan>/DICOM/` (plans, doses) beside the `Documents/`, `Logs/` and
  `Plan_Files/` such an exporter writes.

`approved` marks the dosimetric plan APPROVED (RT General Plan / Approval:
a re-export must then keep every UID, which `rtconform diff-export` checks).
Faults of `--fault` apply to these exports as to the default sample.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from rtconform.dicom.uids import DEFAULT_UID_ROOT
from rtconform.dicom.writer import write_dataset
from rtconform.phantom.design import BODY_B, STUDY_DATE, STUDY_TIME
from rtconform.phantom.sets import SampleSet, build_sample

EXPORT_STYLES = {
    "planning-system": "a planning system's flat export: CT, structure set with a bolus and a "
                       "density override, plans, plan dose and one dose per beam",
    "patient-tree": "a batch patient exporter's tree: LastName_FirstName_MedicalID/DICOM, a plan "
                    "folder with DICOM/, Documents/ (PDF), Logs/ and Plan_Files/ (XML)",
}
BOLUS_ROI = 9
BOLUS_MM = 5.0  # thickness, on the anterior skin under the AP beam
OVERRIDE = ("REL_ELEC_DENSITY", "1.02")  # the bolus material's relative electron density
REVIEWER = "Physicist^Approving"


def add_bolus(sample: SampleSet) -> None:
    """A BOLUS ROI on the anterior skin, with a density override, used by
    the AP beam of the dosimetric plan (the geometric plan stays as BRTO
    wants it: no bolus)."""
    add_bolus_roi(sample.datasets["RS_structure_set.dcm"])
    bolus = Dataset()
    bolus.ReferencedROINumber = BOLUS_ROI
    beam = sample.datasets["RP_dosimetric.dcm"].BeamSequence[0]  # AP
    beam.ReferencedBolusSequence = Sequence([bolus])
    beam.NumberOfBoli = 1


def add_bolus_roi(ss: Dataset) -> int:
    """The bolus as an ROI of the structure set (BOLUS_MM on the anterior
    skin, over the PTV's slices, RT ROI Interpreted Type BOLUS, with its
    material's relative electron density); its ROI number."""
    first = ss.ROIContourSequence[1].ContourSequence  # the PTV's slices
    roi = Dataset()
    roi.ROINumber = BOLUS_ROI
    roi.ReferencedFrameOfReferenceUID = ss.StructureSetROISequence[0].\
        ReferencedFrameOfReferenceUID
    roi.ROIName = "Bolus 5mm"
    roi.ROIGenerationAlgorithm = "MANUAL"
    ss.StructureSetROISequence.append(roi)
    contours = []
    for number, ptv in enumerate(first, start=1):
        z = str(ptv.ContourData[2])
        contour = Dataset()
        contour.ContourImageSequence = ptv.ContourImageSequence
        contour.ContourGeometricType = "CLOSED_PLANAR"
        points = [(-40.0, -BODY_B - BOLUS_MM), (40.0, -BODY_B - BOLUS_MM),
                  (40.0, -BODY_B), (-40.0, -BODY_B)]
        contour.NumberOfContourPoints = len(points)
        contour.ContourNumber = number
        contour.ContourData = [v for x, y in points for v in (f"{x:g}", f"{y:g}", z)]
        contours.append(contour)
    roi_contour = Dataset()
    roi_contour.ROIDisplayColor = [0, 128, 255]
    roi_contour.ContourSequence = Sequence(contours)
    roi_contour.ReferencedROINumber = BOLUS_ROI
    ss.ROIContourSequence.append(roi_contour)
    obs = Dataset()
    obs.ObservationNumber = BOLUS_ROI
    obs.ReferencedROINumber = BOLUS_ROI
    obs.RTROIInterpretedType = "BOLUS"
    obs.ROIInterpreter = ""
    prop = Dataset()
    prop.ROIPhysicalProperty, prop.ROIPhysicalPropertyValue = OVERRIDE
    obs.ROIPhysicalPropertiesSequence = Sequence([prop])
    ss.RTROIObservationsSequence.append(obs)
    return BOLUS_ROI


def approve(sample: SampleSet) -> None:
    """RT Approval module of an approved plan: status, review date and time
    (Type 1C) and reviewer (Type 2C)."""
    plan = sample.datasets["RP_dosimetric.dcm"]
    plan.ApprovalStatus = "APPROVED"
    plan.ReviewDate, plan.ReviewTime, plan.ReviewerName = STUDY_DATE, STUDY_TIME, REVIEWER


def build_export(uid_root: str = DEFAULT_UID_ROOT, approved: bool = False) -> SampleSet:
    sample = build_sample(uid_root, beam_doses=True)
    add_bolus(sample)
    if approved:
        approve(sample)
    return sample


def safe_name(text: str) -> str:
    """A folder name every common file system accepts."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "unnamed"


def patient_tree_paths(sample: SampleSet) -> dict[str, str]:
    """File name → its place in the batch exporter's tree."""
    ct = next(ds for name, ds in sample.datasets.items() if name.startswith("CT_"))
    name = ct.PatientName
    patient = safe_name(f"{name.family_name}_{name.given_name}_{ct.PatientID}")
    plan = safe_name(str(sample.datasets["RP_dosimetric.dcm"].RTPlanLabel))
    out = {}
    for file in sample.datasets:
        if file.startswith(("RP_", "RD_")):
            out[file] = f"{patient}/{plan}/DICOM/{file}"
        else:
            out[file] = f"{patient}/DICOM/{file}"
    out["report.pdf"] = f"{patient}/{plan}/Documents/plan_report.pdf"
    out["export.log"] = f"{patient}/{plan}/Logs/export.log"
    out["plan.xml"] = f"{patient}/{plan}/Plan_Files/plan.xml"
    return out


# Minimal but well-formed documents, as an exporter writes beside the DICOM.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
       b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def write_export(sample: SampleSet, folder: Path, style: str) -> list[Path]:
    """Write `sample` as the exporter of `style` would."""
    if style not in EXPORT_STYLES:
        raise KeyError(f"unknown export style {style!r}; known: {', '.join(EXPORT_STYLES)}")
    if style == "planning-system":
        return sample.write(folder)
    places = patient_tree_paths(sample)
    written = []
    for file, ds in sample.datasets.items():
        target = folder / places[file]
        target.parent.mkdir(parents=True, exist_ok=True)
        write_dataset(ds, target)
        written.append(target)
    documents = {"report.pdf": PDF,
                 "export.log": b"exported 1 patient, 1 plan\n",
                 "plan.xml": b"<?xml version='1.0' encoding='UTF-8'?><plan label='RTC'/>\n"}
    for file, data in documents.items():
        target = folder / places[file]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written

"""Faults of the `dicom-rt` profile: one defect of the synthetic patient per
rule, each proven to trip exactly its rule ids (tests/rules/test_rules.py)."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from rtconform.dicom.uids import DEFAULT_UID_ROOT, derived_uid
from rtconform.phantom.faults import contour as _contour
from rtconform.phantom.faults import dosimetric_plan as _dos
from rtconform.phantom.faults import fault
from rtconform.phantom.faults import geometric_plan as _geo
from rtconform.phantom.faults import new_uid as _new_uid
from rtconform.phantom.faults import plan_dose as _plan_dose
from rtconform.phantom.faults import structure_set as _ss
from rtconform.phantom.sets import SampleSet


# -- structure set ----------------------------------------------------------
@fault("missing-contour-image-sequence", "a PTV contour without its Contour Image Sequence",
       "SS-CONTOUR-IMAGE", profile="brto")
def _missing_contour_image(s: SampleSet) -> None:
    del _contour(s).ContourImageSequence


@fault("contour-off-plane", "a PTV contour 1 mm off its referenced CT slice",
       "SS-CONTOUR-ON-PLANE")
def _off_plane(s: SampleSet) -> None:
    c = _contour(s)
    data = [float(v) for v in c.ContourData]
    c.ContourData = [f"{v + 1.0:g}" if i % 3 == 2 else f"{v:g}" for i, v in enumerate(data)]


@fault("contour-not-coplanar", "one point of a CLOSED_PLANAR contour moved 2 mm in z",
       "SS-CONTOUR-CLOSED-PLANAR", "SS-CONTOUR-ON-PLANE")
def _not_coplanar(s: SampleSet) -> None:
    c = _contour(s)
    data = list(c.ContourData)
    data[2] = f"{float(data[2]) + 2.0:g}"
    c.ContourData = data


@fault("closed-planar-two-points", "a CLOSED_PLANAR contour with only 2 points",
       "SS-CONTOUR-CLOSED-PLANAR")
def _two_points(s: SampleSet) -> None:
    c = _contour(s)
    c.ContourData = list(c.ContourData)[:6]
    c.NumberOfContourPoints = 2


@fault("point-contour-two-points", "the POINT marker with 2 points", "SS-CONTOUR-POINT")
def _point_two(s: SampleSet) -> None:
    c = _ss(s).ROIContourSequence[6].ContourSequence[0]
    data = list(c.ContourData)
    c.ContourData = [*data, f"{float(data[0]) + 1:g}", data[1], data[2]]
    c.NumberOfContourPoints = 2


@fault("contour-point-count", "Number of Contour Points one more than Contour Data holds",
       "SS-CONTOUR-POINT-COUNT")
def _point_count(s: SampleSet) -> None:
    c = _contour(s)
    c.NumberOfContourPoints = int(c.NumberOfContourPoints) + 1


@fault("contour-offset-vector", "a non-zero Contour Offset Vector", "SS-CONTOUR-OFFSET",
       profile="brto")
def _offset(s: SampleSet) -> None:
    _contour(s).ContourOffsetVector = ["0", "0", "2.5"]


@fault("contour-geometric-type", "an OPEN_PLANAR contour", "SS-CONTOUR-GEOMETRIC-TYPE",
       profile="brto")
def _open_planar(s: SampleSet) -> None:
    _contour(s).ContourGeometricType = "OPEN_PLANAR"


@fault("unknown-contour-image", "a contour referencing a CT image that is not in the set",
       "SS-CONTOUR-IMAGE-RESOLVES", complete=True)
def _unknown_image(s: SampleSet) -> None:
    _contour(s).ContourImageSequence[0].ReferencedSOPInstanceUID = _new_uid(s, "ct")


@fault("roi-number-mismatch",
       "RT ROI Observations refers to ROI 99, which Structure Set ROI does not define",
       "SS-ROI-NUMBER-CONSISTENCY")
def _roi_mismatch(s: SampleSet) -> None:
    _ss(s).RTROIObservationsSequence[5].ReferencedROINumber = 99


@fault("duplicate-roi-number", "two ROIs with ROI Number 1", "SS-ROI-NUMBER-UNIQUE")
def _duplicate_roi(s: SampleSet) -> None:
    ss = _ss(s)
    ss.StructureSetROISequence[1].ROINumber = 1
    ss.ROIContourSequence[1].ReferencedROINumber = 1
    ss.RTROIObservationsSequence[1].ReferencedROINumber = 1


@fault("wrong-structure-set-frame-of-reference",
       "the structure set refers to a Frame of Reference the CT does not have",
       "SS-FRAME-OF-REFERENCE", "REF-FRAME-OF-REFERENCE")
def _wrong_for(s: SampleSet) -> None:
    ss = _ss(s)
    other = _new_uid(s, "for")
    ss.FrameOfReferenceUID = other
    ss.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = other
    for roi in ss.StructureSetROISequence:
        roi.ReferencedFrameOfReferenceUID = other


@fault("two-referenced-frames", "two Referenced Frame of Reference items",
       "SS-REFERENCED-FRAME-SINGLE", profile="brto")
def _two_frames(s: SampleSet) -> None:
    seq = _ss(s).ReferencedFrameOfReferenceSequence
    seq.append(Dataset())
    seq[1].FrameOfReferenceUID = seq[0].FrameOfReferenceUID


@fault("referenced-series-missing", "the structure set names a CT series that is not in the set",
       "SS-REFERENCED-SERIES", complete=True)
def _series_missing(s: SampleSet) -> None:
    (_ss(s).ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
     .RTReferencedSeriesSequence[0].SeriesInstanceUID) = _new_uid(s, "series")


@fault("bad-roi-display-color", "ROI Display Color 300\\0\\0", "SS-ROI-DISPLAY-COLOR")
def _bad_color(s: SampleSet) -> None:
    _ss(s).ROIContourSequence[0].ROIDisplayColor = [300, 0, 0]


@fault("unknown-interpreted-type", "RT ROI Interpreted Type TUMOR (not a defined term)",
       "SS-ROI-INTERPRETED-TYPE")
def _bad_type(s: SampleSet) -> None:
    _ss(s).RTROIObservationsSequence[3].RTROIInterpretedType = "TUMOR"


@fault("two-external-rois", "two ROIs interpreted as EXTERNAL", "SS-EXTERNAL-UNIQUE")
def _two_external(s: SampleSet) -> None:
    _ss(s).RTROIObservationsSequence[5].RTROIInterpretedType = "EXTERNAL"


@fault("missing-type1", "Structure Set Label (Type 1) removed", "STD-TYPE1")
def _missing_type1(s: SampleSet) -> None:
    del _ss(s).StructureSetLabel


# -- plans ------------------------------------------------------------------
@fault("plan-missing-structure-set", "the dosimetric plan references an absent structure set",
       "PLAN-STRUCTURE-SET-REF", complete=True)
def _plan_missing_ss(s: SampleSet) -> None:
    _dos(s).ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID = _new_uid(s, "ss")


@fault("duplicate-beam-number", "two beams of the geometric plan numbered 1",
       "PLAN-BEAM-NUMBER-UNIQUE", "PLAN-FRACTION-GROUP")
def _dup_beam(s: SampleSet) -> None:
    _geo(s).BeamSequence[1].BeamNumber = 1


@fault("fraction-group-beam-count", "Number of Beams 5 for 4 referenced beams",
       "PLAN-FRACTION-GROUP")
def _beam_count(s: SampleSet) -> None:
    _dos(s).FractionGroupSequence[0].NumberOfBeams = 5


@fault("control-point-weights", "Final Cumulative Meterset Weight 2 where the last weight is 1",
       "PLAN-CONTROL-POINTS")
def _cp_weights(s: SampleSet) -> None:
    _dos(s).BeamSequence[0].FinalCumulativeMetersetWeight = "2"


@fault("leaf-count-mismatch", "MLCX with two Leaf/Jaw Positions too few",
       "PLAN-BEAM-LIMITING-DEVICE")
def _leaf_count(s: SampleSet) -> None:
    pos = _geo(s).BeamSequence[0].ControlPointSequence[0].BeamLimitingDevicePositionSequence[2]
    pos.LeafJawPositions = list(pos.LeafJawPositions)[:-2]


@fault("patient-setup-missing", "a beam references Patient Setup 2, which is not defined",
       "PLAN-PATIENT-SETUP")
def _setup_missing(s: SampleSet) -> None:
    _geo(s).BeamSequence[0].ReferencedPatientSetupNumber = 2


# -- doses --------------------------------------------------------------------
@fault("dose-missing-plan", "the plan dose references an absent RT Plan", "DOSE-PLAN-REF",
       complete=True)
def _dose_missing_plan(s: SampleSet) -> None:
    _plan_dose(s).ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID = _new_uid(s, "plan")


@fault("beam-dose-unknown-beam", "a BEAM dose references beam 9, which the plan lacks",
       "DOSE-BEAM-REF", "DOSE-BEAM-SUM", beam_doses=True)
def _unknown_beam(s: SampleSet) -> None:
    seq = s.datasets["RD_beam_4.dcm"].ReferencedRTPlanSequence[0]
    seq.ReferencedFractionGroupSequence[0].ReferencedBeamSequence[0].ReferencedBeamNumber = 9


@fault("beam-dose-sum-off", "one BEAM dose scaled by 1.5: the beam doses no longer add up to "
       "the plan dose", "DOSE-BEAM-SUM", beam_doses=True)
def _beam_sum_off(s: SampleSet) -> None:
    ds = s.datasets["RD_beam_2.dcm"]
    ds.DoseGridScaling = f"{float(ds.DoseGridScaling) * 1.5:.6e}"


def _drop_beam_dose(folder: Path) -> None:
    (folder / "RD_beam_3.dcm").unlink()


@fault("beam-dose-missing", "the BEAM dose of beam 3 is not exported beside the others",
       "DOSE-BEAM-SUM", after_write=_drop_beam_dose, beam_doses=True, complete=True)
def _no_change(s: SampleSet) -> None:
    del s


@fault("bolus-not-bolus", "beam 1 references ROI 2 (a PTV) as its bolus", "PLAN-BOLUS-REF")
def _bolus_ptv(s: SampleSet) -> None:
    bolus = Dataset()
    bolus.ReferencedROINumber = 2
    _dos(s).BeamSequence[0].ReferencedBolusSequence = Sequence([bolus])


@fault("override-without-value", "a density override (REL_ELEC_DENSITY) with no value",
       "SS-ROI-PHYSICAL-PROPERTIES")
def _override_no_value(s: SampleSet) -> None:
    prop = Dataset()
    prop.ROIPhysicalProperty = "REL_ELEC_DENSITY"
    _ss(s).RTROIObservationsSequence[0].ROIPhysicalPropertiesSequence = Sequence([prop])


@fault("grid-frame-offset-length", "Grid Frame Offset Vector one value short of Number of Frames",
       "DOSE-GRID-FRAME-OFFSET")
def _gfov(s: SampleSet) -> None:
    ds = _plan_dose(s)
    ds.GridFrameOffsetVector = list(ds.GridFrameOffsetVector)[:-1]


@fault("dose-bits-stored", "Bits Stored 12 with Bits Allocated 16 in the plan dose",
       "DOSE-PIXEL-BITS")
def _bits(s: SampleSet) -> None:
    ds = _plan_dose(s)
    ds.BitsStored = 12
    ds.HighBit = 11


@fault("dose-grid-scaling", "Dose Grid Scaling 0", "DOSE-GRID-SCALING")
def _scaling(s: SampleSet) -> None:
    _plan_dose(s).DoseGridScaling = "0"


@fault("dose-units", "Dose Units CGY", "DOSE-UNITS-TYPE")
def _units(s: SampleSet) -> None:
    _plan_dose(s).DoseUnits = "CGY"


@fault("dose-pixel-data-length", "the plan dose's Pixel Data one frame short",
       "DOSE-PIXEL-DATA-LENGTH")
def _pixel_length(s: SampleSet) -> None:
    ds = _plan_dose(s)
    frame = int(ds.Rows) * int(ds.Columns) * 2
    ds.PixelData = ds.PixelData[:-frame]


@fault("dose-outside-ct", "the plan dose grid moved 100 mm beyond the CT volume",
       "DOSE-GRID-IN-CT")
def _outside(s: SampleSet) -> None:
    ds = _plan_dose(s)
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [f"{x:g}", f"{y:g}", f"{z + 100:g}"]


# -- across objects and files ----------------------------------------------------
@fault("patient-identity-mismatch", "the plan dose carries another Patient Birth Date",
       "REF-PATIENT-IDENTITY")
def _identity(s: SampleSet) -> None:
    _plan_dose(s).PatientBirthDate = "19800101"


@fault("plan-frame-of-reference", "the geometric plan has another Frame of Reference UID",
       "REF-FRAME-OF-REFERENCE")
def _plan_for(s: SampleSet) -> None:
    _geo(s).FrameOfReferenceUID = _new_uid(s, "plan-for")


@fault("invalid-uid", "the geometric plan's Series Instance UID has a leading zero",
       "UID-VALID")
def _invalid_uid(s: SampleSet) -> None:
    _geo(s).SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.0123"


def _rewrite_meta(folder: Path) -> None:
    """After the normal write: pydicom fills the file meta from the dataset,
    so the mismatch is written with file format enforcement off."""
    import pydicom

    path = folder / "RP_geometric.dcm"
    ds = pydicom.dcmread(path)
    ds.file_meta.MediaStorageSOPInstanceUID = derived_uid(DEFAULT_UID_ROOT, "rtconform-fault",
                                                          "meta")
    ds.save_as(path, enforce_file_format=False)


@fault("file-meta-mismatch", "Media Storage SOP Instance UID differs from SOP Instance UID",
       "FILE-META", after_write=_rewrite_meta)
def _meta(s: SampleSet) -> None:
    return None


@fault("uid-sop-instance-is-series",
       "the structure set's Series Instance UID is its own SOP Instance UID (seen in a real "
       "MIM export)", "UID-UNIQUE")
def _uid_two_entities(s: SampleSet) -> None:
    ss = s.datasets["RS_structure_set.dcm"]
    ss.SeriesInstanceUID = ss.SOPInstanceUID


@fault("duplicate-sop-instance",
       "a second, different geometric plan with the same SOP Instance UID",
       "UID-UNIQUE")
def _duplicate(s: SampleSet) -> None:
    import copy

    twin = copy.deepcopy(_geo(s))
    twin.RTPlanLabel = "RTC twin"
    s.datasets["RP_geometric_twin.dcm"] = twin


# -- CT -------------------------------------------------------------------------
@fault("ct-pixel-spacing", "one CT slice with Pixel Spacing 2.5 mm in a 4 mm series",
       "CT-SERIES-GEOMETRY")
def _ct_spacing(s: SampleSet) -> None:
    s.datasets["CT_010.dcm"].PixelSpacing = ["2.5", "2.5"]


@fault("ct-frame-of-reference", "one CT slice in another Frame of Reference",
       "CT-SERIES-FRAME-OF-REFERENCE")
def _ct_for(s: SampleSet) -> None:
    s.datasets["CT_010.dcm"].FrameOfReferenceUID = _new_uid(s, "ct-for")


@fault("ct-duplicate-position", "two CT slices at the same position",
       "CT-SERIES-POSITIONS", "SS-CONTOUR-ON-PLANE", "CT-SERIES-SPACING")
def _ct_position(s: SampleSet) -> None:
    a, b = s.datasets["CT_001.dcm"], s.datasets["CT_002.dcm"]
    b.ImagePositionPatient = list(a.ImagePositionPatient)
    b.SliceLocation = a.SliceLocation


@fault("ct-paired-body-part-without-laterality",
       "one CT slice of BREAST, a paired structure, without Laterality", "IMAGE-LATERALITY")
def _ct_laterality(s: SampleSet) -> None:
    s.datasets["CT_010.dcm"].BodyPartExamined = "BREAST"


@fault("ct-orientation", "one CT slice tilted", "CT-SERIES-ORIENTATION", "SS-CONTOUR-ON-PLANE",
       "CT-SERIES-SPACING")
def _ct_orientation(s: SampleSet) -> None:
    s.datasets["CT_010.dcm"].ImageOrientationPatient = ["1", "0", "0", "0", "0.99995", "0.01"]


def _truncate_beam_dose(folder: Path) -> None:
    path = folder / "RD_beam_4.dcm"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


@fault("truncated-file", "a BEAM dose file cut at two thirds", "FILE-UNREADABLE", "DOSE-BEAM-SUM",
       after_write=_truncate_beam_dose, beam_doses=True)
def _truncated(s: SampleSet) -> None:
    return None



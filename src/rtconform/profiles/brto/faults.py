"""Faults of the `brto` profile (proven under --profile brto): IHE-RO BRTO
content that legal DICOM may break."""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from rtconform.dicom.uids import derived_uid
from rtconform.phantom.faults import contour as _contour
from rtconform.phantom.faults import dosimetric_plan as _dos
from rtconform.phantom.faults import fault
from rtconform.phantom.faults import geometric_plan as _geo
from rtconform.phantom.faults import new_uid as _new_uid
from rtconform.phantom.faults import plan_dose as _plan_dose
from rtconform.phantom.faults import structure_set as _ss
from rtconform.phantom.sets import SampleSet


def brto(name: str, description: str, *rule_ids: str, beam_doses: bool = False,
         scenario_only: bool = False) -> Callable:
    return fault(name, description, *rule_ids, profile="brto", beam_doses=beam_doses,
                 scenario_only=scenario_only)


def _observation(s: SampleSet, roi_name: str) -> Dataset:
    ss = _ss(s)
    number = next(r.ROINumber for r in ss.StructureSetROISequence if r.ROIName == roi_name)
    return next(o for o in ss.RTROIObservationsSequence if o.ReferencedROINumber == number)


@brto("missing-beam-meterset", "the dosimetric plan lacks the Beam Meterset of beam 2",
      "BRTO-DOSIMETRIC-PLAN")
def _no_meterset(s: SampleSet) -> None:
    del _dos(s).FractionGroupSequence[0].ReferencedBeamSequence[1].BeamMeterset


@brto("brto-charset", "the structure set in ISO_IR 192 (UTF-8)", "BRTO-CHARSET")
def _charset(s: SampleSet) -> None:
    _ss(s).SpecificCharacterSet = "ISO_IR 192"


@brto("brto-plan-new-study", "the geometric plan in a new Study Instance UID",
      "BRTO-COPIED-ATTRIBUTES")
def _plan_new_study(s: SampleSet) -> None:
    _geo(s).StudyInstanceUID = _new_uid(s, "study")


@brto("brto-patient-sex", "the plan dose says Patient Sex F where its plan says O",
      "BRTO-COPIED-ATTRIBUTES", "REF-PATIENT-IDENTITY")
def _patient_sex(s: SampleSet) -> None:
    _plan_dose(s).PatientSex = "F"


@brto("brto-electron-beam", "an ELECTRON beam in the dosimetric plan", "BRTO-PLAN-RADIATION-TYPE")
def _electron(s: SampleSet) -> None:
    _dos(s).BeamSequence[1].RadiationType = "ELECTRON"


@brto("brto-duplicate-beam-name", "two beams named AP in both plans", "BRTO-PLAN-BEAM-NAMES")
def _duplicate_beam_name(s: SampleSet) -> None:
    for plan in (_geo(s), _dos(s)):
        plan.BeamSequence[1].BeamName = "AP"


@brto("brto-renamed-beam", "the dosimetric plan renames beam 3 of the geometric plan",
      "BRTO-PLAN-BEAMS-KEPT")
def _renamed_beam(s: SampleSet) -> None:
    _dos(s).BeamSequence[2].BeamName = "PA-renamed"


@brto("brto-blocks-dropped", "the dosimetric plan drops the block beam 1 had in the geometric plan",
      "BRTO-PLAN-BEAMS-KEPT", "BRTO-PLAN-BLOCKS-SUPPORTED")
def _blocks_dropped(s: SampleSet) -> None:
    beam = _dos(s).BeamSequence[0]
    del beam.BlockSequence
    beam.NumberOfBlocks = 0


@brto("brto-block-two-points", "an aperture block of 2 points", "BRTO-PLAN-BLOCKS")
def _block_points(s: SampleSet) -> None:
    for plan in (_geo(s), _dos(s)):
        block = plan.BeamSequence[0].BlockSequence[0]
        block.BlockNumberOfPoints = 2
        block.BlockData = list(block.BlockData)[:4]


@brto("brto-geometric-third-control-point", "a third control point in a geometric beam",
      "BRTO-GEOMETRIC-PLAN-CONTROL-POINTS")
def _third_cp(s: SampleSet) -> None:
    import copy

    beam = _geo(s).BeamSequence[0]
    extra = copy.deepcopy(beam.ControlPointSequence[1])
    extra.ControlPointIndex = 2
    beam.ControlPointSequence.append(extra)
    beam.NumberOfControlPoints = 3


@brto("brto-geometric-metersets", "a geometric plan with weights 0 and 1 and a Final Cumulative "
      "Meterset Weight", "BRTO-GEOMETRIC-PLAN-CONTROL-POINTS", "BRTO-GEOMETRIC-PLAN-BEAMS")
def _geometric_metersets(s: SampleSet) -> None:
    for beam in _geo(s).BeamSequence:
        beam.ControlPointSequence[0].CumulativeMetersetWeight = "0"
        beam.ControlPointSequence[1].CumulativeMetersetWeight = "1"
        beam.FinalCumulativeMetersetWeight = "1"


@brto("brto-geometric-second-cp-geometry", "the second control point of a geometric beam "
      "repeats the gantry angle and rotation direction", "BRTO-GEOMETRIC-PLAN-CONTROL-POINTS")
def _second_cp(s: SampleSet) -> None:
    cp = _geo(s).BeamSequence[1].ControlPointSequence[1]
    cp.GantryAngle = "90"
    cp.GantryRotationDirection = "NONE"


@brto("brto-geometric-wedge", "Number of Wedges 1 in a geometric beam", "BRTO-GEOMETRIC-PLAN-BEAMS")
def _geometric_wedge(s: SampleSet) -> None:
    _geo(s).BeamSequence[2].NumberOfWedges = 1


@brto("brto-geometric-applicator", "an Applicator Sequence in a geometric beam",
      "BRTO-GEOMETRIC-PLAN-APPLICATOR")
def _geometric_applicator(s: SampleSet) -> None:
    applicator = Dataset()
    applicator.ApplicatorID = "A10"
    applicator.ApplicatorType = "ELECTRON_SQUARE"
    _geo(s).BeamSequence[0].ApplicatorSequence = [applicator]


@brto("brto-no-fraction-group", "a geometric plan without Fraction Group Sequence",
      "BRTO-PLAN-FRACTION-GROUP")
def _no_fraction_group(s: SampleSet) -> None:
    del _geo(s).FractionGroupSequence


@brto("brto-brachy-setups", "Number of Brachy Application Setups 1 in the dosimetric plan",
      "BRTO-PLAN-FRACTION-GROUP")
def _brachy(s: SampleSet) -> None:
    _dos(s).FractionGroupSequence[0].NumberOfBrachyApplicationSetups = 1


@brto("brto-beam-type", "Beam Type missing from a dosimetric beam", "BRTO-PLAN-BEAM-TYPE")
def _beam_type(s: SampleSet) -> None:
    del _dos(s).BeamSequence[3].BeamType


@brto("brto-beam-sad", "Source-Axis Distance missing from a dosimetric beam",
      "BRTO-PLAN-BEAM-REQUIRED")
def _beam_sad(s: SampleSet) -> None:
    del _dos(s).BeamSequence[2].SourceAxisDistance


@brto("brto-single-jaw", "a geometric beam with one jaw and an MLC",
      "BRTO-PLAN-BEAM-LIMITING-DEVICES")
def _single_jaw(s: SampleSet) -> None:
    beam = _geo(s).BeamSequence[0]
    beam.BeamLimitingDeviceSequence = [d for d in beam.BeamLimitingDeviceSequence
                                       if d.RTBeamLimitingDeviceType != "ASYMY"]
    cp = beam.ControlPointSequence[0]
    cp.BeamLimitingDevicePositionSequence = [
        p for p in cp.BeamLimitingDevicePositionSequence if p.RTBeamLimitingDeviceType != "ASYMY"]


@brto("brto-mr-contour-image", "a Contour Image item names MR Image Storage",
      "BRTO-SS-IMAGE-REFERENCES")
def _mr_image(s: SampleSet) -> None:
    _contour(s).ContourImageSequence[0].ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"


@brto("brto-referenced-frame-number", "Referenced Frame Number in a Contour Image item",
      "BRTO-SS-IMAGE-REFERENCES")
def _frame_number(s: SampleSet) -> None:
    _contour(s).ContourImageSequence[0].ReferencedFrameNumber = 1


@brto("brto-structure-set-date", "Structure Set Date empty", "BRTO-SS-REQUIRED")
def _ss_date(s: SampleSet) -> None:
    _ss(s).StructureSetDate = ""


@brto("brto-roi-without-type", "the Rectum has two observation items, neither with an RT ROI "
      "Interpreted Type", "BRTO-SS-INTERPRETED-TYPE")
def _roi_without_type(s: SampleSet) -> None:
    import copy

    obs = _observation(s, "Rectum")
    obs.RTROIInterpretedType = ""
    second = copy.deepcopy(obs)
    second.ObservationNumber = 99
    _ss(s).RTROIObservationsSequence.append(second)


@brto("brto-point-as-organ", "the isocentre POINT interpreted as ORGAN", "BRTO-SS-INTERPRETED-TYPE",
      "BRTO-SS-ISOCENTER")
def _point_as_organ(s: SampleSet) -> None:
    _observation(s, "Isocenter").RTROIInterpretedType = "ORGAN"


@brto("brto-no-isocenter", "the structure set without its ISOCENTER point", "BRTO-SS-ISOCENTER")
def _no_isocenter(s: SampleSet) -> None:
    ss = _ss(s)
    number = next(r.ROINumber for r in ss.StructureSetROISequence if r.ROIName == "Isocenter")
    for keyword, key in (("StructureSetROISequence", "ROINumber"),
                         ("ROIContourSequence", "ReferencedROINumber"),
                         ("RTROIObservationsSequence", "ReferencedROINumber")):
        setattr(ss, keyword, [i for i in ss[keyword].value if i[key].value != number])


@brto("brto-physical-property", "an ROI Physical Property REL_MASS_DENSITY",
      "BRTO-SS-PHYSICAL-PROPERTY")
def _physical_property(s: SampleSet) -> None:
    prop = Dataset()
    prop.ROIPhysicalProperty = "REL_MASS_DENSITY"
    prop.ROIPhysicalPropertyValue = "1.05"
    _observation(s, "Bladder").ROIPhysicalPropertiesSequence = [prop]


@brto("brto-duplicate-roi-name", "two ROIs named PTV", "SS-ROI-NAME-UNIQUE")
def _duplicate_roi_name(s: SampleSet) -> None:
    _ss(s).StructureSetROISequence[2].ROIName = "PTV"


@brto("brto-roi-generation-algorithm", "ROI Generation Algorithm empty",
      "SS-ROI-GENERATION-ALGORITHM")
def _generation_algorithm(s: SampleSet) -> None:
    _ss(s).StructureSetROISequence[3].ROIGenerationAlgorithm = ""


@brto("brto-dose-relative", "Dose Units RELATIVE (legal DICOM, not BRTO)", "BRTO-DOSE-VALUES")
def _dose_relative(s: SampleSet) -> None:
    _plan_dose(s).DoseUnits = "RELATIVE"


@brto("brto-beam-doses", "one BEAM dose per beam besides the plan dose (legal DICOM, not BRTO)",
      "BRTO-DOSE-SUMMATION", beam_doses=True)
def _beam_doses(s: SampleSet) -> None:
    return None


@brto("brto-dose-absolute-offsets", "Grid Frame Offset Vector as absolute z (legal DICOM)",
      "BRTO-DOSE-GRID")
def _absolute_offsets(s: SampleSet) -> None:
    ds = _plan_dose(s)
    z0 = float(ds.ImagePositionPatient[2])
    ds.GridFrameOffsetVector = [f"{z0 + float(v):g}" for v in ds.GridFrameOffsetVector]


@brto("brto-dose-fraction-group", "the plan dose references fraction group 2 of a 1-group plan",
      "BRTO-DOSE-FRACTION-GROUP-REF")
def _fraction_group_ref(s: SampleSet) -> None:
    group = Dataset()
    group.ReferencedFractionGroupNumber = 2
    _plan_dose(s).ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence = [group]


@brto("brto-dose-comment", "a plan dose without plan reference whose Dose Comment names no plan",
      "BRTO-DOSE-COMMENT", "BRTO-DOSE-SUMMATION", "DOSE-PLAN-REF")
def _dose_comment(s: SampleSet) -> None:
    ds = _plan_dose(s)
    del ds.ReferencedRTPlanSequence
    ds.DoseComment = "some plan"


@brto("brto-dose-oblique", "the plan dose grid tilted by 0.1 degree", "BRTO-AXIAL",
      "DOSE-GRID-IN-CT")
def _dose_oblique(s: SampleSet) -> None:
    _plan_dose(s).ImageOrientationPatient = ["1", "0", "0", "0", "0.999998", "0.001745"]


@brto("brto-ct-anisotropic", "CT Pixel Spacing 4 × 3.9 mm in every slice",
      "BRTO-CT-PIXEL-SPACING")
def _anisotropic(s: SampleSet) -> None:
    for name, ds in s.datasets.items():
        if name.startswith("CT_"):
            ds.PixelSpacing = ["4", "3.9"]


@brto("brto-ct-localizer", "a CT slice of Image Type ORIGINAL\\PRIMARY\\LOCALIZER", "BRTO-AXIAL")
def _localizer(s: SampleSet) -> None:
    s.datasets["CT_020.dcm"].ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]


def _stimulus_uid(s: SampleSet, key: str) -> str:
    """A UID of the synthetic patient as the harness gave it to the actor
    (the run's own, when known; else the unseeded sample's)."""
    return s.uids.get(key) or derived_uid(s.uid_root, "rtconform-sample", key)


@brto("brto-edit-keeps-uid", "a Contourer stores its edited structure set under the SOP Instance "
      "UID it was given", "BRTO-NEW-SOP-INSTANCE", scenario_only=True)
def _edit_keeps_uid(s: SampleSet) -> None:
    ss = _ss(s)
    ss.SOPInstanceUID = ss.file_meta.MediaStorageSOPInstanceUID = _stimulus_uid(s, "ss")


@brto("brto-resampled-keeps-series", "a Contourer stores its resampled or combined CT under the "
      "Series Instance UID of the series it was given", "BRTO-NEW-SOP-INSTANCE",
      scenario_only=True)
def _keeps_series(s: SampleSet) -> None:
    for name, ds in s.datasets.items():
        if name.startswith("CT_"):
            ds.SeriesInstanceUID = _stimulus_uid(s, "ct_series")

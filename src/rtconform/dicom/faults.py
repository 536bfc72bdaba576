"""Deliberate defects for the synthetic patient, one at a time.

Each fault names the TRO rule(s) it must trip, so the test suite proves every
rule both stays silent on the clean patient and fires on its defect. The
standard engines (dciodvfy, dicom-validator) may add their own findings on top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from rtconform.dicom.sample import SampleSet, build_sample
from rtconform.dicom.uids import DEFAULT_UID_ROOT, derived_uid


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    rule_ids: frozenset[str]
    apply: Callable[[SampleSet], None]
    after_write: Callable[[Path], None] | None = None
    profile: str = "dicom-rt"  # the profile whose rules it must trip
    beam_doses: bool = False  # needs the per-beam doses
    # a producer's defect that shows only against its input (a scenario), not
    # in the sample alone: proven by a broken-SUT run, not by `validate`
    scenario_only: bool = False
    # a reference to what is not in the set: an error only when the set must be
    # self-contained (--complete); a partial export is legal
    complete: bool = False


FAULTS: dict[str, Fault] = {}


def fault(name: str, description: str, *rule_ids: str,
          after_write: Callable[[Path], None] | None = None, profile: str = "dicom-rt",
          beam_doses: bool = False, scenario_only: bool = False,
          complete: bool = False) -> Callable:
    def register(func: Callable[[SampleSet], None]) -> Callable[[SampleSet], None]:
        if name in FAULTS:
            raise ValueError(f"fault {name} registered twice")
        FAULTS[name] = Fault(name, description, frozenset(rule_ids), func, after_write, profile,
                             beam_doses, scenario_only, complete)
        return func

    return register


def write_sample(folder: Path, fault_name: str | None = None,
                 uid_root: str = DEFAULT_UID_ROOT, sample_set: str = "equidistant",
                 beam_doses: bool = False, export: str | None = None,
                 approved: bool = False) -> list[Path]:
    """Write the synthetic patient, with one named fault applied; as an
    exporter of style `export` writes it (`rtconform.dicom.exports`)."""
    from rtconform.dicom.exports import build_export, write_export

    chosen = FAULTS[fault_name] if fault_name else None
    if export:
        if sample_set != "equidistant":
            raise ValueError("an export is written from the default set")
        if chosen and chosen.after_write and export != "planning-system":
            raise ValueError(f"fault {fault_name!r} works on a flat folder: use it with the "
                             "planning-system export")
        sample = build_export(uid_root, approved)
    else:
        if approved:
            raise ValueError("--approved marks an export's plan: give --export too")
        sample = build_sample(uid_root, sample_set,
                              beam_doses or bool(chosen and chosen.beam_doses))
    if chosen:
        chosen.apply(sample)
    paths = write_export(sample, folder, export) if export else sample.write(folder)
    if chosen and chosen.after_write:
        chosen.after_write(folder)
    return paths


# -- helpers ------------------------------------------------------------------
def _ss(s: SampleSet) -> Dataset:
    return s.datasets["RS_structure_set.dcm"]


def _contour(s: SampleSet, roi: int = 2, contour: int = 3) -> Dataset:
    """A contour of the PTV (ROI index 1) by default."""
    return _ss(s).ROIContourSequence[roi - 1].ContourSequence[contour]


def _new_uid(s: SampleSet, *parts: object) -> str:
    return derived_uid(s.uid_root, "rtconform-fault", *parts)


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
def _geo(s: SampleSet) -> Dataset:
    return s.datasets["RP_geometric.dcm"]


def _dos(s: SampleSet) -> Dataset:
    return s.datasets["RP_dosimetric.dcm"]


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


@fault("missing-beam-meterset", "the dosimetric plan lacks the Beam Meterset of beam 2",
       "BRTO-DOSIMETRIC-PLAN", profile="brto")
def _no_meterset(s: SampleSet) -> None:
    del _dos(s).FractionGroupSequence[0].ReferencedBeamSequence[1].BeamMeterset


# -- doses --------------------------------------------------------------------
def _plan_dose(s: SampleSet) -> Dataset:
    return s.datasets["RD_plan.dcm"]


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


def _name_of(ds: Dataset) -> str:
    """The synthetic-patient file name an object plays, so faults can find it."""
    modality = str(ds.get("Modality", ""))
    if modality == "RTSTRUCT":
        return "RS_structure_set.dcm"
    if modality == "RTPLAN":
        metersets = any("BeamMeterset" in ref for group in ds.get("FractionGroupSequence", [])
                        for ref in group.get("ReferencedBeamSequence", []))
        return "RP_dosimetric.dcm" if metersets else "RP_geometric.dcm"
    if modality == "RTDOSE":
        if ds.get("DoseSummationType") == "BEAM":
            beam = (ds.ReferencedRTPlanSequence[0].ReferencedFractionGroupSequence[0]
                    .ReferencedBeamSequence[0].ReferencedBeamNumber)
            return f"RD_beam_{beam}.dcm"
        return "RD_plan.dcm"
    return f"CT_{int(ds.get('InstanceNumber', 0)):03d}.dcm"


def inject(datasets: list[Dataset], fault_name: str, uid_root: str = DEFAULT_UID_ROOT,
           given: dict[str, str] | None = None) -> bool:
    """Apply a fault to objects an actor is about to send, when the fault
    concerns them; True when it did. Lets a reference producer misbehave.
    `given`: the UIDs of the stimulus the actor was given (SampleSet.uids),
    for the faults that reuse one."""
    fault = FAULTS[fault_name]
    sample = SampleSet(uid_root=uid_root, datasets={_name_of(ds): ds for ds in datasets},
                       uids=dict(given or {}))
    try:
        fault.apply(sample)
    except (KeyError, IndexError, AttributeError):
        return False  # the fault is about another object
    return True


# -- IHE-RO BRTO content (proven under --profile brto) ---------------------------------
def brto(name: str, description: str, *rule_ids: str, beam_doses: bool = False,
         scenario_only: bool = False) -> Callable:
    return fault(name, description, *rule_ids, profile="brto", beam_doses=beam_doses,
                 scenario_only=scenario_only)


def _observation(s: SampleSet, roi_name: str) -> Dataset:
    ss = _ss(s)
    number = next(r.ROINumber for r in ss.StructureSetROISequence if r.ROIName == roi_name)
    return next(o for o in ss.RTROIObservationsSequence if o.ReferencedROINumber == number)


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

"""The small DICOM helpers every rule stands on: tolerant value accessors
(`rtconform.dicom.values`: a malformed value is reported by the rule, never a
crash), what kind of RT object a plan or beam is (`rtconform.dicom.rt`), the
image plane (`rtconform.dicom.geometry`) and the Laterality condition of
PS3.3 C.7.3.1 (`rtconform.dicom.anatomy`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO

from rtconform.dicom.anatomy import laterality_condition
from rtconform.dicom.geometry import normal, slice_offset
from rtconform.dicom.index import Instance
from rtconform.dicom.rt import is_dosimetric, non_treatment_beam
from rtconform.dicom.values import (
    decimal_array,
    integer,
    items,
    number,
    numbers,
    text,
    uid_of,
)


def ds(**values) -> Dataset:
    out = Dataset()
    for keyword, value in values.items():
        setattr(out, keyword, value)
    return out


def raw(keyword: str, vr: str, value: bytes) -> Dataset:
    """A data set whose one element is still its encoded bytes, as read from
    a file (pydicom converts it on first access)."""
    from pydicom.datadict import tag_for_keyword
    from pydicom.dataelem import RawDataElement

    tag = tag_for_keyword(keyword)
    out = Dataset()
    out[tag] = RawDataElement(pydicom.tag.Tag(tag), vr, len(value), value, 0, False, True)
    return out


def test_accessors_answer_none_or_empty_for_what_is_absent_or_malformed() -> None:
    assert items(None, "BeamSequence") == [] and items(ds(), "BeamSequence") == []
    plan = ds(BeamSequence=[ds(BeamNumber=1), ds(BeamNumber=2)])
    assert [b.BeamNumber for b in items(plan, "BeamSequence")] == [1, 2]
    assert number(ds(SliceThickness="2.5"), "SliceThickness") == 2.5
    assert number(ds(SliceThickness=""), "SliceThickness") is None
    assert number(raw("SliceThickness", "DS", b"abc "), "SliceThickness") is None
    assert integer(ds(SliceThickness="3.0"), "SliceThickness") == 3
    assert integer(ds(SliceThickness="2.5"), "SliceThickness") is None  # not an integer
    assert numbers(ds(PixelSpacing=["0.5", "0.75"]), "PixelSpacing") == [0.5, 0.75]
    assert numbers(ds(SliceThickness="2"), "SliceThickness") == [2.0]  # one value: a list
    assert numbers(ds(), "PixelSpacing") is None
    assert text(ds(ROIName="  PTV "), "ROIName") == "PTV" and text(None, "ROIName") == ""
    ref = ds(ReferencedSOPInstanceUID="1.2.3")
    assert uid_of(ref) == "1.2.3" and uid_of(ds()) == ""


def test_decimal_array_reads_the_encoded_text_without_converting_it() -> None:
    contour = raw("ContourData", "DS", b"1.5\\-2\\3e1 ")
    array = decimal_array(contour)
    assert array.tolist() == [1.5, -2.0, 30.0]
    assert isinstance(contour.get_item(0x30060050).value, bytes)  # left as it was read
    assert decimal_array(raw("ContourData", "DS", b"1\\x\\3")) is None  # a value not a number
    assert decimal_array(raw("ContourData", "DS", b"1\\\\3")) is None  # an empty value
    assert decimal_array(raw("ContourData", "DS", b"  ")).size == 0
    assert decimal_array(ds(ContourData=["1", "2", "3"])).tolist() == [1.0, 2.0, 3.0]
    assert decimal_array(ds()) is None and decimal_array(None) is None


def test_a_contour_data_value_that_is_no_number_is_a_finding_not_a_crash(
        sample_dir: Path, tmp_path: Path) -> None:
    """numpy 2 raises where numpy 1 warned on text that is no number: the
    structure set rules then failed as internal errors (RULE-FAILED, a warning:
    the file passed) instead of judging the contour."""
    from pydicom.dataelem import RawDataElement

    from helpers import rule_ids, tro_findings

    source = next(sample_dir.glob("RS_*.dcm"))
    structure_set = pydicom.dcmread(source)
    contour = structure_set.ROIContourSequence[0].ContourSequence[0]
    value = b"1\\x\\3 "
    contour[0x30060050] = RawDataElement(pydicom.tag.Tag(0x30060050), "DS", len(value), value,
                                         0, False, True)
    contour.NumberOfContourPoints = 1
    structure_set.save_as(tmp_path / source.name)
    for other in sample_dir.glob("CT_*.dcm"):
        (tmp_path / other.name).write_bytes(other.read_bytes())
    found = rule_ids(tro_findings(tmp_path))
    assert "RULE-FAILED" not in found
    assert "SS-CONTOUR-POINT-COUNT" in found


def test_decimal_array_of_a_file_as_written() -> None:
    """Through a real encode/decode: what a rule gets from `read_header`."""
    source = ds(ContourData=[f"{v:g}" for v in np.arange(0, 300, 0.5)])
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    pydicom.filewriter.write_dataset(buffer, source)
    read = pydicom.filereader.read_dataset(DicomBytesIO(buffer.getvalue()), False, True)
    assert np.array_equal(decimal_array(read), np.arange(0, 300, 0.5))


def test_a_plan_with_metersets_is_dosimetric() -> None:
    geometric = ds(FractionGroupSequence=[ds(ReferencedBeamSequence=[ds(ReferencedBeamNumber=1)])])
    dosimetric = ds(FractionGroupSequence=[ds(ReferencedBeamSequence=[
        ds(ReferencedBeamNumber=1, BeamMeterset="120.5")])])
    assert not is_dosimetric(geometric) and is_dosimetric(dosimetric)
    assert not is_dosimetric(None) and not is_dosimetric(ds())


@pytest.mark.parametrize(("beam", "why"), [
    (ds(TreatmentDeliveryType="SETUP", BeamName="Field 1"), "Treatment Delivery Type SETUP"),
    (ds(TreatmentDeliveryType="TREATMENT", BeamName="kV CBCT"),
     "an imaging beam (BeamName 'kV CBCT': kV)"),
    (ds(TreatmentDeliveryType="TREATMENT", BeamName="Ant", BeamDescription="DRR anterior"),
     "an imaging beam (BeamDescription 'DRR anterior': DRR)"),
    (ds(TreatmentDeliveryType="TREATMENT", BeamName="Skvader arc"), None),  # words only
    (ds(TreatmentDeliveryType="TREATMENT", BeamName="Arc 1"), None),
])
def test_setup_and_imaging_beams_are_told_apart(beam: Dataset, why: str | None) -> None:
    assert non_treatment_beam(beam) == why


def image(position, orientation=(1, 0, 0, 0, 1, 0)) -> Instance:
    return Instance(Path("ct.dcm"), "1.2.840.10008.5.1.4.1.1.2", "1.2.3", "image",
                    position=position, orientation=orientation)


def test_slice_offset_is_the_position_along_the_plane_normal() -> None:
    assert normal((1, 0, 0, 0, 1, 0)).tolist() == [0, 0, 1]
    assert slice_offset(image((10.0, -5.0, 42.5))) == 42.5  # axial: z
    sagittal = image((7.0, 1.0, 2.0), orientation=(0, 1, 0, 0, 0, -1))
    assert slice_offset(sagittal) == -7.0  # normal (-1, 0, 0)
    assert slice_offset(image(None)) is None
    assert slice_offset(image((0, 0, 0), orientation=(1, 0, 0))) is None  # 3 values, not 6


@pytest.mark.parametrize(("attributes", "required", "reason"), [
    ({"BodyPartExamined": "BREAST"}, True, "Body Part Examined BREAST is a paired structure"),
    ({"BodyPartExamined": "PELVIS"}, False, "Body Part Examined PELVIS is not a paired"),
    ({"BodyPartExamined": "KNEE", "ImageLaterality": "L"}, False, "ImageLaterality is present"),
    ({"AnatomicRegionSequence": [ds(CodeMeaning="Left kidney")]}, True,
     "Anatomic Region Sequence names 'Left kidney', a paired structure"),
    ({"AnatomicRegionSequence": [ds(CodeMeaning="Prostate")]}, False,
     "Anatomic Region Sequence names 'Prostate', not a paired structure"),
    ({}, False, "neither Body Part Examined nor an Anatomic Region Sequence"),
])
def test_laterality_condition(attributes: dict, required: bool, reason: str) -> None:
    condition = laterality_condition(ds(**attributes))
    assert condition.required is required
    assert condition.reason.startswith(reason)


def test_frame_laterality_takes_the_place_of_laterality() -> None:
    enhanced = ds(BodyPartExamined="HAND", SharedFunctionalGroupsSequence=[
        ds(FrameAnatomySequence=[ds(FrameLaterality="R")])])
    assert not laterality_condition(enhanced).required

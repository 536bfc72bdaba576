"""The report's IOD annex (`rtconform.report.iods`), as a conformance
statement's RT tables give it: which modules of each IOD an object carries,
and every top-level attribute over all objects of one IOD with its values or
a summary, nested ones that a reader wants summarised, private ones listed
by creator. tests/report/test_report.py shows the annex of a real run."""

from __future__ import annotations

import pydicom
from pydicom.dataset import Dataset

from rtconform.dicom.uids import CT_IMAGE_STORAGE, RT_PLAN_STORAGE, RT_STRUCTURE_SET_STORAGE
from rtconform.report.iods import attribute_rows, module_table, private_attributes, summarise


def make(**values) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_module_status_present_partial_absent() -> None:
    ds = make(SOPClassUID=RT_PLAN_STORAGE, PatientName="Doe^Jane", PatientID="1",
              PatientBirthDate="", PatientSex="F", Modality="RTPLAN", BeamSequence=[])
    name, rows = module_table(ds)
    status = {row["module"]: row["status"] for row in rows}
    assert name == "RT Plan"
    assert status["Patient"] == "present"  # present even when empty (Type 2)
    assert status["RT Series"] == "partial"  # Modality alone of its three
    assert status["General Equipment"] == "absent"  # mandatory, missing
    assert status["RT Prescription"] == "not present"  # user optional, missing
    assert status["RT Beams"] == "present"
    assert module_table(make(SOPClassUID="1.2.3")) == ("", [])


def test_summarise_quotes_a_few_values_and_counts_many() -> None:
    assert summarise(["B", "A", "B"]) == '"A", "B"'
    assert summarise([str(i % 7) for i in range(20)]) == "20 values, 7 distinct"
    assert summarise([]) == ""


def test_attribute_rows_over_every_object_of_an_iod() -> None:
    def ct(number: int) -> Dataset:
        ds = make(SOPClassUID=CT_IMAGE_STORAGE, InstanceNumber=number, ImageType=["ORIGINAL",
                  "PRIMARY", "AXIAL"], PixelData=b"\0" * 8)
        ds.add_new(0x00091010, "LO", "vendor secret")  # private: listed apart
        return ds

    rows = {row["keyword"]: row for row in attribute_rows([ct(1), ct(2)], "CT Image")}
    assert rows["ImageType"]["summary"] == '"ORIGINAL\\PRIMARY\\AXIAL"'
    assert rows["ImageType"]["tag"] == "(0008,0008)" and rows["ImageType"]["vr"] == "CS"
    assert (rows["InstanceNumber"]["summary"], rows["InstanceNumber"]["objects"]) == (
        '"1", "2"', 2)
    assert "PixelData" not in rows and not any(k.startswith("(0009") for k in rows)
    assert private_attributes([ct(1)]) == [{"tag": "(0009,1010)", "creator": "", "vr": "LO"}]


def test_private_attributes_at_any_depth_with_the_creator_of_their_own_data_set(
        tmp_path) -> None:
    item = Dataset()
    item.add_new(0x30060022, "IS", "1")
    item.add_new(0x30990010, "LO", "ACME RT")  # the item's own private creator
    item.add_new(0x30991001, "DS", "2.5")
    ds = make(SOPClassUID=RT_STRUCTURE_SET_STORAGE)
    ds.StructureSetROISequence = [item]
    ds.add_new(0x00090010, "LO", "OTHER")
    for implicit in (False, True):  # as read back from a file: raw elements, VR known or not
        path = tmp_path / f"ss-{implicit}.dcm"
        ds.save_as(path, implicit_vr=implicit, little_endian=True)
        found = private_attributes([pydicom.dcmread(path, force=True)])
        assert {(f["tag"], f["creator"]) for f in found} == {
            ("(0009,0010)", ""), ("(3099,0010)", ""), ("(3099,1001)", "ACME RT")}, found


def test_nested_attributes_of_a_structure_set_are_summarised() -> None:
    contours = [make(ContourGeometricType="CLOSED_PLANAR") for _ in range(3)]
    ss = make(SOPClassUID=RT_STRUCTURE_SET_STORAGE,
              ROIContourSequence=[make(ContourSequence=contours),
                                  make(ContourSequence=[make(ContourGeometricType="POINT")])],
              RTROIObservationsSequence=[make(RTROIInterpretedType="PTV"),
                                         make(RTROIInterpretedType="ORGAN")])
    rows = {row["keyword"]: row for row in attribute_rows([ss], "RT Structure Set")}
    assert rows["ROIContourSequence"]["summary"] == '"2 item(s)"'
    nested = rows["ROIContourSequence.ContourSequence.ContourGeometricType"]
    assert (nested["summary"], nested["objects"]) == ('"CLOSED_PLANAR", "POINT"', 4)
    assert rows["RTROIObservationsSequence.RTROIInterpretedType"]["summary"] == (
        '"ORGAN", "PTV"')
    assert "StructureSetROISequence.ROIGenerationAlgorithm" not in rows  # none to summarise

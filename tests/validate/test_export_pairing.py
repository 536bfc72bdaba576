"""How `rtconform diff-export` pairs and compares two exports' objects
(`rtconform.diff_export`): what an object is apart from its UIDs, and which
tag paths differ, sequences item by item, UIDs and volatile attributes
aside. tests/validate/test_diff_export.py runs the command on re-exported trees."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.diff_export import VOLATILE, content_key, differences

PLAN = "1.2.840.10008.5.1.4.1.1.481.5"
DOSE = "1.2.840.10008.5.1.4.1.1.481.2"


def make(**values) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def beam_ref(number: int) -> Dataset:
    return make(ReferencedBeamNumber=number)


def dose(*beams: int, uid: str = "1.1") -> Dataset:
    group = make(ReferencedBeamSequence=[beam_ref(n) for n in beams])
    return make(SOPClassUID=DOSE, SOPInstanceUID=uid, Modality="RTDOSE",
                DoseSummationType="BEAM" if len(beams) == 1 else "PLAN",
                ReferencedRTPlanSequence=[make(ReferencedFractionGroupSequence=[group])])


def test_content_key_ignores_uids_and_tells_objects_apart() -> None:
    plan_a = make(SOPClassUID=PLAN, SOPInstanceUID="1.1", Modality="RTPLAN", RTPlanLabel="Prost")
    plan_b = make(SOPClassUID=PLAN, SOPInstanceUID="9.9", Modality="RTPLAN", RTPlanLabel="Prost")
    assert content_key(plan_a) == content_key(plan_b) == (PLAN, "RTPLAN", "Prost")
    assert content_key(dose(2, uid="1")) == content_key(dose(2, uid="2"))
    assert content_key(dose(1)) != content_key(dose(2))  # per-beam doses of one plan
    assert content_key(dose(2, 1))[-1] == (1, 2)  # beams in order
    ct = make(SOPClassUID="1.2.840.10008.5.1.4.1.1.2", Modality="CT", SeriesDescription="Ax",
              ImagePositionPatient=["0", "0", "-12.504"], InstanceNumber=3)
    assert content_key(ct)[2:] == ("Ax", (0.0, 0.0, -12.5), "3")


def test_differences_name_tag_paths_inside_sequences() -> None:
    old = make(SOPInstanceUID="1.1", RTPlanLabel="Prost", SoftwareVersions="1.0",
               BeamSequence=[make(BeamName="A", BeamNumber=1), make(BeamName="B", BeamNumber=2)])
    new = make(SOPInstanceUID="2.2", RTPlanLabel="Prost", SoftwareVersions="2.0",
               BeamSequence=[make(BeamName="A", BeamNumber=1), make(BeamName="B2", BeamNumber=2)],
               PlanIntent="CURATIVE")
    # in tag order: Plan Intent (300A,000A) before Beam Sequence (300A,00B0)
    assert differences(old, new, VOLATILE) == ["PlanIntent (added)", "BeamSequence[1].BeamName"]
    assert differences(new, old, VOLATILE) == ["PlanIntent (removed)", "BeamSequence[1].BeamName"]
    assert "SoftwareVersions" in differences(old, new, ())  # volatile only when said


def test_a_sequence_of_another_length_is_one_difference() -> None:
    old = make(BeamSequence=[make(BeamNumber=1)])
    new = make(BeamSequence=[make(BeamNumber=1), make(BeamNumber=2)])
    assert differences(old, new, VOLATILE) == ["BeamSequence (1 → 2 items)"]
    assert differences(old, old, VOLATILE) == []

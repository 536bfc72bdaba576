"""The instance store every receiving actor writes (`rtconform.actors.storage`),
without a network: files named only from valid UIDs, duplicates by policy, an
index that survives a restart, leftovers of a killed writer removed, objects
by content written once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from rtconform.actors.storage import InstanceStore, StoreError, remove_partials

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def instance(sop_uid: str, study: str = "1.2.3", series: str = "1.2.3.4", number: int = 1,
             name: str = "Doe^Jane") -> Dataset:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = CT, sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.Modality, ds.InstanceNumber = name, "P1", "CT", number
    return ds


@pytest.fixture
def store(tmp_path: Path):
    opened = InstanceStore(tmp_path / "store", objects=None)
    yield opened
    opened.close()


def test_stored_bytes_are_on_disk_by_uid_and_indexed(store: InstanceStore) -> None:
    outcome = store.store(b"first bytes", instance("1.2.3.4.5"), EXPLICIT_LE, "SENDER")
    assert outcome.path == store.folder / "1.2.3" / "1.2.3.4" / "1.2.3.4.5.dcm"
    assert outcome.path.read_bytes() == b"first bytes" and outcome.duplicate == ""
    [row] = store.rows()
    assert (row["patient_name"], row["modality"], row["calling_ae"], row["transfer_syntax"]) == (
        "Doe^Jane", "CT", "SENDER", EXPLICIT_LE)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")  # the point of the test
def test_a_uid_that_is_no_uid_never_becomes_a_path(store: InstanceStore) -> None:
    hostile = instance("../../etc/passwd", study="1.2.3/../../x", series="1.2.3.4")
    path = store.store(b"x", hostile, EXPLICIT_LE).path
    assert path.resolve().is_relative_to(store.folder.resolve())
    assert path.parent.parent.name.startswith("study-") and path.name.startswith("instance-")


def test_duplicates_follow_the_policy(tmp_path: Path) -> None:
    for policy, second, status in (("keep", b"first", "kept"),
                                   ("overwrite", b"second", "overwritten")):
        store = InstanceStore(tmp_path / policy, duplicate_policy=policy, objects=None)
        store.store(b"first", instance("1.2.9"), EXPLICIT_LE)
        outcome = store.store(b"second", instance("1.2.9"), EXPLICIT_LE)
        assert (outcome.duplicate, outcome.path.read_bytes(), store.count()) == (status, second, 1)
        store.close()
    strict = InstanceStore(tmp_path / "reject", duplicate_policy="reject", objects=None)
    strict.store(b"first", instance("1.2.9"), EXPLICIT_LE)
    with pytest.raises(StoreError) as refused:
        strict.store(b"second", instance("1.2.9"), EXPLICIT_LE)
    assert refused.value.status == 0x0111  # PS3.7 C.4.2.1.4: duplicate SOP Instance
    strict.close()
    with pytest.raises(ValueError, match="duplicate policy must be one of"):
        InstanceStore(tmp_path / "bad", duplicate_policy="maybe")


def test_no_sop_instance_uid_is_refused_with_a_status(store: InstanceStore) -> None:
    with pytest.raises(StoreError) as refused:
        store.store(b"x", instance(""), EXPLICIT_LE)
    assert refused.value.status == 0xA900 and store.count() == 0


def test_the_index_survives_a_restart_and_partials_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    first = InstanceStore(folder, objects=None)
    for k in (2, 10, 1):  # rows come back in instance number order, numerically
        first.store(f"{k}".encode(), instance(f"1.2.3.4.{k}", number=k), EXPLICIT_LE)
    first.close()
    leftover = folder / "1.2.3" / ".incoming-abc.part"
    leftover.write_bytes(b"half an object")
    again = InstanceStore(folder, objects=None)
    assert [r["instance_number"] for r in again.rows()] == ["1", "2", "10"]
    assert again.removed_partials == [leftover] and not leftover.exists()
    again.close()
    assert remove_partials(tmp_path / "absent") == []


def test_objects_by_content_are_written_once(tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    a = InstanceStore(tmp_path / "a", objects=objects)
    b = InstanceStore(tmp_path / "b", objects=objects)
    path_a = a.store(b"same bytes", instance("1.2.7"), EXPLICIT_LE).path
    path_b = b.store(b"same bytes", instance("1.2.7"), EXPLICIT_LE).path
    assert path_a == path_b and path_a.is_relative_to(objects)
    assert len(list(objects.rglob("*.dcm"))) == 1
    a.close()
    b.close()

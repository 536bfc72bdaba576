"""The Archive against real dcmtk clients, and its behaviour on bad input."""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from peers import dcmtk, dcmtk_run, free_port, running, send_raw_c_store
from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import Peer, ServiceUser, identifier
from rtconform.actors.recorder import AssociationRecorder, read_associations, read_events
from rtconform.dicom.uids import DEFAULT_UID_ROOT, derived_uid


@pytest.fixture
def recorder(tmp_path) -> AssociationRecorder:
    return AssociationRecorder(tmp_path / "associations.jsonl")


@pytest.fixture
def archive(tmp_path, recorder):
    arc = Archive(ArchiveConfig(store_dir=tmp_path / "store"), recorder)
    arc.start()
    yield arc
    arc.stop()


def _studies(port: int) -> list[str]:
    out = dcmtk_run("findscu", "-S", "-aec", "ARCHIVE", "-k", "QueryRetrieveLevel=STUDY",
                    "-k", "StudyInstanceUID", "-k", "PatientID", "-k", "ModalitiesInStudy",
                    "-k", "NumberOfStudyRelatedInstances", "127.0.0.1", str(port))
    assert out.returncode == 0, out.stderr
    return _study_uids(out.stderr)


def _study_uids(findscu_output: str) -> list[str]:
    """The Study Instance UIDs findscu printed, one per answered study."""
    return [line.split("[", 1)[1].split("]", 1)[0] for line in findscu_output.splitlines()
            if "StudyInstanceUID" in line and "UI [" in line]


def test_the_study_check_can_fail():
    one = "(0020,000d) UI [1.2.3]   #   6, 1 StudyInstanceUID\n"
    two = one + "(0020,000d) UI [1.2.4]   #   6, 1 StudyInstanceUID\n"
    assert _study_uids(one) == ["1.2.3"] and _study_uids(two) != ["1.2.3"]
    assert _study_uids("(0010,0020) LO [RTC-PHANTOM-0001] # PatientID") == []


def test_dcmtk_store_find_move_get_and_restart(tmp_path, recorder, sample_dir):
    store_dir = tmp_path / "store"
    storescp_port = free_port()
    config = ArchiveConfig(store_dir=store_dir,
                           move_destinations={"STORESCP": ("127.0.0.1", storescp_port)})
    archive = Archive(config, recorder)
    port = archive.start().port
    try:
        out = dcmtk_run("storescu", "-aec", "ARCHIVE", "+sd", "+r", "127.0.0.1", str(port),
                        str(sample_dir))
        assert out.returncode == 0, out.stderr
        assert archive.store.count() == 64
        sample_study = str(pydicom.dcmread(sample_dir / "CT_001.dcm").StudyInstanceUID)
        assert _studies(port) == [sample_study]  # one study, exactly the sample's

        received = tmp_path / "storescp"
        received.mkdir()
        with running([dcmtk("storescp"), "-aet", "STORESCP", "-od", str(received),
                      str(storescp_port)], storescp_port, tmp_path / "storescp.log"):
            out = dcmtk_run("movescu", "-S", "-aec", "ARCHIVE", "-aem", "STORESCP", "-k",
                            "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={sample_study}",
                            "127.0.0.1", str(port))
            assert out.returncode == 0, out.stderr
        assert len(list(received.iterdir())) == 64

        got = tmp_path / "getscu"
        got.mkdir()
        out = dcmtk_run("getscu", "-S", "-aec", "ARCHIVE", "-od", str(got), "-k",
                        "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={sample_study}",
                        "-k", "SeriesInstanceUID=" + str(pydicom.dcmread(
                            sample_dir / "RS_structure_set.dcm").SeriesInstanceUID),
                        "127.0.0.1", str(port))
        assert out.returncode == 0, out.stderr
        assert len(list(got.iterdir())) == 1
    finally:
        archive.stop()

    restarted = Archive(ArchiveConfig(store_dir=store_dir), recorder)
    port = restarted.start().port
    try:
        assert restarted.store.count() == 64
        (study,) = _studies(port)
        assert sample_study in study
    finally:
        restarted.stop()
    # the log shows dcmtk's own identity, contexts and statuses
    records = read_associations(recorder.path)
    storescu = next(r for r in records if r.calling_ae == "STORESCU")
    assert storescu.peer["implementation_version_name"].startswith("OFFIS_DCMTK")
    assert storescu.statuses("C-STORE-RSP").count("0x0000") == 64
    assert any(c["result"] == "accepted" for c in storescu.contexts)
    assert len(storescu.stored) == 64 and all(Path(s["path"]).is_file()
                                              for s in storescu.stored)


def _dataset_bytes(path: Path) -> bytes:
    """A Part 10 file's bytes after its file meta group (whose length it states)."""
    data = path.read_bytes()
    group_length = int.from_bytes(data[140:144], "little")  # (0002,0000) UL after 'DICM'
    return data[144 + group_length:]


def test_received_bytes_are_kept_as_sent(archive, sample_dir):
    user = ServiceUser("CONTOURER", archive.recorder, "Contourer")
    user.store(archive.peer, [sample_dir / "RS_structure_set.dcm"])
    (path,) = archive.store.paths()
    # storage level 2, byte for byte: the dataset as sent (same transfer syntax)
    assert _dataset_bytes(path) == _dataset_bytes(sample_dir / "RS_structure_set.dcm")
    assert pydicom.dcmread(path) == pydicom.dcmread(sample_dir / "RS_structure_set.dcm")
    # control: one byte changed in the dataset is seen
    changed = bytearray(path.read_bytes())
    changed[-1] ^= 0x01
    (archive.store.folder / "changed.dcm").write_bytes(bytes(changed))
    assert _dataset_bytes(archive.store.folder / "changed.dcm") != \
        _dataset_bytes(sample_dir / "RS_structure_set.dcm")


def test_find_matching_kinds(archive, sample_dir):
    user = ServiceUser("FINDER", archive.recorder, "test")
    user.store(archive.peer, sorted(sample_dir.glob("*.dcm")))

    def find(level, **keys):
        result = user.find(archive.peer, identifier(level, **keys))
        assert result.ok
        return result.datasets

    assert len(find("PATIENT", PatientID="RTC-*", PatientName="")) == 1  # wildcard
    assert len(find("PATIENT", PatientID="nobody")) == 0  # single value
    assert len(find("STUDY", StudyDate="20250101-20261231", StudyInstanceUID="")) == 1
    assert len(find("STUDY", StudyDate="-20200101")) == 0  # range
    series = find("SERIES", Modality="", SeriesInstanceUID="", StudyInstanceUID="",
                  NumberOfSeriesRelatedInstances="")
    assert sorted(s.Modality for s in series) == ["CT", "RTDOSE", "RTPLAN", "RTSTRUCT"]
    assert {s.Modality: int(s.NumberOfSeriesRelatedInstances) for s in series}["CT"] == 60
    uids = "\\".join(str(s.SeriesInstanceUID) for s in series[:2])
    assert len(find("SERIES", SeriesInstanceUID=uids)) == 2  # UID list
    images = find("IMAGE", StudyInstanceUID=str(series[0].StudyInstanceUID),
                  SeriesInstanceUID=str(series[0].SeriesInstanceUID), SOPInstanceUID="",
                  SOPClassUID="")
    expected = int(series[0].NumberOfSeriesRelatedInstances)
    assert expected >= 1 and len(images) == expected
    assert all(i.SOPClassUID and i.SOPInstanceUID for i in images)
    assert len(find("STUDY", ModalitiesInStudy="RTDOSE", StudyInstanceUID="")) == 1
    assert len(find("STUDY", ModalitiesInStudy="MR", StudyInstanceUID="")) == 0


def test_unknown_calling_ae_is_rejected(tmp_path, recorder):
    config = ArchiveConfig(store_dir=tmp_path / "s", allow=["CONTOURER"])
    with Archive(config, recorder) as archive:
        ok = ServiceUser("CONTOURER", recorder, "Contourer").echo(archive.peer)
        assert ok.ok
        with pytest.raises(Exception, match="rejected the association"):
            ServiceUser("INTRUDER", recorder, "test").echo(archive.peer)
    rejected = [r for r in read_associations(recorder.path)
                if r.outcome == "rejected" and r.actor == "Archive"]
    assert rejected and rejected[0].calling_ae == "INTRUDER"
    assert rejected[0].reject["reason"] == "Calling AE title not recognised"


def test_unsupported_sop_class_context_is_rejected(archive, recorder):
    ae = AE("PROBE")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.88.22")  # Enhanced SR: not supported
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", archive.peer.port, ae_title="ARCHIVE")
    assert assoc.is_established
    assoc.release()
    (record,) = [r for r in read_associations(recorder.path) if r.calling_ae == "PROBE"
                 and r.actor == "Archive"]
    results = {c["abstract_syntax"]: c["result"] for c in record.contexts}
    assert results["1.2.840.10008.5.1.4.1.1.88.22"] == "abstract-syntax-not-supported"
    assert results["1.2.840.10008.1.1"] == "accepted"


def test_corrupt_dataset_gets_failure_status_and_archive_keeps_serving(archive, recorder):
    # SOP Instance UID, then an element claiming 0x1000 bytes where 3 follow
    payload = struct.pack("<HH2sH", 0x0008, 0x0018, b"UI", 8) + b"1.2.3.4\0" + \
        struct.pack("<HH2sH", 0x300A, 0x0002, b"SH", 0x1000) + b"abc"
    assert send_raw_c_store(archive.peer.port, payload, "1.2.3.4") == 0xC210
    stored = [e for e in read_events(recorder.path) if e["event"] == "stored"]
    assert stored[-1]["status"] == "0xC210" and "truncated" in stored[-1]["reason"]
    assert archive.store.count() == 0
    assert ServiceUser("AFTER", recorder, "test").echo(archive.peer).ok


def test_peer_abort_mid_transfer_is_recorded(archive, recorder, sample_dir):
    ae = AE("MIDWAY")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", archive.peer.port, ae_title="ARCHIVE")
    assert assoc.is_established
    # Half a C-STORE: a P-DATA-TF PDU that announces 400 more bytes than it
    # carries, then the connection drops, as when a sender dies mid-transfer.
    sock = assoc.dul.socket.socket
    pdv = struct.pack(">IBB", 1000, assoc.accepted_contexts[0].context_id, 0x00) + b"\0" * 50
    sock.sendall(struct.pack(">BBI", 0x04, 0x00, len(pdv) + 400) + pdv)
    time.sleep(0.2)
    sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
            r.outcome == "aborted" and r.calling_ae == "MIDWAY"
            for r in read_associations(recorder.path)):
        time.sleep(0.1)
    assert any(r.outcome == "aborted" and r.calling_ae == "MIDWAY" and r.actor == "Archive"
               for r in read_associations(recorder.path))
    assert archive.store.count() == 0  # nothing half-received was kept
    result = ServiceUser("AFTER", recorder, "test").store(archive.peer,
                                                          [sample_dir / "CT_001.dcm"])
    assert result.ok and archive.store.count() == 1


def test_eleventh_association_is_rejected_and_recorded(tmp_path, recorder):
    config = ArchiveConfig(store_dir=tmp_path / "s", max_associations=10)
    with Archive(config, recorder) as archive:
        held = []
        for i in range(10):
            ae = AE(f"HOLD{i}")
            ae.add_requested_context("1.2.840.10008.1.1")
            assoc = ae.associate("127.0.0.1", archive.peer.port, ae_title="ARCHIVE")
            assert assoc.is_established
            held.append(assoc)
        ae = AE("ELEVENTH")
        ae.add_requested_context("1.2.840.10008.1.1")
        eleventh = ae.associate("127.0.0.1", archive.peer.port, ae_title="ARCHIVE")
        assert eleventh.is_rejected
        for assoc in held:
            assoc.release()
        assert ServiceUser("TWELFTH", recorder, "test").echo(archive.peer).ok
    (rejected,) = [r for r in read_associations(recorder.path) if r.outcome == "rejected"]
    assert rejected.calling_ae == "ELEVENTH" and "limit" in (rejected.reject["reason"] or "")


@pytest.mark.parametrize("policy,second_status,label", [
    ("keep", 0x0000, "RTC geometric"), ("overwrite", 0x0000, "changed"),
    ("reject", 0x0111, "RTC geometric")])
def test_duplicate_policy(tmp_path, recorder, sample_dir, policy, second_status, label):
    config = ArchiveConfig(store_dir=tmp_path / "s", duplicate_policy=policy)
    plan = pydicom.dcmread(sample_dir / "RP_geometric.dcm")
    with Archive(config, recorder) as archive:
        user = ServiceUser("DUP", recorder, "test")
        assert user.store(archive.peer, [plan]).statuses == [0]
        plan.RTPlanLabel = "changed"
        assert user.store(archive.peer, [plan]).statuses == [second_status]
        (path,) = archive.store.paths()
        assert pydicom.dcmread(path).RTPlanLabel == label
    stored = [e for e in read_events(recorder.path) if e["event"] == "stored"]
    assert stored[-1]["status"] == f"0x{second_status:04X}"


def test_invalid_uid_never_becomes_a_path(archive, recorder, sample_dir):
    plan = pydicom.dcmread(sample_dir / "RP_geometric.dcm")
    plan.StudyInstanceUID = "../../etc"
    plan.SeriesInstanceUID = "1.2.3/../../x"
    ServiceUser("EVIL", recorder, "test").store(archive.peer, [plan])
    (path,) = archive.store.paths()
    assert path.resolve().is_relative_to(archive.store.folder.resolve())
    assert ".." not in path.relative_to(archive.store.folder).as_posix()


def test_concurrent_senders_lose_nothing(tmp_path, recorder, sample_dir):
    cts = sorted(sample_dir.glob("CT_*.dcm"))[:10]
    config = ArchiveConfig(store_dir=tmp_path / "s", max_associations=10)
    with Archive(config, recorder) as archive:
        errors = []

        def send(i):
            datasets = []
            for ct in cts:
                ds = pydicom.dcmread(ct)
                ds.SOPInstanceUID = derived_uid(DEFAULT_UID_ROOT, ds.SOPInstanceUID, i)
                datasets.append(ds)
            result = ServiceUser(f"SENDER{i}", recorder, "test").store(archive.peer, datasets)
            if not result.ok:
                errors.append(result.statuses)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors
        acked = [e for e in read_events(recorder.path)
                 if e["event"] == "stored" and e["status"] == "0x0000"]
        assert archive.store.count() == len(acked) == 50
        assert all(Path(e["path"]).is_file() for e in acked)


def test_peer_parse():
    assert Peer.parse("PLANNER=127.0.0.1:104") == Peer("PLANNER", "127.0.0.1", 104)
    with pytest.raises(ValueError):
        Peer.parse("nonsense")

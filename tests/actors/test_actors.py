"""The TRO actors over real associations: among themselves, against Orthanc,
against dcmtk's storescp and dcmqrscp, and from the command line."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pydicom
import pytest

from helpers import require
from peers import dcmtk, dcmtk_run, fill_template, free_port, running
from rtconform.actors.contourer import Contourer
from rtconform.actors.flow import reference_flow
from rtconform.actors.node import Peer, ServiceUser, identifier
from rtconform.actors.recorder import AssociationRecorder, read_associations
from rtconform.phantom.sets import build_sample

ACTORS = {"Archive", "Contourer", "Geometric Planner", "Dosimetric Planner", "Dose Displayer"}


@pytest.mark.parametrize("method", ["get", "move"])
def test_full_tro_flow_among_the_reference_actors(tmp_path, method, monkeypatch):
    scratch = tmp_path / "tmp"  # where pynetdicom's chunked receive writes
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = reference_flow(tmp_path / "flow", method)
    # every received data set was copied into a store and its temporary file removed
    # (pynetdicom leaves those of a C-GET association behind)
    assert list(scratch.iterdir()) == []
    assert result.archive_count == 64  # 60 CT + structure set + 2 plans + plan dose
    assert result.displayed.findings == []  # the displayed set is complete and conformant
    records = read_associations(result.log)
    assert {r.actor for r in records} >= ACTORS
    for record in records:
        assert record.outcome == "released", record
        assert record.contexts and any(c["result"] == "accepted" for c in record.contexts)
        assert record.peer["implementation_version_name"].startswith("RTCONFORM")
        responses = [d for d in record.dimse if d["command"].endswith("-RSP")]
        # every response carries a status, and the flow ends each operation in Success
        assert _statuses_ok(responses), responses
        finals = [d["status"] for d in responses if d["status"] not in ("0xFF00", "0xFF01")]
        assert finals and set(finals) == {"0x0000"}, finals
    stores = [r for r in records if r.actor == "Archive" and r.direction == "inbound"
              and r.stored]
    produced = {s["sop_class"] for r in stores for s in r.stored}
    assert {"1.2.840.10008.5.1.4.1.1.481.3", "1.2.840.10008.5.1.4.1.1.481.5",
            "1.2.840.10008.5.1.4.1.1.481.2"} <= produced
    retrieve = "C-GET-RQ" if method == "get" else "C-MOVE-RQ"
    callers = {r.calling_ae for r in records if any(d["command"] == retrieve for d in r.dimse)}
    assert callers == {"CONTOURER", "GEOPLANNER", "DOSPLANNER", "DOSEDISPLAY"}


@pytest.fixture
def orthanc(tmp_path, shared_dir):
    """A real Orthanc on free ports; its C-MOVE destination HARNESS is filled in
    by the test through the returned function."""
    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    require(Path(executable).is_file(), "Orthanc not installed (apt-get install orthanc)")
    started = []

    def start(move_port: int) -> Peer:
        dicom_port, http_port = free_port(), free_port()
        store = tmp_path / "orthanc-store"
        store.mkdir()
        config = fill_template(shared_dir / "peers" / "orthanc.json", tmp_path / "orthanc.json",
                               STORE=store, DICOM_PORT=dicom_port, HTTP_PORT=http_port,
                               MOVE_PORT=move_port)
        ctx = running([executable, str(config)], dicom_port, tmp_path / "orthanc.log")
        ctx.__enter__()
        started.append(ctx)
        return Peer("ORTHANC", "127.0.0.1", dicom_port)

    yield start
    for ctx in started:
        ctx.__exit__(None, None, None)


def test_contourer_against_orthanc(tmp_path, orthanc):
    recorder = AssociationRecorder(tmp_path / "associations.jsonl")
    contourer = Contourer(recorder, tmp_path / "contourer", ae_title="HARNESS", method="move")
    receiver = contourer.start_receiver(tmp_path / "contourer" / "received")
    try:
        peer = orthanc(receiver.port)
        sample = build_sample()
        images = [ds for n, ds in sample.datasets.items() if n.startswith("CT_")]
        study = str(images[0].StudyInstanceUID)
        assert ServiceUser("MODALITY", recorder, "Image Source").store(peer, images).ok

        # RO-1 by C-MOVE to ourselves, contour, RO-2 C-STORE to Orthanc
        structure_set = contourer.run(peer, study)

        found = contourer.find(peer, identifier("SERIES", StudyInstanceUID=study, Modality="",
                                                SeriesInstanceUID=""))
        assert found.ok and sorted(s.Modality for s in found.datasets) == ["CT", "RTSTRUCT"]

        # C-GET the structure set back: unchanged
        getter = Contourer(recorder, tmp_path / "getter", ae_title="GETTER", method="get")
        (back,) = getter.retrieve_modality(peer, study, "RTSTRUCT")
        for ds in (back, structure_set):
            ds.file_meta = pydicom.dataset.FileMetaDataset()
        assert back == structure_set
    finally:
        contourer.stop_receiver()
    records = read_associations(recorder.path)
    orthanc_side = [r for r in records if r.direction == "outbound"]
    assert {r.peer["ae_title"] for r in orthanc_side} == {"ORTHANC"}
    moves = [d for r in records for d in r.dimse if d["command"] == "C-MOVE-RSP"]
    assert moves and moves[-1]["status"] == "0x0000"
    inbound = [r for r in records if r.direction == "inbound"]  # Orthanc's sub-association
    assert sum(len(r.stored) for r in inbound) == 60


def test_our_store_to_dcmtk_storescp(tmp_path, sample_dir):
    port = free_port()
    received = tmp_path / "in"
    received.mkdir()
    recorder = AssociationRecorder(tmp_path / "a.jsonl")
    with running([dcmtk("storescp"), "-aet", "STORESCP", "-od", str(received), str(port)],
                 port, tmp_path / "storescp.log"):
        result = ServiceUser("CONTOURER", recorder, "Contourer").store(
            Peer("STORESCP", "127.0.0.1", port), sorted(sample_dir.glob("*.dcm")))
    assert result.ok and len(result.statuses) == 64
    assert len(list(received.iterdir())) == 64
    (record,) = read_associations(recorder.path)
    assert record.peer["implementation_version_name"].startswith("OFFIS_DCMTK")


def test_query_retrieve_from_dcmtk_dcmqrscp(tmp_path, shared_dir, sample_dir):
    port = free_port()
    store = tmp_path / "qr"
    store.mkdir()
    recorder = AssociationRecorder(tmp_path / "a.jsonl")
    user = ServiceUser("HARNESS", recorder, "Dose Displayer")
    receiver = user.start_receiver(tmp_path / "moved")
    config = fill_template(shared_dir / "peers" / "dcmqrscp.cfg", tmp_path / "dcmqrscp.cfg",
                           PORT=port, MOVE_PORT=receiver.port, STORE=store)
    peer = Peer("DCMQRSCP", "127.0.0.1", port)
    study = str(pydicom.dcmread(sample_dir / "CT_001.dcm").StudyInstanceUID)
    try:
        with running([dcmtk("dcmqrscp"), "-c", str(config)], port, tmp_path / "dcmqrscp.log"):
            assert user.store(peer, sorted(sample_dir.glob("*.dcm"))).ok
            found = user.find(peer, identifier("STUDY", StudyInstanceUID="", PatientID=""))
            assert [str(ds.StudyInstanceUID) for ds in found.datasets] == [study]
            moved = user.move(peer, identifier("STUDY", StudyInstanceUID=study))
            assert moved.ok, moved.message
            assert user.receiver_store.count() == 64
            got = user.get(peer, identifier("STUDY", StudyInstanceUID=study), tmp_path / "got")
            assert got.ok, got.message
            assert len(list((tmp_path / "got").rglob("*.dcm"))) == 64
    finally:
        user.stop_receiver()


def test_simulate_archive_cli_serves_until_interrupted(tmp_path, sample_dir):
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtconform", "simulate", "archive", "--port", "0", "--store",
         str(tmp_path / "store")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"ARCHIVE@127\.0\.0\.1:(\d+)", line)[1])
        out = dcmtk_run("storescu", "-aec", "ARCHIVE", "127.0.0.1", str(port),
                        str(sample_dir / "RS_structure_set.dcm"))
        assert out.returncode == 0, out.stderr
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Archive stopped" in stdout
    assert (tmp_path / "store" / "associations.jsonl").is_file()
    assert len(list((tmp_path / "store").rglob("*.dcm"))) == 1


def test_unreachable_peer_exits_2_with_its_address(tmp_path):
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "rtconform", "simulate", "contourer", "echo", "--aec", "SUT",
         "127.0.0.1", str(port), "--out", str(tmp_path)], capture_output=True, text=True,
        timeout=60)
    assert proc.returncode == 2
    assert f"SUT@127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


def test_sub_operations_are_counted_by_their_sop_class():
    """harness_sent's count can fail: a CT sub-operation is not an RT Structure
    Set one, and a failed response is not a delivery."""
    from rtconform.actors.recorder import AssociationRecord

    ct, ss = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.481.3"

    def exchange(message_id, sop_class, status):
        return [{"command": "C-STORE-RQ", "direction": "sent", "message_id": message_id,
                 "sop_class": sop_class, "sop_instance": f"1.2.{message_id}"},
                {"command": "C-STORE-RSP", "direction": "received", "message_id": message_id,
                 "sop_class": "", "status": status}]

    record = AssociationRecord("a1", dimse=exchange(1, ct, "0x0000") + exchange(2, ss, "0x0000")
                               + exchange(3, ct, "0xA700"))
    assert record.stores_sent(ct) == 1 and record.stores_sent(ss) == 1
    assert record.stores_sent(ct, "0xA700") == 1


def test_query_identifiers_are_in_the_log(tmp_path, sample_dir):
    """The association log keeps what was asked and what was answered."""
    from rtconform.actors.archive import Archive, ArchiveConfig
    from rtconform.actors.node import ServiceUser, identifier
    from rtconform.actors.recorder import AssociationRecorder, read_associations

    recorder = AssociationRecorder(tmp_path / "log.jsonl")
    with Archive(ArchiveConfig(store_dir=tmp_path / "store"), recorder) as archive:
        user = ServiceUser("FINDER", recorder, "test")
        user.store(archive.peer, [sample_dir / "RS_structure_set.dcm"])
        result = user.find(archive.peer, identifier("SERIES", StudyInstanceUID="",
                                                    Modality="RTSTRUCT", SeriesInstanceUID=""))
    assert result.ok and len(result.datasets) == 1
    (record,) = [r for r in read_associations(recorder.path) if r.identifiers]
    sent, answered = record.identifiers
    assert sent["command"] == "C-FIND-RQ" and sent["keys"]["Modality"] == "RTSTRUCT"
    assert answered["command"] == "C-FIND-RSP"
    assert answered["keys"]["SeriesInstanceUID"] == str(result.datasets[0].SeriesInstanceUID)


def _statuses_ok(responses: list[dict]) -> bool:
    """Every response carries a DICOM status (four hex digits)."""
    return bool(responses) and all(re.fullmatch(r"0x[0-9A-F]{4}", d.get("status") or "")
                                   for d in responses)


def test_the_status_check_can_fail():
    assert _statuses_ok([{"status": "0x0000"}, {"status": "0xFF00"}])
    assert not _statuses_ok([{"status": None}])  # a response without a status
    assert not _statuses_ok([{"status": "success"}])  # any truthy string is not a status
    assert not _statuses_ok([])

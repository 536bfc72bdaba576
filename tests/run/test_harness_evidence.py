"""What the harness sends and how it reads answers: UIDs unique to a run and a
scenario (a non-conformant variant is a new instance), C-FIND answers checked
against PS3.4, a failed association said as the wire showed it, and a changed
object shown with both values."""

from __future__ import annotations

import socket
import threading

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import CTImageStorage, Verification

from peers import free_port
from rtconform.actors.node import (
    AssociationAborted,
    AssociationRejected,
    ContextsRejected,
    NoAnswer,
    Peer,
    ServiceUser,
    Timeouts,
    identifier,
)
from rtconform.actors.query import answer_problems, response_problems
from rtconform.actors.recorder import AssociationRecorder, read_associations
from rtconform.dicom.compare import differences
from rtconform.phantom.faults import FAULTS
from rtconform.phantom.sets import build_sample
from rtconform.phantom.variants import UidScope, identity_uids, renew_changed
from rtconform.run.evidence import describe


def _series(uid: str, level: str = "SERIES") -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel, ds.SeriesInstanceUID, ds.Modality = level, uid, "CT"
    return ds


def test_c_find_answers_are_checked_against_ps3_4():
    request = identifier("SERIES", StudyInstanceUID="1.2", Modality="CT", SeriesInstanceUID="")
    assert response_problems(request, [_series("1.2.3"), _series("1.2.4")]) == []
    (dup,) = response_problems(request, [_series("1.2.3")] * 60)
    assert dup.startswith("ARCHIVE-FIND-DUPLICATE: 60 responses for 1 series entity")
    assert "PS3.4 C.4.1.3.1.1" in dup
    (level,) = response_problems(request, [_series("1.2.3", "IMAGE")])
    assert level.startswith("ARCHIVE-FIND-LEVEL: 1 response(s) at IMAGE level")
    (missing,) = response_problems(request, [_series("")])
    assert missing.startswith("ARCHIVE-FIND-UNIQUE-KEY")
    below = _series("1.2.3")
    below.SOPInstanceUID = "1.2.3.4"
    (leaked,) = response_problems(request, [below])
    assert "SOPInstanceUID" in leaked


def test_a_find_answer_must_hold_the_stored_entity_and_match_its_key():
    held = Dataset()
    held.StudyInstanceUID, held.PatientName = "1.2.3", "RTCONFORM^Phantom"
    study = Dataset()
    study.StudyInstanceUID, study.PatientName = "1.2.3", "RTCONFORM^Phantom"
    other = Dataset()
    other.StudyInstanceUID, other.PatientName = "1.2.9", "SOMEONE^Else"
    assert answer_problems("STUDY", "PatientName", "RTCO*", held, [study]) == []
    assert len(answer_problems("STUDY", "PatientName", "RTCO*", held, [])) == 1
    (wrong,) = answer_problems("STUDY", "PatientName", "RTCO*", held, [study, other])
    assert "SOMEONE^Else" in wrong and "does not match" in wrong


def test_a_fault_variant_is_a_new_instance_with_references_kept():
    base = build_sample(seed="s1")
    variant = build_sample(seed="s1")
    FAULTS["contour-off-plane"].apply(variant)
    mapping = renew_changed(base.datasets, variant.datasets, base.uid_root, "s1/fault")
    ss_base, ss_variant = (s.datasets["RS_structure_set.dcm"] for s in (base, variant))
    assert str(ss_variant.SOPInstanceUID) != str(ss_base.SOPInstanceUID)
    assert str(ss_variant.SeriesInstanceUID) != str(ss_base.SeriesInstanceUID)  # its own series
    assert ss_variant.file_meta.MediaStorageSOPInstanceUID == ss_variant.SOPInstanceUID
    # the plans that reference it follow, and being changed so, are new instances too
    plan = variant.datasets["RP_geometric.dcm"]
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == \
        ss_variant.SOPInstanceUID
    assert str(plan.SOPInstanceUID) != str(base.datasets["RP_geometric.dcm"].SOPInstanceUID)
    # what the fault did not touch keeps its UIDs: the CT it is drawn on
    assert variant.datasets["CT_001.dcm"].SOPInstanceUID == \
        base.datasets["CT_001.dcm"].SOPInstanceUID
    assert set(mapping) >= {str(ss_base.SOPInstanceUID)}
    # deterministic: the same label gives the same UIDs
    again = build_sample(seed="s1")
    FAULTS["contour-off-plane"].apply(again)
    renew_changed(base.datasets, again.datasets, base.uid_root, "s1/fault")
    assert again.datasets["RS_structure_set.dcm"].SOPInstanceUID == ss_variant.SOPInstanceUID


def test_each_seed_and_scope_has_uids_of_its_own():
    one, two = build_sample(seed="a"), build_sample(seed="b")
    assert not identity_uids(one.datasets.values()) & identity_uids(two.datasets.values())
    assert identity_uids(build_sample(seed="a").datasets.values()) == \
        identity_uids(one.datasets.values())
    scope = UidScope(one.uid_root, "a/scenario")
    scope.learn(one.datasets.values())
    ss = scope.copy(one.datasets["RS_structure_set.dcm"])
    ct = scope.copy(one.datasets["CT_001.dcm"])
    contour_image = ss.ROIContourSequence[0].ContourSequence[0].ContourImageSequence[0]
    assert contour_image.ReferencedSOPInstanceUID in identity_uids(
        scope.copy(d) for n, d in one.datasets.items() if n.startswith("CT_"))
    assert ct.StudyInstanceUID == ss.StudyInstanceUID != one.datasets["CT_001.dcm"].\
        StudyInstanceUID
    assert ss.SOPClassUID == one.datasets["RS_structure_set.dcm"].SOPClassUID


def test_differences_are_located_with_both_values():
    sample = build_sample()
    sent = sample.datasets["RS_structure_set.dcm"]
    import copy

    back = copy.deepcopy(sent)
    back.ROIContourSequence[1].ContourSequence[2].ContourData[0] = 99.0
    del back.StructureSetLabel
    found = {d.path: d for d in differences(sent, back)}
    assert set(found) == {"StructureSetLabel",
                          "ROIContourSequence[1].ContourSequence[2].ContourData"}
    assert found["StructureSetLabel"].returned == "(absent)"
    assert "99.0" in found["ROIContourSequence[1].ContourSequence[2].ContourData"].returned


@pytest.fixture
def recorder(tmp_path):
    return AssociationRecorder(tmp_path / "log.jsonl")


def _scp(handlers=(), contexts=(Verification,), **kwargs):
    ae = AE("PEER")
    for uid in contexts:
        ae.add_supported_context(uid)
    return ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=list(handlers),
                           **kwargs)


def test_a_refused_association_is_said_with_its_reason(recorder):
    server = _scp(ae_title="PEER")
    server.ae.require_called_aet = True
    try:
        peer = Peer("WRONG", "127.0.0.1", server.server_address[1])
        with pytest.raises(AssociationRejected, match="A-ASSOCIATE-RJ"):
            ServiceUser("HARNESS", recorder, "test").echo(peer)
    finally:
        server.shutdown()


def test_rejected_contexts_are_named_and_the_abort_is_the_harness_s(recorder, tmp_path):
    server = _scp()  # Verification only: no Query/Retrieve
    try:
        peer = Peer("PEER", "127.0.0.1", server.server_address[1])
        with pytest.raises(ContextsRejected) as info:
            ServiceUser("HARNESS", recorder, "test").find(
                peer, identifier("STUDY", StudyInstanceUID=""))
    finally:
        server.shutdown()
    assert "Study Root Query/Retrieve Information Model - FIND" in str(info.value)
    assert "abstract syntax not supported" in str(info.value)
    (record,) = read_associations(recorder.path)
    assert "aborted by the harness: the peer accepted no presentation context" in \
        describe(record)


def test_an_abort_by_the_peer_is_the_peer_s(recorder, sample_dir):
    def abort(event):
        event.assoc.abort()
        return 0xC000

    server = _scp([(evt.EVT_C_STORE, abort)], contexts=(Verification, CTImageStorage))
    try:
        peer = Peer("PEER", "127.0.0.1", server.server_address[1])
        ServiceUser("HARNESS", recorder, "test").store(peer, [sample_dir / "CT_001.dcm"])
    finally:
        server.shutdown()
    (record,) = read_associations(recorder.path)
    assert record.abort["by"] == "peer" and "aborted by the peer (A-ABORT" in describe(record)


def test_no_listener_and_no_answer_are_told_apart(recorder):
    closed = free_port()
    with pytest.raises(NoAnswer, match="connection refused"):
        ServiceUser("HARNESS", recorder, "test").echo(Peer("X", "127.0.0.1", closed))
    silent = socket.socket()  # accepts TCP, never answers the A-ASSOCIATE-RQ
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    held = []
    thread = threading.Thread(target=lambda: held.append(silent.accept()), daemon=True)
    thread.start()
    try:
        user = ServiceUser("HARNESS", recorder, "test", Timeouts(acse=1.0))
        with pytest.raises(NoAnswer, match="no A-ASSOCIATE response within 1 s"):
            user.echo(Peer("X", "127.0.0.1", silent.getsockname()[1]))
    finally:
        silent.close()
        for conn, _ in held:
            conn.close()


def test_a_peer_that_closes_the_connection_is_an_abort(recorder):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def close_after_request():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=close_after_request, daemon=True)
    thread.start()
    try:
        with pytest.raises(AssociationAborted, match="closed the connection"):
            ServiceUser("HARNESS", recorder, "test").echo(
                Peer("X", "127.0.0.1", listener.getsockname()[1]))
    finally:
        listener.close()


def test_a_rejection_followed_at_once_by_a_close_is_a_rejection(recorder):
    """Orthanc refusing an unknown AE sends A-ASSOCIATE-RJ and closes at once;
    the close can reach pynetdicom before its requesting thread reads the
    answer (it then aborts as if the connection had failed): still a refusal,
    with its reason, every time."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    # A-ASSOCIATE-RJ: rejected-permanent, service-user, calling AE title not recognized
    rj = bytes([0x03, 0, 0, 0, 0, 4, 0, 0x01, 0x01, 0x03])

    def refuse(times: int) -> None:
        for _ in range(times):
            conn, _ = listener.accept()
            conn.sendall(rj)  # before the request is read: the race at its widest
            conn.shutdown(socket.SHUT_WR)
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=refuse, args=(10,), daemon=True)
    thread.start()
    try:
        user = ServiceUser("HARNESS", recorder, "test")
        for _ in range(10):
            with pytest.raises(AssociationRejected,
                               match=r"rejected the association from HARNESS \(A-ASSOCIATE-RJ: "
                                     r"Rejected Permanent, Service User, Calling AE title"):
                user.echo(Peer("X", "127.0.0.1", listener.getsockname()[1]))
    finally:
        listener.close()


def test_an_earlier_copy_under_a_uid_is_said_to_be_one(tmp_path):
    """The evidence of a changed object names the scenario that sent the
    returned content before, when the Archive kept that first copy."""
    import copy

    from rtconform.run.checks import assert_unchanged
    from rtconform.run.scenario import Scenario, ScenarioFailure
    from rtconform.run.session import RunContext
    from rtconform.run.sut import SutConfig

    ctx = RunContext(tmp_path / "run", SutConfig(), engines=(), seed="x")
    first = build_sample(seed="x").datasets["RS_structure_set.dcm"]
    second = copy.deepcopy(first)
    second.StructureSetLabel = "EDITED"
    ctx.remember_sent("the first scenario", [first])
    ctx.remember_sent("the second scenario", [second])
    scenario = Scenario(ctx, "second", tmp_path / "work", title="the second scenario")
    with pytest.raises(ScenarioFailure) as info:
        assert_unchanged(scenario, [(second, copy.deepcopy(first))])
    text = str(info.value)
    assert "ARCHIVE-STORAGE-LEVEL-2: 1 of 1 objects came back changed" in text
    assert "copy the harness stored earlier under this UID in scenario 'the first scenario'" \
        in text
    assert "StructureSetLabel: sent 'EDITED', returned 'RTC phantom'" in text


def test_a_response_the_reactor_takes_goes_back_to_the_waiting_operation(recorder):
    """pynetdicom's reactor can take a C-STORE response off the queue in the
    instant an operation pauses it (a race seen on loaded machines, then a
    60 s DIMSE timeout): while an operation holds the reactor, rtconform puts
    the response back at the head of the queue; otherwise pynetdicom drops
    it as before."""
    from pynetdicom.dimse_primitives import C_STORE

    import rtconform.actors.node  # noqa: F401 - installs the hand-back

    server = _scp()
    ae = AE("HARNESS")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", server.server_address[1], ae_title="PEER")
    try:
        assert assoc.is_established
        rsp = C_STORE()
        rsp.MessageIDBeingRespondedTo, rsp.Status = 7, 0x0000
        queue = assoc.dimse.msg_queue
        assoc._reactor_checkpoint.clear()  # an operation is waiting for its response
        assoc._serve_request(rsp, 1)
        assert queue.queue[0] == (1, rsp)
        assoc.dimse.get_msg(block=False)
        assoc._reactor_checkpoint.set()  # nobody waits: pynetdicom's own handling
        assoc._serve_request(rsp, 1)
        assert len(queue.queue) == 0
    finally:
        assoc._reactor_checkpoint.set()
        assoc.release()
        server.shutdown()


def test_a_scenario_process_leaves_the_other_processes_files_in_flight(tmp_path):
    """The processes of a sharded run share objects/: one that starts late
    must not take another's half-written object for a killed writer's
    leftover (a scenario then failed with StoreError); a run in one process
    still cleans them."""
    from rtconform.run.session import RunContext
    from rtconform.run.sut import SutConfig

    objects = tmp_path / "run" / "objects"
    objects.mkdir(parents=True)
    in_flight = objects / ".incoming-1234.part"
    in_flight.write_bytes(b"half an object")
    from rtconform.actors.storage import share_objects

    try:
        RunContext(tmp_path / "run", SutConfig(), engines=(), shard=1)
        assert in_flight.is_file()
        RunContext(tmp_path / "run", SutConfig(), engines=())
        assert not in_flight.exists()
    finally:  # a run context shares objects/ for the whole process: not for the next test
        share_objects(None)

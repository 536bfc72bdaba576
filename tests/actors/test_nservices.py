"""DIMSE-N in the node layer and the recorder: N-CREATE, N-SET, N-GET,
N-ACTION and N-EVENT-REPORT over real pynetdicom associations on
127.0.0.1 (the SCP a UPS actor would be, `ManagedInstances`), with the same
failure classes as the C-services, and every request, status and data set in
the association log with its PS3.7 meaning. Against a real Orthanc, see
tests/actors/test_commitment.py."""

from __future__ import annotations

import threading
import time

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import evt
from pynetdicom.sop_class import UnifiedProcedureStepPush

from peers import free_port
from rtconform.actors.association import make_ae
from rtconform.actors.guard import ConnectionLimits, start_guarded_server
from rtconform.actors.node import (
    ContextsRejected,
    NoAnswer,
    Peer,
    ServiceUser,
    Timeouts,
    stop_server,
)
from rtconform.actors.nservices import EventReports, ManagedInstances
from rtconform.actors.recorder import AssociationRecorder, read_associations
from rtconform.actors.status import status_text
from rtconform.run.evidence import describe

UPS = str(UnifiedProcedureStepPush)


@pytest.fixture
def recorder(tmp_path):
    return AssociationRecorder(tmp_path / "associations.jsonl")


@pytest.fixture
def ups_scp(recorder):
    """A DIMSE-N SCP of the UPS Push SOP class; its N-ACTION answers 0x0000
    for action type 1 and 0x0123 (no such action) otherwise."""
    def action(sop_class, instance, action_type, information):
        return (0x0000, information) if action_type == 1 else (0x0123, None)

    provider = ManagedInstances(recorder, "UPS SCP", action)
    ae = make_ae("UPSSCP", Timeouts(acse=5, dimse=10, network=10))
    ae.add_supported_context(UPS)
    server = start_guarded_server(ae, ("127.0.0.1", 0), [*provider.handlers(),
                                                         *recorder.handlers("UPS SCP")],
                                  ConnectionLimits(), recorder, "UPS SCP")
    yield Peer("UPSSCP", "127.0.0.1", server.server_address[1]), provider
    stop_server(server)


def _workitem(label: str) -> Dataset:
    ds = Dataset()
    ds.ProcedureStepLabel = label
    ds.ProcedureStepState = "SCHEDULED"
    ds.PatientName = "RTC^Patient"
    return ds


def test_n_create_set_get_and_action_with_their_statuses(ups_scp, recorder):
    peer, provider = ups_scp
    user = ServiceUser("UPSSCU", recorder, "TDS")
    uid = generate_uid()
    assert user.n_create(peer, UPS, _workitem("Fraction 1"), uid).statuses == [0x0000]
    again = user.n_create(peer, UPS, _workitem("Fraction 1"), uid)
    assert not again.ok and again.statuses == [0x0111]
    change = Dataset()
    change.ProcedureStepLabel = "Fraction 1 (moved)"
    assert user.n_set(peer, UPS, uid, change).ok
    got = user.n_get(peer, UPS, uid, [0x00741204])  # Procedure Step Label
    assert got.ok and got.datasets[0].ProcedureStepLabel == "Fraction 1 (moved)"
    assert "PatientName" not in got.datasets[0]  # only what was asked for
    assert user.n_get(peer, UPS, generate_uid()).statuses == [0x0112]
    assert user.n_action(peer, UPS, uid, 1, change).ok
    assert user.n_action(peer, UPS, uid, 7, change).statuses == [0x0123]
    assert list(provider.instances) == [(UPS, uid)]

    records = [r for r in read_associations(recorder.path) if r.actor == "TDS"]
    statuses = [(d["command"], d["status"]) for r in records for d in r.dimse
                if d["command"].endswith("-RSP")]
    assert statuses == [("N-CREATE-RSP", "0x0000"), ("N-CREATE-RSP", "0x0111"),
                        ("N-SET-RSP", "0x0000"), ("N-GET-RSP", "0x0000"),
                        ("N-GET-RSP", "0x0112"), ("N-ACTION-RSP", "0x0000"),
                        ("N-ACTION-RSP", "0x0123")]
    requests = [d for r in records for d in r.dimse if d["command"] == "N-SET-RQ"]
    assert requests[0]["sop_class"] == UPS and requests[0]["sop_instance"] == uid
    actions = [d for r in records for d in r.dimse if d["command"] == "N-ACTION-RQ"]
    assert [a["action_type"] for a in actions] == [1, 7]
    created = records[0].attributes[0]
    assert created["command"] == "N-CREATE-RQ"
    assert created["attributes"]["ProcedureStepLabel"] == "Fraction 1"
    # the reviewer reads each status with its meaning (PS3.7 C)
    text = "\n".join(describe(r) for r in records)
    assert "N-CREATE-RSP 0x0111 Failure: Duplication SOP Instance" in text
    assert "N-GET-RSP 0x0112 Failure: No Such SOP Instance" in text
    assert "N-ACTION-RSP 0x0123 Failure: No Such Action" in text


def test_the_ups_statuses_print_with_their_ps3_4_meaning():
    assert status_text(0xC301, "N-SET") == \
        "0xC301 Failure: The correct Transaction UID was not provided"
    assert status_text(0xB300, "N-CREATE") == \
        "0xB300 Warning: The UPS was created with modifications"
    assert status_text(0x0213, "N-ACTION") == "0x0213 Failure: Resource Limitation"


def test_n_services_fail_as_the_c_services_do(ups_scp, recorder):
    peer, _ = ups_scp
    user = ServiceUser("UPSSCU", recorder, "TDS", Timeouts(connection=5))
    closed = Peer("NOBODY", "127.0.0.1", free_port())
    with pytest.raises(NoAnswer, match="connection refused"):
        user.n_get(closed, UPS, generate_uid())
    with pytest.raises(ContextsRejected, match="rejected every presentation context "
                                               "proposed: Storage Commitment"):
        user.n_action(peer, "1.2.840.10008.1.20.1", "1.2.840.10008.1.20.1.1", 1, Dataset())


def test_an_event_report_arrives_on_a_new_association_and_is_recorded(recorder, tmp_path):
    events = EventReports(recorder, "requester")
    requester = ServiceUser("REQUESTER", recorder, "requester")
    requester.listen_for_reports(events, [UPS])
    listener = requester.start_receiver(tmp_path / "received")  # its one listening AE
    try:
        info = Dataset()
        info.ProcedureStepState = "IN PROGRESS"
        sender = ServiceUser("PERFORMER", recorder, "performer")
        uid = generate_uid()
        assert sender.n_event_report(listener, UPS, uid, 1, info).statuses == [0x0000]
        report = events.wait(lambda r: r.sop_instance == uid, timeout=10)
    finally:
        requester.stop_receiver()
    assert report is not None and report.event_type == 1 and not report.own
    assert report.calling_ae == "PERFORMER"
    assert report.information.ProcedureStepState == "IN PROGRESS"
    inbound = [r for r in read_associations(recorder.path) if r.actor == "requester"]
    assert [d["command"] for d in inbound[0].dimse] == ["N-EVENT-REPORT-RQ",
                                                        "N-EVENT-REPORT-RSP"]
    assert inbound[0].dimse[0]["event_type"] == 1
    # the sender proposed the SCP role (PS3.7 D.3.3.4): the listener is the class's SCU
    # there (without role selection an acceptor is the SCP)
    assert (inbound[0].contexts[0]["scu_role"], inbound[0].contexts[0]["scp_role"]) == \
        (True, False)
    assert events.wait(lambda r: r.sop_instance == "1.2.3", timeout=0.2) is None


def test_an_scp_that_never_answers_is_no_answer_not_a_hang(recorder):
    """A listener that takes the association and never sends N-ACTION-RSP:
    the DIMSE timeout ends the wait and says so."""
    ae = make_ae("MUTE", Timeouts())
    ae.add_supported_context(UPS)
    def never(event):
        time.sleep(4)
        return 0x0000, None

    server = ae.start_server(("127.0.0.1", 0), block=False,
                             evt_handlers=[(evt.EVT_N_ACTION, never)])
    try:
        user = ServiceUser("UPSSCU", recorder, "TDS", Timeouts(dimse=1))
        result = user.n_action(Peer("MUTE", "127.0.0.1", server.server_address[1]), UPS,
                               generate_uid(), 1, Dataset())
    finally:
        stop_server(server)
    assert not result.ok and result.statuses == [0xFFFF]
    assert result.message == "no N-ACTION-RSP within 1 s; the harness aborted the association"


def test_an_event_report_on_the_request_s_association_ends_the_wait(recorder):
    """An SCP may send the report on the N-ACTION's own association (PS3.4
    J.3.3.1): the requester keeps it open (`linger`) until the report it
    waits for arrives, and no longer, and answers it before releasing (an
    N-ACTION without Action Information is sent without a data set)."""
    ae = make_ae("REPORTER", Timeouts())
    ae.add_supported_context(UPS)

    def action(event):
        def report() -> None:
            info = Dataset()
            info.ProcedureStepState = "COMPLETED"
            event.assoc.send_n_event_report(info, 1, UPS,
                                            str(event.request.RequestedSOPInstanceUID))

        threading.Timer(0.2, report).start()  # after the N-ACTION-RSP is sent
        return 0x0000, None

    server = ae.start_server(("127.0.0.1", 0), block=False,
                             evt_handlers=[(evt.EVT_N_ACTION, action),
                                           *recorder.handlers("reporter")])
    events = EventReports(recorder, "requester")
    uid = generate_uid()
    try:
        user = ServiceUser("REQUESTER", recorder, "requester", Timeouts(dimse=10))
        started = time.monotonic()
        result = user.n_action(Peer("REPORTER", "127.0.0.1", server.server_address[1]), UPS,
                               uid, 1, Dataset(), events=events,  # no Action Information
                               until=lambda r: r.sop_instance == uid, linger=30)
        waited = time.monotonic() - started
    finally:
        stop_server(server)
    assert result.ok
    (report,) = events.reports
    assert report.own and report.information.ProcedureStepState == "COMPLETED"
    assert waited < 30  # the report ended the wait, not the linger time
    (record,) = [r for r in read_associations(recorder.path) if r.actor == "requester"]
    assert [d["command"] for d in record.dimse] == [
        "N-ACTION-RQ", "N-ACTION-RSP", "N-EVENT-REPORT-RQ", "N-EVENT-REPORT-RSP"]
    # the response left before the release: the association was released, not aborted
    assert record.outcome == "released"

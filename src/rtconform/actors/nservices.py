"""DIMSE-N (PS3.7 10): N-CREATE, N-SET, N-GET, N-ACTION and N-EVENT-REPORT,
as an SCU calls them and as an SCP answers them, on associations
opened and recorded like the C-services' (same timeouts, same failure
classes), so a Storage Commitment or UPS actor is a module on top of this one.

An N-EVENT-REPORT may come back on the association of the request that caused
it or on one the peer opens later (PS3.4 J.3.3, CC.2.4): `EventReports`
collects both; the second kind arrives at the actor's one listening AE
(`listen_for_reports`, then `start_receiver`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import build_role, evt
from pynetdicom.status import code_to_category

from rtconform.actors.association import Peer, Requestor, ended_by_peer, make_ae
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.status import OperationResult

NORMALISED_SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]  # explicit, implicit LE


@dataclass(frozen=True)
class EventReport:
    """One N-EVENT-REPORT received: who sent it, about what, and on which
    association (`own`: one this side requested, the request's own)."""

    assoc: str
    calling_ae: str
    own: bool
    event_type: int | None
    sop_class: str
    sop_instance: str
    information: Dataset


class EventReports:
    """An N-EVENT-REPORT SCP handler: records each report, answers Success
    (or `status`), and lets an SCU wait, with a timeout, for the one it needs."""

    def __init__(self, recorder: AssociationRecorder, actor: str, status: int = 0x0000) -> None:
        self.recorder = recorder
        self.actor = actor
        self.status = status
        self.reports: list[EventReport] = []
        self._arrived = threading.Condition()
        self._serving: dict[int, threading.Thread] = {}

    def __call__(self, event) -> tuple[int, Dataset | None]:
        request = event.request
        try:
            information = event.event_information
        except Exception as exc:  # an undecodable Event Information: say so, answer 0x0110
            self.recorder.note(self.actor, f"N-EVENT-REPORT information not decodable "
                                           f"({type(exc).__name__})",
                               assoc=self.recorder.assoc_id(event.assoc))
            return 0x0110, None
        self.recorder.attributes(event.assoc, self.actor, "N-EVENT-REPORT-RQ", information)
        report = EventReport(self.recorder.assoc_id(event.assoc),
                             str(event.assoc.requestor.ae_title).strip(),
                             not event.assoc.is_acceptor, event.event_type,
                             str(request.AffectedSOPClassUID or ""),
                             str(request.AffectedSOPInstanceUID or ""), information)
        with self._arrived:
            self.reports.append(report)
            # pynetdicom 3 serves an N-EVENT-REPORT in a thread of its own, which
            # sends the response after this returns: a requester releasing its
            # association before then loses the response (its DUL refuses P-DATA
            # after A-RELEASE-RQ, PS3.8 Sta7) and the peer times out
            self._serving[id(report)] = threading.current_thread()
            self._arrived.notify_all()
        return self.status, None

    def answered(self, report: EventReport, timeout: float, reactor=None) -> None:
        """Wait until the response to `report` has been handed to the network
        (the thread that served it has ended; never the association's own
        reactor thread, which lives as long as the association)."""
        thread = self._serving.get(id(report))
        if thread is not None and thread not in (threading.current_thread(), reactor):
            thread.join(timeout)

    def wait(self, wanted: Callable[[EventReport], bool], timeout: float) -> EventReport | None:
        """The first report `wanted` accepts, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((r for r in self.reports if wanted(r)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self._arrived.wait(left)


def _outcome(status: Dataset | None, returned: Dataset | None, assoc, service: str,
             timeout: float, elapsed: float) -> OperationResult:
    """An N-service response as an OperationResult: Success and Warning are
    ok (PS3.7 C.1, C.2); no response says whether the peer aborted the
    association (and its A-ABORT source) or the DIMSE timeout ran out."""
    if not status or "Status" not in status:
        if elapsed >= timeout * 0.9:  # pynetdicom aborts the association at its DIMSE timeout
            return OperationResult(False, [0xFFFF], message=f"no {service}-RSP within "
                                   f"{timeout:g} s; the harness aborted the association")
        why = ended_by_peer(assoc) or "the association ended without a response"
        return OperationResult(False, [0xFFFF], message=f"no {service}-RSP: {why}")
    code = int(status.Status)
    result = OperationResult(code_to_category(code) in ("Success", "Warning"), [code])
    if returned is not None:
        result.datasets.append(returned)
    if "ErrorComment" in status:
        result.message = str(status.ErrorComment)
    return result


def _drained(assoc, bound: float = 5.0) -> None:
    """Wait (within `bound` seconds) until the DUL has sent what is queued."""
    dul = getattr(assoc, "dul", None)
    deadline = time.monotonic() + bound
    while dul is not None and (dul.to_provider_queue.qsize() or dul.event_queue.qsize()) \
            and time.monotonic() < deadline:
        time.sleep(0.002)


def _data_set(ds: Dataset | None) -> Dataset | None:
    """None for an empty data set: pynetdicom 3 sends an empty one as a
    request that announces a data set and never sends it, and the peer
    waits for it until its timeout."""
    return ds if ds else None


class NormalisedUser(Requestor):
    """An actor's DIMSE-N SCU side: each operation opens one recorded
    association with one context (the SOP class, or its Meta SOP class)."""

    transfer_syntaxes: list[str]
    _reports: tuple[EventReports, list[str]] | None = None

    def _n_operation(self, peer: Peer, sop_class: str, service: str,
                     send: Callable, attributes: Dataset | None = None,
                     meta: str | None = None, as_scp: bool = False,
                     events: EventReports | None = None,
                     until: Callable[[EventReport], bool] | None = None,
                     linger: float = 0.0) -> OperationResult:
        context = meta or sop_class
        ae = make_ae(self.ae_title, self.timeouts)
        ae.add_requested_context(context, self.transfer_syntaxes[:2])
        # the SOP class's SCP sending an event report proposes the SCP role (PS3.7 D.3.3.4)
        roles = [build_role(context, scu_role=False, scp_role=True)] if as_scp else []
        handlers = [*self._handlers(), *([(evt.EVT_N_EVENT_REPORT, events)] if events else [])]
        assoc = self._associate(ae, peer, ext_neg=roles, evt_handlers=handlers)
        self._require(assoc, context, peer)
        if attributes is not None:
            self.recorder.attributes(assoc, self.actor, f"{service}-RQ", attributes)
        try:
            started = time.monotonic()
            status, returned = send(assoc)
            result = _outcome(status, returned, assoc, service, self.timeouts.dimse,
                              time.monotonic() - started)
            if returned:  # an empty reply is not evidence of anything
                self.recorder.attributes(assoc, self.actor, f"{service}-RSP", returned)
            if result.ok and events is not None and until is not None and linger > 0:
                report = events.wait(until, linger)  # it may come on this association
                if report is not None and report.own:  # its response leaves before the release
                    events.answered(report, self.timeouts.dimse, reactor=assoc)
                    _drained(assoc)
            return result
        finally:
            if assoc.is_established:
                assoc.release()

    def n_create(self, peer: Peer, sop_class: str, attributes: Dataset,
                 instance: str | None = None, meta: str | None = None) -> OperationResult:
        """N-CREATE: the SCP creates an instance (`instance` None: it gives
        the UID, returned as the Affected SOP Instance UID)."""
        return self._n_operation(peer, sop_class, "N-CREATE", lambda a: a.send_n_create(
            _data_set(attributes), sop_class, instance, meta_uid=meta), attributes, meta)

    def n_set(self, peer: Peer, sop_class: str, instance: str, modification: Dataset,
              meta: str | None = None) -> OperationResult:
        return self._n_operation(peer, sop_class, "N-SET", lambda a: a.send_n_set(
            _data_set(modification), sop_class, instance, meta_uid=meta), modification, meta)

    def n_get(self, peer: Peer, sop_class: str, instance: str, tags: list[int] | None = None,
              meta: str | None = None) -> OperationResult:
        """N-GET: the attributes `tags` of an instance (all of them if None)."""
        return self._n_operation(peer, sop_class, "N-GET", lambda a: a.send_n_get(
            list(tags or []), sop_class, instance, meta_uid=meta), None, meta)

    def n_action(self, peer: Peer, sop_class: str, instance: str, action_type: int,
                 information: Dataset | None, meta: str | None = None,
                 events: EventReports | None = None,
                 until: Callable[[EventReport], bool] | None = None,
                 linger: float = 0.0) -> OperationResult:
        """N-ACTION; with `events` and `linger`, the association stays open
        up to `linger` seconds after a successful response for the report
        `until` waits for (an SCP may send it there, PS3.4 J.3.3.1)."""
        return self._n_operation(peer, sop_class, "N-ACTION", lambda a: a.send_n_action(
            _data_set(information), action_type, sop_class, instance, meta_uid=meta),
            information, meta, events=events, until=until, linger=linger)

    def n_event_report(self, peer: Peer, sop_class: str, instance: str, event_type: int,
                       information: Dataset | None, meta: str | None = None,
                       as_scp: bool = True) -> OperationResult:
        """N-EVENT-REPORT on a new association, as the SOP class's SCP (with
        SCP/SCU role selection unless `as_scp` is False)."""
        return self._n_operation(peer, sop_class, "N-EVENT-REPORT",
                                 lambda a: a.send_n_event_report(
                                     _data_set(information), event_type, sop_class, instance,
                                     meta_uid=meta), information, meta, as_scp=as_scp)

    def listen_for_reports(self, events: EventReports, sop_classes: list[str]) -> None:
        """Take the N-EVENT-REPORTs of `sop_classes` a peer sends on associations
        it opens, at the actor's listening AE (`start_receiver`): either role
        is accepted, the sender being the SOP class's SCP (PS3.4 J.3.3.1)."""
        self._reports = (events, list(sop_classes))

    def _report_handlers(self, ae) -> list[tuple]:
        """The listening AE's contexts and handler for the reports it takes."""
        if self._reports is None:
            return []
        events, sop_classes = self._reports
        for uid in sop_classes:
            ae.add_supported_context(uid, NORMALISED_SYNTAXES, scu_role=True, scp_role=True)
        return [(evt.EVT_N_EVENT_REPORT, events)]


class ManagedInstances:
    """A DIMSE-N SCP over instances kept in memory, by (SOP class, instance
    UID): N-CREATE, N-SET and N-GET with the PS3.7 C statuses an
    SCP gives (0x0111 duplicate, 0x0112 no such instance), N-ACTION handed to
    `action(sop_class, instance, action_type, information)` -> (status,
    reply). Every request's data set is recorded. The base a UPS or Storage
    Commitment SCP actor builds on."""

    def __init__(self, recorder: AssociationRecorder, actor: str,
                 action: Callable[[str, str, int, Dataset], tuple[int, Dataset | None]]
                 | None = None) -> None:
        self.recorder = recorder
        self.actor = actor
        self.action = action
        self.instances: dict[tuple[str, str], Dataset] = {}
        self._lock = threading.Lock()

    def handlers(self) -> list[tuple]:
        return [(evt.EVT_N_CREATE, self._create), (evt.EVT_N_SET, self._set),
                (evt.EVT_N_GET, self._get), (evt.EVT_N_ACTION, self._action)]

    def _record(self, event, command: str, ds: Dataset | None) -> None:
        if ds is not None:
            self.recorder.attributes(event.assoc, self.actor, command, ds)

    def _create(self, event) -> tuple[int, Dataset | None]:
        request = event.request
        attributes = event.attribute_list
        self._record(event, "N-CREATE-RQ", attributes)
        given = str(request.AffectedSOPInstanceUID or "")
        key = (str(request.AffectedSOPClassUID), given or generate_uid())
        with self._lock:
            if key in self.instances:
                return 0x0111, None  # Duplicate SOP Instance
            self.instances[key] = attributes
        reply = Dataset()
        reply.update(attributes)
        if not given:  # the SCP names the instance (PS3.7 10.1.5.1.3)
            reply.AffectedSOPInstanceUID = key[1]
        return 0x0000, reply

    def _set(self, event) -> tuple[int, Dataset | None]:
        request = event.request
        modification = event.modification_list
        self._record(event, "N-SET-RQ", modification)
        key = (str(request.RequestedSOPClassUID), str(request.RequestedSOPInstanceUID))
        with self._lock:
            held = self.instances.get(key)
            if held is None:
                return 0x0112, None
            for element in modification:
                held[element.tag] = element
        return 0x0000, modification

    def _get(self, event) -> tuple[int, Dataset | None]:
        request = event.request
        key = (str(request.RequestedSOPClassUID), str(request.RequestedSOPInstanceUID))
        with self._lock:
            held = self.instances.get(key)
            if held is None:
                return 0x0112, None
            tags = event.attribute_identifiers
            reply = Dataset()
            for element in held:
                if not tags or element.tag in tags:
                    reply[element.tag] = element
        self._record(event, "N-GET-RSP", reply)
        return 0x0000, reply

    def _action(self, event) -> tuple[int, Dataset | None]:
        request = event.request
        information = event.action_information
        self._record(event, "N-ACTION-RQ", information)
        if self.action is None:
            return 0x0123, None  # No such action
        return self.action(str(request.RequestedSOPClassUID),
                           str(request.RequestedSOPInstanceUID), int(event.action_type),
                           information)

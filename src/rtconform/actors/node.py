"""The layer every actor stands on: application entities with timeouts and
TCP_NODELAY, the recorder wired in, a Storage SCP that writes into an
InstanceStore, and the SCU operations (echo, store, find, move, get).

Every network wait has a timeout; every listening port comes from the OS
unless the user names one.
"""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom import AE, _config, build_role, evt
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from rtconform.actors.guard import ConnectionLimits, start_guarded_server
from rtconform.actors.query import response_problems
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.storage import InstanceStore, StoreError
from rtconform.actors.tls import TLSConfig
from rtconform.dicom.read import DEFAULT_MAX_OBJECT_BYTES, check_bytes, check_structure
from rtconform.dicom.uids import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    STORAGE_SOP_CLASSES,
    uid_name,
)

DEFAULT_TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                             DeflatedExplicitVRLittleEndian]

QR_MODELS = {
    ("patient", "find"): PatientRootQueryRetrieveInformationModelFind,
    ("patient", "move"): PatientRootQueryRetrieveInformationModelMove,
    ("patient", "get"): PatientRootQueryRetrieveInformationModelGet,
    ("study", "find"): StudyRootQueryRetrieveInformationModelFind,
    ("study", "move"): StudyRootQueryRetrieveInformationModelMove,
    ("study", "get"): StudyRootQueryRetrieveInformationModelGet,
}


class PeerUnreachable(Exception):
    """No association could be made: names the AE, host and port, and says
    who did what (PS3.8 7.1-7.3): the subclasses tell a refusal from a
    rejected context, an abort by the SUT from one by the harness, and no
    answer from a closed port."""


class AssociationRejected(PeerUnreachable):
    """The SUT answered A-ASSOCIATE-RJ."""


class ContextsRejected(PeerUnreachable):
    """The SUT accepted the association but none of the presentation contexts
    the harness needs; pynetdicom then aborts it (nothing can be exchanged)."""

    def __init__(self, message: str, rejected: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.rejected = rejected  # (abstract syntax UID, PS3.8 result) per context


class AssociationAborted(PeerUnreachable):
    """The SUT sent A-ABORT (or closed the connection) during negotiation."""


class NoAnswer(PeerUnreachable):
    """No TCP connection, or no A-ASSOCIATE response within the ACSE timeout."""


# PS3.8 Table 9-18: Result/Reason of a presentation context in A-ASSOCIATE-AC
CONTEXT_RESULTS = {1: "user rejection", 2: "no reason (provider rejection)",
                   3: "abstract syntax not supported (provider rejection)",
                   4: "transfer syntaxes not supported (provider rejection)"}
# PS3.8 Table 9-26: A-ABORT Source
ABORT_SOURCES = {0: "DICOM UL service-user", 1: "reserved", 2: "DICOM UL service-provider"}


class _Watch:
    """What happened on one association request, from pynetdicom's events:
    whether TCP connected, and which ACSE primitives came back."""

    def __init__(self) -> None:
        self.opened = False
        self.received: list = []  # ACSE primitives from the peer

    def handlers(self) -> list[tuple]:
        def opened(_event) -> None:
            self.opened = True

        def received(event) -> None:
            self.received.append(event.primitive)

        return [(evt.EVT_CONN_OPEN, opened), (evt.EVT_ACSE_RECV, received)]


@dataclass(frozen=True)
class Peer:
    ae_title: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Peer:
        """'AE=host:port' or 'AE@host:port'."""
        sep = "=" if "=" in text else "@"
        ae, _, address = text.partition(sep)
        host, _, port = address.rpartition(":")
        if not ae or not host or not port.isdigit():
            raise ValueError(f"expected AE=HOST:PORT, got {text!r}")
        return cls(ae.strip(), host.strip(), int(port))


@dataclass
class Timeouts:
    connection: float = 10.0
    acse: float = 30.0
    dimse: float = 60.0
    network: float = 60.0


def _nodelay(event) -> None:
    """Nagle's algorithm meets delayed ACKs at ~80 ms per DIMSE exchange on
    loopback; one request/response pattern must not pay it."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def stop_server(server) -> None:
    """Stop a pynetdicom server now: its loop polls every 0.5 s, so the stop
    flag is raised, the listening socket poked to wake the poll, then the
    usual shutdown waits for the loop (a second per run of 100 scenarios)."""
    server._BaseServer__shutdown_request = True
    with contextlib.suppress(OSError):
        socket.create_connection(server.server_address[:2], timeout=0.2).close()
    server.shutdown()


def make_ae(ae_title: str, timeouts: Timeouts) -> AE:
    ae = AE(ae_title=ae_title)
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    ae.implementation_version_name = IMPLEMENTATION_VERSION_NAME
    ae.connection_timeout = timeouts.connection
    ae.acse_timeout = timeouts.acse
    ae.dimse_timeout = timeouts.dimse
    ae.network_timeout = timeouts.network
    return ae


def transfer_syntax_of(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return str(meta.TransferSyntaxUID)
    implicit = ds.original_encoding[0] if hasattr(ds, "original_encoding") else True
    return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


def _encode(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# A received C-STORE data set goes to a temporary file as its fragments arrive
# (pynetdicom's chunked receive), never whole into memory: with the guard's
# per-message bound, what one C-STORE costs the receiver is disk, not RAM.
_config.STORE_RECV_CHUNKED_DATASET = True


def _hand_back_responses() -> None:
    """Work around a race in pynetdicom 3 (seen as "Received unexpected C-STORE
    service message", then a DIMSE timeout, on a loaded machine; pynetdicom
    issue 875 for C-FIND): send_c_store() and its siblings clear the
    reactor's checkpoint and go on when the reactor *was* paused, but the
    reactor may have passed its wait just before and then takes the peer's
    response off the queue and drops it, while the operation waits for it
    until the DIMSE timeout. While an operation holds the reactor (its
    checkpoint cleared), a response the reactor finds goes back to the head
    of the queue for the operation, in order; at any other time pynetdicom's
    own handling (a warning) stands."""
    from pynetdicom.association import Association

    original = Association._serve_request
    if getattr(original, "_rtconform", False):
        return

    def serve(self, msg, context_id) -> None:
        if not msg.is_valid_request and not self._reactor_checkpoint.is_set() \
                and not self._sent_release:
            queue = self.dimse.msg_queue
            with queue.mutex:
                queue.queue.appendleft((context_id, msg))
                queue.not_empty.notify()
            return
        original(self, msg, context_id)

    serve._rtconform = True
    Association._serve_request = serve


_hand_back_responses()


class StorageReceiver:
    """A C-STORE SCP handler writing into an InstanceStore and recording every
    dataset: the Archive's and every retrieving actor's. The data set arrives
    as a file (pynetdicom writes it as it is received); its element stream is
    walked there, its header decoded, and the file copied into the store
    atomically — memory does not grow with the size of what is sent."""

    def __init__(self, store: InstanceStore, recorder: AssociationRecorder, actor: str,
                 drop: list[str] | None = None,
                 max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> None:
        self.store = store
        self.recorder = recorder
        self.actor = actor
        self.drop = drop or []
        self.max_object_bytes = max_object_bytes

    def _without(self, received: Path | bytes) -> bytes:
        ds = pydicom.dcmread(received if isinstance(received, Path) else io.BytesIO(received))
        for keyword in self.drop:
            if keyword in ds:
                del ds[keyword]
        return _encode(ds)

    def _received(self, event) -> tuple[Path | bytes, Dataset]:
        """The received data set (its file, or bytes without chunked receive)
        and its header, both checked; raises on what cannot be decoded."""
        try:
            path = Path(event.dataset_path)
        except AttributeError:  # chunked receive off (another pynetdicom user)
            received: Path | bytes = event.encoded_dataset(include_meta=True)
            check_bytes(received)
            ds = pydicom.dcmread(io.BytesIO(received), stop_before_pixels=True)
        else:
            if path.stat().st_size > self.max_object_bytes + (1 << 16):
                raise StoreError(0xA700, f"data set larger than the "
                                         f"{self.max_object_bytes >> 20} MB allowed")
            # pydicom decodes a truncated element quietly: walk the stream first
            check_structure(path, self.max_object_bytes)
            received = path
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        ds.file_meta = event.file_meta
        for _ in ds.iterall():  # a dataset that cannot be decoded fails now
            pass
        return received, ds

    def __call__(self, event) -> int:
        calling = str(event.assoc.requestor.ae_title).strip()
        sop_uid = str(event.request.AffectedSOPInstanceUID or "")
        try:
            received, ds = self._received(event)
        except StoreError as exc:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid,
                                 status=f"0x{exc.status:04X}", reason=exc.reason)
            return exc.status
        except Exception as exc:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid, status="0xC210",
                                 reason=f"cannot decode dataset: {type(exc).__name__}: {exc}")
            return 0xC210
        if str(ds.get("SOPInstanceUID", "")) != sop_uid:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid, status="0xA900",
                                 reason="dataset SOP Instance UID differs from the C-STORE "
                                        "request's Affected SOP Instance UID")
            return 0xA900
        if self.drop:
            received = self._without(received)
        try:
            outcome = self.store.store(received, ds, str(event.context.transfer_syntax),
                                       calling)
        except StoreError as exc:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid,
                                 status=f"0x{exc.status:04X}", reason=exc.reason)
            return exc.status
        self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid,
                             sop_class=str(ds.get("SOPClassUID", "")), status="0x0000",
                             dropped=self.drop or None,
                             path=str(outcome.path), duplicate=outcome.duplicate)
        return 0x0000


@dataclass
class OperationResult:
    """What an SCU operation achieved, for steps and reports."""

    ok: bool
    statuses: list[int] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    message: str = ""
    problems: list[str] = field(default_factory=list)  # the peer broke PS3.4 in its answers

    def describe(self, service: str = "") -> str:
        """The statuses as a reviewer reads them: hex with their PS3.4 meaning."""
        text = ", ".join(status_text(code, service) for code in self.statuses) or "no response"
        return f"{text}{f' ({self.message})' if self.message else ''}"


def status_text(code: int, service: str = "") -> str:
    """'0xC000 Failure: Unable to Process' (PS3.4 status tables, via pynetdicom)."""
    from pynetdicom import status as statuses

    tables = {"C-FIND": statuses.QR_FIND_SERVICE_CLASS_STATUS,
              "C-MOVE": statuses.QR_MOVE_SERVICE_CLASS_STATUS,
              "C-GET": statuses.QR_GET_SERVICE_CLASS_STATUS,
              "C-STORE": statuses.STORAGE_SERVICE_CLASS_STATUS}
    meaning = tables.get(service, {}).get(code) or statuses.GENERAL_STATUS.get(code)
    if code == 0xFFFF:
        return "no status (association lost or refused)"
    if not meaning:
        return f"0x{code:04X}"
    return f"0x{code:04X} {meaning[0]}" + (f": {meaning[1]}" if meaning[1] else "")


class ServiceUser:
    """An actor's SCU side: each operation opens one recorded association."""

    def __init__(self, ae_title: str, recorder: AssociationRecorder, actor: str,
                 timeouts: Timeouts | None = None,
                 transfer_syntaxes: list[str] | None = None,
                 tls: TLSConfig | None = None) -> None:
        self.ae_title = ae_title
        self.tls = tls
        self.recorder = recorder
        self.actor = actor
        self.timeouts = timeouts or Timeouts()
        self.transfer_syntaxes = transfer_syntaxes or DEFAULT_TRANSFER_SYNTAXES
        self._receiver_server = None
        self.receiver_store: InstanceStore | None = None
        self.problems: list[str] = []  # every PS3.4 breach seen in the peer's answers

    def _require(self, assoc, sop_class: str, peer: Peer) -> None:
        """The one context an operation needs was accepted, or the association
        is let go and the peer's refusal is said (the others it accepted do
        not make up for it)."""
        if any(cx.abstract_syntax == sop_class for cx in assoc.accepted_contexts):
            return
        why = next((CONTEXT_RESULTS.get(cx.result, str(cx.result)) for cx in
                    assoc.rejected_contexts if cx.abstract_syntax == sop_class), "not accepted")
        assoc.release()
        raise ContextsRejected(f"{peer} accepted the association from {self.ae_title} but "
                               f"rejected {uid_name(sop_class)} ({why})", [(sop_class, why)])

    def _handlers(self) -> list[tuple]:
        return [(evt.EVT_CONN_OPEN, _nodelay), *self.recorder.handlers(self.actor)]

    def _associate(self, ae: AE, peer: Peer, **kwargs):
        watch = _Watch()
        kwargs["evt_handlers"] = [*kwargs.get("evt_handlers", self._handlers()),
                                  *watch.handlers()]
        if self.tls is not None:
            kwargs["tls_args"] = (self.tls.client_context(), peer.host)
        started = time.monotonic()
        assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
        if not assoc.is_established:
            raise no_association(assoc, watch, peer, self.ae_title, self.timeouts,
                                 time.monotonic() - started)
        return assoc

    def echo(self, peer: Peer) -> OperationResult:
        ae = make_ae(self.ae_title, self.timeouts)
        ae.add_requested_context(Verification)
        assoc = self._associate(ae, peer)
        try:
            status = assoc.send_c_echo()
            code = int(status.Status) if status else 0xFFFF
            return OperationResult(code == 0, [code])
        finally:
            assoc.release()

    def accepts(self, peer: Peer, sop_class: str, transfer_syntax: str) -> bool:
        """Propose one context (and Verification): did the peer accept it?"""
        ae = make_ae(self.ae_title, self.timeouts)
        ae.add_requested_context(sop_class, [transfer_syntax])
        ae.add_requested_context(Verification)
        assoc = self._associate(ae, peer)
        accepted = any(c.abstract_syntax == sop_class for c in assoc.accepted_contexts)
        assoc.release()
        return accepted

    def store(self, peer: Peer, items: Iterable[Path | Dataset]) -> OperationResult:
        """C-STORE files or datasets: one context per (SOP class, transfer
        syntax) actually needed, in one association."""
        # Files are sent as they are on disk (pynetdicom streams a path without
        # decoding it), as storescu does; only their header is read here.
        items = list(items)
        headers = [pydicom.dcmread(i, stop_before_pixels=True) if isinstance(i, str | Path)
                   else i for i in items]
        ae = make_ae(self.ae_title, self.timeouts)
        pairs = sorted({(str(ds.SOPClassUID), transfer_syntax_of(ds)) for ds in headers})
        for sop_class, syntax in pairs:
            ae.add_requested_context(sop_class, [syntax])
        assoc = self._associate(ae, peer)
        result = OperationResult(True)
        try:
            for item, ds in zip(items, headers, strict=True):
                try:
                    status = assoc.send_c_store(item)
                except (ValueError, AttributeError) as exc:  # e.g. a UID pynetdicom refuses
                    self.recorder.note(self.actor, f"not sent: {exc}",
                                       sop_instance=str(ds.get("SOPInstanceUID", "")))
                    result.statuses.append(0xFFFF)
                    result.ok = False
                    result.message = str(exc)
                    continue
                code = int(status.Status) if status else 0xFFFF
                result.statuses.append(code)
                if code not in (0x0000, 0xB000, 0xB007, 0xB006):
                    result.ok = False
            return result
        finally:
            if assoc.is_established:
                assoc.release()

    def find(self, peer: Peer, identifier: Dataset, model: str = "study") -> OperationResult:
        ae = make_ae(self.ae_title, self.timeouts)
        uid = QR_MODELS[(model, "find")]
        ae.add_requested_context(uid, self.transfer_syntaxes[:2])
        assoc = self._associate(ae, peer)
        self._require(assoc, uid, peer)
        result = OperationResult(True)
        self.recorder.identifier(assoc, self.actor, "C-FIND-RQ", identifier)
        try:
            for status, rsp in assoc.send_c_find(identifier, uid):
                code = int(status.Status) if status else 0xFFFF
                result.statuses.append(code)
                if code in (0xFF00, 0xFF01) and rsp is not None:
                    self.recorder.identifier(assoc, self.actor, "C-FIND-RSP", rsp)
                    result.datasets.append(rsp)
                elif code != 0:
                    result.ok = False
            result.problems = response_problems(identifier, result.datasets)
            for problem in result.problems:
                self.recorder.note(self.actor, problem, assoc=self.recorder.assoc_id(assoc))
            self.problems += result.problems
            return result
        finally:
            if assoc.is_established:
                assoc.release()

    # -- retrieval ------------------------------------------------------------------
    def start_receiver(self, store_dir: Path, port: int = 0, host: str = "127.0.0.1") -> Peer:
        """A Storage SCP for C-MOVE results, on an OS-chosen port by default."""
        if self._receiver_server is not None:
            host, port = self._receiver_server.server_address[:2]
            return Peer(self.ae_title, host, port)
        self.receiver_store = InstanceStore(store_dir)
        # called as the C-MOVE destination the actor names (the harness's receive AE)
        ae = make_ae(getattr(self, "move_destination", None) or self.ae_title, self.timeouts)
        for uid in STORAGE_SOP_CLASSES.values():
            ae.add_supported_context(uid, self.transfer_syntaxes)
        receiver = StorageReceiver(self.receiver_store, self.recorder, self.actor)
        limits = ConnectionLimits(artim=self.timeouts.acse, idle=self.timeouts.network)
        self._receiver_server = start_guarded_server(
            ae, (host, port), [(evt.EVT_C_STORE, receiver), *self._handlers()], limits,
            self.recorder, self.actor, self.tls.server_context() if self.tls else None)
        host, port = self._receiver_server.server_address[:2]
        return Peer(self.ae_title, host, port)

    def stop_receiver(self) -> None:
        if self._receiver_server is not None:
            stop_server(self._receiver_server)
            self._receiver_server = None
        if self.receiver_store is not None:
            self.receiver_store.close()

    def move(self, peer: Peer, identifier: Dataset, destination: str | None = None,
             model: str = "study") -> OperationResult:
        ae = make_ae(self.ae_title, self.timeouts)
        uid = QR_MODELS[(model, "move")]
        ae.add_requested_context(uid, self.transfer_syntaxes[:2])
        assoc = self._associate(ae, peer)
        self._require(assoc, uid, peer)
        self.recorder.identifier(assoc, self.actor, "C-MOVE-RQ", identifier)
        try:
            return _retrieve_result(assoc.send_c_move(identifier, destination or self.ae_title,
                                                      uid))
        finally:
            if assoc.is_established:
                assoc.release()

    def get(self, peer: Peer, identifier: Dataset, store_dir: Path,
            model: str = "study") -> OperationResult:
        """C-GET: the peer sends the objects back on the same association."""
        ae = make_ae(self.ae_title, self.timeouts)
        uid = QR_MODELS[(model, "get")]
        ae.add_requested_context(uid, self.transfer_syntaxes[:2])
        roles = []
        for sop_class in STORAGE_SOP_CLASSES.values():  # stays well under 128 contexts
            ae.add_requested_context(sop_class, self.transfer_syntaxes)
            roles.append(build_role(sop_class, scp_role=True))
        store = InstanceStore(store_dir)
        receiver = StorageReceiver(store, self.recorder, self.actor)
        try:
            assoc = self._associate(ae, peer, ext_neg=roles, evt_handlers=[
                (evt.EVT_C_STORE, receiver), *self._handlers()])
            self._require(assoc, uid, peer)
        except PeerUnreachable:
            store.close()
            raise
        self.recorder.identifier(assoc, self.actor, "C-GET-RQ", identifier)
        try:
            return _retrieve_result(assoc.send_c_get(identifier, uid))
        finally:
            if assoc.is_established:
                assoc.release()
            store.close()


def _retrieve_result(responses) -> OperationResult:
    """C-MOVE/C-GET responses: pending until a final status; anything but
    Success (or Pending) fails, with the sub-operation counts as the message —
    a retrieve whose sub-operations all failed is not reported as success."""
    result = OperationResult(True)
    for status, _ in responses:
        code = int(status.Status) if status else 0xFFFF
        result.statuses.append(code)
        if code not in (0x0000, 0xFF00):
            result.ok = False
            result.message = _sub_operations(status)
    return result


def no_association(assoc, watch: _Watch, peer: Peer, calling: str, timeouts: Timeouts,
                   elapsed: float) -> PeerUnreachable:
    """Why an association request failed, said as the wire showed it."""
    from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT

    who = f"{peer} (calling AE {calling})"
    if assoc.is_rejected:
        rj = getattr(assoc.acceptor, "primitive", None)
        parts = [getattr(rj, name, "") for name in ("result_str", "source_str", "reason_str")]
        why = ", ".join(p for p in parts if p)
        return AssociationRejected(f"{peer} rejected the association from {calling} "
                                   f"(A-ASSOCIATE-RJ{': ' + why if why else ''})")
    rejected = [(str(cx.abstract_syntax), CONTEXT_RESULTS.get(cx.result, str(cx.result)))
                for cx in assoc.rejected_contexts]
    if rejected and not assoc.accepted_contexts:
        listed = "; ".join(f"{uid_name(uid)} ({why})" for uid, why in rejected)
        return ContextsRejected(f"{peer} accepted the association from {calling} but rejected "
                                f"every presentation context proposed: {listed}; with no "
                                "context to use, the harness ended it with A-ABORT",
                                rejected)
    aborts = [p for p in watch.received if isinstance(p, A_ABORT | A_P_ABORT)]
    if watch.opened and aborts:
        abort = aborts[0]
        if isinstance(abort, A_ABORT):
            source = ABORT_SOURCES.get(abort.abort_source, str(abort.abort_source))
            return AssociationAborted(f"{peer} aborted the association request from {calling} "
                                      f"(A-ABORT, source: {source})")
        return AssociationAborted(f"{peer} closed the connection during association "
                                  f"negotiation with {calling} (A-P-ABORT: transport closed)")
    if not watch.opened:
        if elapsed < timeouts.connection * 0.9:
            return NoAnswer(f"no TCP connection to {who}: connection refused (nothing "
                            f"listening on {peer.host}:{peer.port})")
        return NoAnswer(f"no TCP connection to {who} within {timeouts.connection:g} s")
    return NoAnswer(f"{who}: no A-ASSOCIATE response within {timeouts.acse:g} s; the harness "
                    "aborted the request")


def _sub_operations(status: Dataset | None) -> str:
    if not status:
        return "no response (timeout or abort)"
    parts = [f"status 0x{int(status.Status):04X}"]
    for keyword in ("NumberOfCompletedSuboperations", "NumberOfFailedSuboperations",
                    "NumberOfWarningSuboperations"):
        if keyword in status:
            parts.append(f"{keyword}={status.get(keyword)}")
    return ", ".join(parts)


def identifier(level: str, **keys) -> Dataset:
    """A query/retrieve identifier, e.g. identifier('STUDY', PatientID='X',
    StudyInstanceUID='')."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


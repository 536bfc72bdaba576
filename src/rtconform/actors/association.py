"""Associations as the harness opens them: application entities with
timeouts and TCP_NODELAY, the recorder wired in, and a failed association
said as the wire showed it (refused, contexts rejected, aborted, no answer).

Every service module (C-services in node.py, N-services in nservices.py)
opens its associations through `Requestor`, so each raises the same failure
classes and every association lands in the same recorder.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

from pynetdicom import AE, evt

from rtconform.actors import reactor
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.tls import TLSConfig
from rtconform.dicom.uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, uid_name


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
reactor.install()


def no_association(assoc, watch: _Watch, peer: Peer, calling: str, timeouts: Timeouts,
                   elapsed: float) -> PeerUnreachable:
    """Why an association request failed, said as the wire showed it."""
    from pynetdicom.pdu_primitives import A_ABORT, A_ASSOCIATE, A_P_ABORT

    who = f"{peer} (calling AE {calling})"
    unread = _unread(assoc)
    rj = getattr(assoc.acceptor, "primitive", None) if assoc.is_rejected else next(
        (p for p in unread if isinstance(p, A_ASSOCIATE) and p.result in (0x01, 0x02)), None)
    if rj is not None:
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
    aborts = [p for p in [*watch.received, *unread] if isinstance(p, A_ABORT | A_P_ABORT)]
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
    if elapsed < timeouts.acse * 0.9:
        return NoAnswer(f"{who}: the connection ended without an A-ASSOCIATE response "
                        f"(after {elapsed:.1f} s)")
    return NoAnswer(f"{who}: no A-ASSOCIATE response within {timeouts.acse:g} s; the harness "
                    "aborted the request")


def _unread(assoc) -> list:
    """The peer's primitives pynetdicom received but its ACSE never read. A
    peer that answers A-ASSOCIATE-RJ and closes at once (Orthanc refusing an
    unknown AE) can close the socket before the requesting thread checks that
    it is connected; pynetdicom 3 then aborts as if the connection had failed
    and leaves the rejection in its queue."""
    queue = getattr(getattr(assoc, "dul", None), "to_user_queue", None)
    if queue is None:
        return []
    with queue.mutex:
        return list(queue.queue)


def ended_by_peer(assoc, settle: float = 2.0) -> str:
    """How the peer ended an established association instead of answering,
    '' if it did not: an operation that got no response waits up to `settle`
    seconds for the end the reactor is still handling (PS3.8 7.3, 7.4)."""
    from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT

    deadline = time.monotonic() + settle
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.02)
    watch = getattr(assoc, "_rtconform_watch", None)
    aborts = [p for p in getattr(watch, "received", []) if isinstance(p, A_ABORT | A_P_ABORT)]
    if not aborts:
        return ""
    if isinstance(aborts[0], A_ABORT):
        source = ABORT_SOURCES.get(aborts[0].abort_source, str(aborts[0].abort_source))
        return f"the peer aborted the association (A-ABORT, source: {source})"
    return "the peer closed the connection (A-P-ABORT)"


class Requestor:
    """What every SCU side shares: its AE title, recorder, timeouts and TLS,
    and the one way it opens an association (recorded, failures classified)."""

    def __init__(self, ae_title: str, recorder: AssociationRecorder, actor: str,
                 timeouts: Timeouts | None = None, tls: TLSConfig | None = None) -> None:
        self.ae_title = ae_title
        self.tls = tls
        self.recorder = recorder
        self.actor = actor
        self.timeouts = timeouts or Timeouts()

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
        assoc._rtconform_watch = watch  # what the peer sent later: an abort mid-operation
        return assoc

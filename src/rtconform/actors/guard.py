"""Every SCP the harness runs stands behind this guard, because a vendor's
unfinished product (or an attacker next to a production node) must not be
able to lock it out, exhaust its memory or make it hang.

pynetdicom alone counts a connection that never sends an A-ASSOCIATE-RQ
against the association limit, reads a PDU of any declared length into
memory, and blocks without a timeout on a PDU that stops half-way. The guard
adds, per PS3.8:

- the ARTIM time (9.1.5) as the socket timeout until the association is
  accepted, then the idle (network) timeout: a stalled partial PDU cannot hold
  a thread forever;
- a bound on connections still waiting for their A-ASSOCIATE-RQ, separate
  from the association limit, per remote address as well as in all: when
  either is reached, the oldest silent connection (of that address, or of the
  address holding the most) is closed to make room, so a real sender, who
  sends its request at once, always gets through, however many idle sockets
  one host keeps open and renews; each closure is logged, and so is each
  connection ARTIM closes;
- the association limit counted over requested associations only, answered
  with A-ASSOCIATE-RJ (transient, local limit exceeded);
- the PDU stream followed as it is read: a PDU longer than the maximum we
  announced (P-DATA-TF) or than any sane association PDU gets an A-ABORT
  (invalid PDU parameter value) before its body is buffered;
- an A-ASSOCIATE-RQ without presentation contexts is rejected (permanent);
  the called AE title is checked unless configured otherwise;
- TLS (PS3.15 B.9 / BCP 195) when a context is given: the handshake runs in
  the connection's own thread, bounded by ARTIM, and a peer speaking plain TCP
  to the TLS port is refused and recorded.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pynetdicom import evt

from rtconform.actors.recorder import AssociationRecorder

P_DATA_TF = 0x04
KNOWN_PDU_TYPES = range(0x01, 0x08)
# An A-ASSOCIATE-RQ/AC with 128 presentation contexts of ten transfer syntaxes
# each stays far below this; anything longer is not a DICOM peer.
MAX_ASSOCIATION_PDU = 1 << 20
# When no maximum is announced (0: unlimited) a P-DATA-TF is still bounded.
MAX_UNLIMITED_PDU = 64 << 20
A_ABORT_INVALID_PARAMETER = bytes([0x07, 0, 0, 0, 0, 4, 0, 0, 0x02, 0x06])


@dataclass
class ConnectionLimits:
    max_associations: int = 10
    max_pending: int = 64  # connections waiting for their A-ASSOCIATE-RQ
    max_pending_per_address: int = 0  # of them from one address; 0: a quarter of max_pending
    artim: float = 30.0  # PS3.8 9.1.5: connect → A-ASSOCIATE-RQ, and TLS handshake
    idle: float = 60.0  # an accepted association silent this long is closed
    max_pdu: int = 16382  # our Maximum Length Received (P-DATA-TF variable field)
    check_called_ae: bool = True
    max_object_bytes: int = 512 << 20  # the data set of one message; 0: no bound

    @property
    def per_address(self) -> int:
        return self.max_pending_per_address or max(4, self.max_pending // 4)


class PDUStream:
    """Follows PDU boundaries in a byte stream without keeping the bodies.
    Inside P-DATA-TF it follows the PDVs too (PS3.8 9.3.5.1, E.2): the data
    set bytes of the message being received are counted against a bound, and
    the (small) command set kept, so the guard can answer it."""

    MAX_COMMAND = 1 << 16  # a C-STORE-RQ command set is a few hundred bytes

    def __init__(self, max_pdu: int, max_object_bytes: int = 0) -> None:
        self.max_pdu = max_pdu or MAX_UNLIMITED_PDU
        self.max_object_bytes = max_object_bytes  # 0: no bound
        self._header = bytearray()
        self._body_left = 0
        self._in_pdata = False
        self._pdv_header = bytearray()
        self._pdv_left = 0
        self._pdv_control = 0
        self.context_id = 0
        self.command = bytearray()  # the command set of the message being received
        self.data_bytes = 0  # data set bytes of that message so far
        self.too_large = False
        self._command_complete = False

    def feed(self, data: bytes) -> str | None:
        """The reason the stream must be aborted, or None."""
        view = memoryview(data)
        while view:
            if self._body_left:
                take = min(self._body_left, len(view))
                if self._in_pdata:
                    problem = self._pdvs(view[:take])
                    if problem:
                        return problem
                self._body_left -= take
                view = view[take:]
                continue
            need = 6 - len(self._header)
            self._header += view[:need]
            view = view[need:]
            if len(self._header) < 6:
                break
            pdu_type, _, length = struct.unpack(">BBL", self._header)
            self._header.clear()
            if pdu_type not in KNOWN_PDU_TYPES:
                return None  # pynetdicom aborts an unknown PDU type itself (Evt19)
            limit = self.max_pdu if pdu_type == P_DATA_TF else MAX_ASSOCIATION_PDU
            if length > limit:
                return (f"PDU type 0x{pdu_type:02X} declares {length} bytes, more than the "
                        f"{limit} allowed")
            self._body_left = length
            self._in_pdata = pdu_type == P_DATA_TF
        return None

    def _pdvs(self, view: memoryview) -> str | None:
        """Presentation data values in a P-DATA-TF body: 4-byte length,
        context ID, message control header, fragment."""
        while view:
            if not self._pdv_left:
                need = 6 - len(self._pdv_header)
                self._pdv_header += view[:need]
                view = view[need:]
                if len(self._pdv_header) < 6:
                    return None
                length, self.context_id, self._pdv_control = struct.unpack(
                    ">LBB", self._pdv_header)
                self._pdv_header.clear()
                self._pdv_left = max(0, length - 2)
                if self._pdv_control & 1 and self._command_complete:  # a new message
                    self.command.clear()
                    self.data_bytes = 0
                    self._command_complete = False
                if not self._pdv_left:
                    self._fragment_done()
                continue
            take = min(self._pdv_left, len(view))
            if self._pdv_control & 1:  # command
                if len(self.command) + take <= self.MAX_COMMAND:
                    self.command += view[:take]
            else:
                self.data_bytes += take
                if self.max_object_bytes and self.data_bytes > self.max_object_bytes:
                    self.too_large = True
                    return (f"a data set of more than {self.max_object_bytes >> 20} MB "
                            "(the most one object may take)")
            self._pdv_left -= take
            view = view[take:]
            if not self._pdv_left:
                self._fragment_done()
        return None

    def _fragment_done(self) -> None:
        if self._pdv_control & 1:
            self._command_complete = bool(self._pdv_control & 2)
        elif self._pdv_control & 2:  # the last fragment of a data set
            self.data_bytes = 0


def store_refusal(stream: PDUStream, status: int = 0xA700) -> tuple[bytes, str]:
    """A C-STORE-RSP (PS3.7 9.3.1.2) with `status`, in one P-DATA-TF, for the
    C-STORE-RQ whose command set the stream kept; b"" and why when there is
    none to answer."""
    from pydicom.dataset import Dataset
    from pynetdicom.dsutils import decode, encode

    try:
        rq = decode(io.BytesIO(bytes(stream.command)), True, True)
        rsp = Dataset()
        rsp.add_new(0x00000002, "UI", rq.AffectedSOPClassUID)
        rsp.add_new(0x00000100, "US", 0x8001)
        rsp.add_new(0x00000120, "US", rq.MessageID)
        rsp.add_new(0x00000800, "US", 0x0101)
        rsp.add_new(0x00000900, "US", status)
        rsp.add_new(0x00001000, "UI", rq.AffectedSOPInstanceUID)
        body = encode(rsp, True, True)
    except Exception as exc:  # no command kept, or one we cannot read: only the abort then
        return b"", f"no C-STORE-RSP could be built for it ({type(exc).__name__})"
    command = struct.pack("<HHII", 0, 0, 4, len(body)) + body
    pdv = struct.pack(">LBB", len(command) + 2, stream.context_id, 0x03) + command
    return struct.pack(">BBL", P_DATA_TF, 0, len(pdv)) + pdv, ""


class _Guarded:
    """recv() that watches the PDU stream; shared by the plain and TLS sockets.
    It also keeps what the guard's bookkeeping needs: when the connection was
    accepted, from whom, whether anything arrived, and how it ended."""

    pdu_stream: PDUStream
    report: Callable[[str], None]
    peer_host: str = ""
    peer_address: object = None
    accepted_at: float = 0.0
    received: int = 0
    requested = False  # its A-ASSOCIATE-RQ arrived
    ended = ""  # why the guard (or the peer) ended it: nothing more to log

    artim_closed: Callable[[], None]

    def _timed_out(self) -> None:
        """The socket's timeout expired in a read (a PDU stopped half-way)."""
        if not self.requested and not self.ended:
            self.artim_closed()

    def _checked(self, data: bytes) -> bytes:
        if not data:
            self.ended = self.ended or "closed by the peer"
        self.received += len(data)
        problem = self.pdu_stream.feed(data)
        if problem:
            self.ended = "aborted"
            if self.pdu_stream.too_large:  # out of resources (PS3.4 Table B.2-1)
                refusal, why_not = store_refusal(self.pdu_stream)
                self.report(f"C-STORE refused with 0xA700 (out of resources) and A-ABORT "
                            f"sent: {problem} (--max-object-mb)"
                            + (f"; {why_not}, A-ABORT only" if why_not else ""))
                with contextlib.suppress(OSError):
                    self.sendall(refusal)
            else:
                self.report(f"A-ABORT sent: {problem}")
            with contextlib.suppress(OSError):
                self.sendall(A_ABORT_INVALID_PARAMETER)
            raise ConnectionAbortedError(problem)
        return data


class GuardedSocket(_Guarded, socket.socket):
    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        try:
            data = super().recv(bufsize, flags)
        except TimeoutError:
            self._timed_out()
            raise
        return self._checked(data)


class GuardedSSLSocket(_Guarded, ssl.SSLSocket):
    _handshake_done = False

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        if not self._handshake_done:
            if self.ended:  # called again after a failed handshake: said once
                raise ConnectionAbortedError(self.ended)
            try:
                self.do_handshake()
            except (OSError, ValueError) as exc:
                self.ended = f"TLS handshake failed: {exc}"
                self.report(self.ended)
                raise ConnectionAbortedError(self.ended) from exc
            self._handshake_done = True
        try:
            data = super().recv(buflen, flags)
        except TimeoutError:
            self._timed_out()
            raise
        return self._checked(data)


class Guard:
    """Wires the limits into one pynetdicom server."""

    def __init__(self, limits: ConnectionLimits, recorder: AssociationRecorder | None,
                 actor: str) -> None:
        self.limits = limits
        self.recorder = recorder
        self.actor = actor
        self._lock = threading.Lock()
        self._slots: set[int] = set()
        # sockets accepted and not yet past their A-ASSOCIATE-RQ, oldest first
        # (counted here, at accept time: pynetdicom's threads appear later)
        self._waiting: list = []
        self._sockets: dict[int, object] = {}  # association → its guarded socket

    def note(self, message: str, **data) -> None:
        if self.recorder is not None:
            self.recorder.note(self.actor, message, **data)

    def prepare(self, ae) -> None:
        # pynetdicom's own limit counts waiting connections too, and the threads
        # of connections the guard has just closed to make room: lift it far
        # above anything the guard lets through, the guard counts instead.
        ae.maximum_associations = self.limits.max_associations + 8 * self.limits.max_pending + 1
        ae.require_called_aet = self.limits.check_called_ae
        ae.acse_timeout = self.limits.artim
        ae.network_timeout = self.limits.idle
        ae.maximum_pdu_size = self.limits.max_pdu

    def handlers(self) -> list[tuple]:
        return [(evt.EVT_CONN_OPEN, self._on_open),
                (evt.EVT_REQUESTED, self._on_requested),
                (evt.EVT_ACCEPTED, self._on_accepted),
                (evt.EVT_DIMSE_RECV, self._on_message),
                (evt.EVT_CONN_CLOSE, self._on_closed)]

    def install(self, server, ssl_context: ssl.SSLContext | None = None) -> None:
        """Replace the server's accept step (its socketserver loop calls
        get_request and drops the connection on OSError)."""
        if ssl_context is not None:
            ssl_context.sslsocket_class = GuardedSSLSocket
        server.ssl_context = None  # the guard wraps, in the connection's thread
        # socketserver listens with a backlog of 5: a sixth simultaneous connect
        # waits for a SYN retransmission (a second or more) before we even see it
        server.socket.listen(max(128, 2 * self.limits.max_pending))

        def get_request():
            raw, address = server.socket.accept()
            sock = self.wrap(raw, address, ssl_context)
            with self._lock:
                self._waiting = [s for s in self._waiting
                                 if s.fileno() != -1 and not s.requested and not s.ended]
                evicted = self._make_room(sock.peer_host)
                self._waiting.append(sock)
            if evicted is not None:
                victim, why = evicted
                self.note(f"connection from {_address(victim.peer_address)} closed "
                          f"({'silent' if not victim.received else 'incomplete'} for "
                          f"{time.monotonic() - victim.accepted_at:.0f} s) to make room: {why}")
                with contextlib.suppress(OSError):  # pynetdicom's thread sees EOF, closes it
                    victim.shutdown(socket.SHUT_RDWR)
            return sock, address

        server.get_request = get_request

    def _make_room(self, host: str) -> tuple[object, str] | None:
        """The waiting connection to close for a new one from `host`, and why:
        the oldest silent one (else the oldest) of `host` when it holds its
        share, else of the address holding the most when all slots are taken.
        A real sender's request arrives at once, so it is never the oldest."""
        limits = self.limits
        mine = [s for s in self._waiting if s.peer_host == host]
        if len(mine) >= limits.per_address:
            pool = mine
            why = (f"{len(mine)} connections from {host} already wait for an A-ASSOCIATE-RQ "
                   f"(limit {limits.per_address} per address)")
        elif len(self._waiting) >= limits.max_pending:
            counts: dict[str, int] = {}
            for s in self._waiting:
                counts[s.peer_host] = counts.get(s.peer_host, 0) + 1
            busiest = max(counts, key=lambda h: counts[h])
            pool = [s for s in self._waiting if s.peer_host == busiest]
            why = (f"{len(self._waiting)} connections already wait for an A-ASSOCIATE-RQ "
                   f"(limit {limits.max_pending}; {counts[busiest]} from {busiest})")
        else:
            return None
        victim = next((s for s in pool if not s.received), pool[0])
        self._waiting.remove(victim)
        victim.ended = "closed to make room"
        return victim, why

    def wrap(self, raw: socket.socket, address, ssl_context: ssl.SSLContext | None):
        peer = _address(address)

        def report(message: str) -> None:  # called before the peer is answered
            self.note(f"connection from {peer}: {message}")

        if ssl_context is not None:
            sock = ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        else:
            sock = GuardedSocket(raw.family, raw.type, raw.proto, fileno=raw.detach())
        sock.pdu_stream = PDUStream(self.limits.max_pdu, self.limits.max_object_bytes)
        sock.report = report
        sock.artim_closed = lambda: self._artim_closed(sock)
        sock.peer_host = str(address[0]) if isinstance(address, tuple) else peer
        sock.peer_address = address
        sock.accepted_at = time.monotonic()
        sock.settimeout(self.limits.artim)
        return sock

    # -- events -----------------------------------------------------------------
    def _on_open(self, event) -> None:
        sock = getattr(event.assoc.dul.socket, "socket", None)
        if sock is not None:
            with self._lock:
                self._sockets[id(event.assoc)] = sock

    def _on_requested(self, event) -> None:
        assoc = event.assoc
        sock = getattr(assoc.dul.socket, "socket", None)
        if sock is not None:
            sock.requested = True
        reason = None
        rq = assoc.requestor.primitive
        if not rq.presentation_context_definition_list:
            reason = ((0x01, 0x01, 0x01), "the A-ASSOCIATE-RQ proposes no presentation context")
        else:
            with self._lock:
                if len(self._slots) >= self.limits.max_associations:
                    reason = ((0x02, 0x03, 0x02),
                              f"{len(self._slots)} associations already active (limit "
                              f"{self.limits.max_associations})")
                else:
                    self._slots.add(id(assoc))
        if reason is None:
            return
        (result, source, diagnostic), text = reason
        assoc.requestor.ae_title = rq.calling_ae_title  # pynetdicom sets it only later
        self.note(f"A-ASSOCIATE-RJ sent: {text}")
        assoc.acse.send_reject(result, source, diagnostic)
        assoc.is_rejected = True
        evt.trigger(assoc, evt.EVT_REJECTED, {})
        assoc.kill()

    def _on_accepted(self, event) -> None:
        sock = getattr(event.assoc.dul.socket, "socket", None)
        if sock is not None:
            sock.settimeout(self.limits.idle)

    def _on_message(self, event) -> None:
        """pynetdicom aborts a message it cannot turn into a primitive (a UID
        of 200 characters) and logs nothing we keep: decode it first, and say
        why the A-ABORT that follows is sent."""
        message = event.message
        try:
            message.message_to_primitive()
        except Exception as exc:
            name = type(message).__name__.replace("_", "-")
            self.note(f"A-ABORT sent: the {name} cannot be accepted: {exc}")

    def _on_closed(self, event) -> None:
        _remove_partial_dataset(event.assoc)
        with self._lock:
            self._slots.discard(id(event.assoc))
            sock = self._sockets.pop(id(event.assoc), None)
        if sock is None or getattr(sock, "requested", True) or getattr(sock, "ended", ""):
            return
        # no A-ASSOCIATE-RQ, not closed by the peer nor by the guard: ARTIM
        self._artim_closed(sock)

    def _artim_closed(self, sock) -> None:
        sock.ended = "ARTIM"
        got = f"; {sock.received} byte(s) of a PDU received" if sock.received else ""
        self.note(f"connection from {_address(sock.peer_address)} closed by ARTIM: no "
                  f"A-ASSOCIATE-RQ within {self.limits.artim:g} s (PS3.8 9.1.5){got}")


def start_guarded_server(ae, address: tuple[str, int], handlers: list[tuple],
                         limits: ConnectionLimits, recorder: AssociationRecorder | None,
                         actor: str, ssl_context: ssl.SSLContext | None = None):
    """ae.start_server with the guard in front; returns the server."""
    guard = Guard(limits, recorder, actor)
    guard.prepare(ae)
    server = ae.start_server(address, block=False,
                             evt_handlers=[*handlers, *guard.handlers()])
    guard.install(server, ssl_context)
    return server


def _remove_partial_dataset(assoc) -> None:
    """The temporary file pynetdicom was streaming a C-STORE data set into
    when the connection ended (aborted by us or the peer): nobody else will
    remove it."""
    message = getattr(getattr(assoc, "dimse", None), "message", None)
    partial = getattr(message, "_data_set_file", None)
    if partial is None:
        return
    with contextlib.suppress(OSError):
        partial.close()
        os.unlink(partial.name)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _address(address) -> str:
    try:
        return f"{address[0]}:{address[1]}"
    except (TypeError, IndexError):
        return str(address)

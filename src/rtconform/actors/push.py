"""`rtconform push`: send an export folder to a Storage SCP with rtconform's own
SCU, as a CI job does after an export (what dcmtk's `storescu +sd +r` does,
without depending on which `storescu` comes first on PATH: pynetdicom installs
one of the same name with other options).

Every file of the folder is looked at: DICOM objects are sent as they are on
disk (one presentation context per SOP class and transfer syntax, at most 128
per association, PS3.8 9.3.2.2), files that are not DICOM (an exporter's PDF,
XML, logs) and DICOMDIRs are skipped and said so. The answer per file is its
C-STORE status with its PS3.4 meaning; the push fails (exit 1) when one object
was refused or could not be sent, and is an environment error (exit 2) when no
association could be made.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pynetdicom import evt
from pynetdicom.sop_class import Verification

from rtconform.actors.association import Peer, PeerUnreachable, Timeouts, make_ae
from rtconform.actors.status import status_text
from rtconform.actors.tls import TLSConfig
from rtconform.dicom.index import iter_files, read_instance

MAX_CONTEXTS = 128  # presentation contexts one association may propose (PS3.8 9.3.2.2)
SUCCESS = 0x0000
WARNINGS = (0xB000, 0xB006, 0xB007)  # stored, with coercion or elements discarded (PS3.4 B.2.3)


@dataclass
class Sent:
    """One file's fate: its C-STORE status, or why it was not sent."""

    path: Path
    status: int | None = None  # None: not sent
    reason: str = ""

    @property
    def outcome(self) -> str:
        if self.status == SUCCESS:
            return "sent"
        if self.status in WARNINGS:
            return "sent with a warning"
        if self.status is None and self.reason.startswith("skipped"):
            return "skipped"
        return "refused" if self.status is not None else "not sent"

    def describe(self) -> str:
        return status_text(self.status, "C-STORE") if self.status is not None else self.reason


@dataclass
class PushResult:
    peer: Peer
    files: list[Sent] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(f.outcome == outcome for f in self.files)

    @property
    def failed(self) -> list[Sent]:
        return [f for f in self.files if f.outcome in ("refused", "not sent")]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def line(self) -> str:
        stored = self.count("sent") + self.count("sent with a warning")
        return (f"{stored} sent to {self.peer} ({self.count('sent with a warning')} with a "
                f"warning), {self.count('refused')} refused, {self.count('not sent')} not sent, "
                f"{self.count('skipped')} skipped (not DICOM objects)")

    def statuses(self) -> list[tuple[str, int]]:
        """Each status (with its PS3.4 meaning) or reason, with its count."""
        return Counter(f.describe() for f in self.files).most_common()

    def to_json(self) -> dict:
        return {"format": "rtconform-push/1", "peer": str(self.peer), "summary": self.line(),
                "counts": {k: self.count(k) for k in ("sent", "sent with a warning",
                                                      "refused", "not sent", "skipped")},
                "files": [{"file": str(f.path), "outcome": f.outcome,
                           "status": f"0x{f.status:04X}" if f.status is not None else None,
                           "meaning": f.describe()} for f in self.files]}


def _nodelay(event) -> None:
    """One request/response per file: Nagle's algorithm would cost ~80 ms each."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def plan(folder: Path) -> tuple[list[tuple[Path, str, str]], list[Sent]]:
    """(file, SOP class, transfer syntax) of each DICOM object under `folder`,
    and the files that will not be sent, with why."""
    objects, skipped = [], []
    for path in iter_files([folder]):
        read = read_instance(path)
        if not isinstance(read, tuple):
            what = "skipped: not a DICOM file" if read.not_dicom else \
                f"not readable as DICOM: {read.reason}"
            skipped.append(Sent(path, None, what))
            continue
        inst, _ = read
        if inst.dicomdir:
            skipped.append(Sent(path, None, "skipped: a DICOMDIR indexes files, it is not sent"))
        elif not inst.part10:
            skipped.append(Sent(path, None, "not sent: no File Meta Information, so no "
                                            "transfer syntax to send it in"))
        else:
            objects.append((path, inst.sop_class_uid, inst.transfer_syntax))
    return objects, skipped


def _batches(objects: list[tuple[Path, str, str]]) -> list[list[tuple[Path, str, str]]]:
    """Objects grouped so that no association needs more than 128 contexts."""
    objects = sorted(objects, key=lambda o: (o[1], o[2], str(o[0])))
    batches, contexts = [[]], set()
    for obj in objects:
        pair = (obj[1], obj[2])
        if pair not in contexts and len(contexts) == MAX_CONTEXTS:
            batches.append([])
            contexts = set()
        contexts.add(pair)
        batches[-1].append(obj)
    return [b for b in batches if b]


def _associate(ae_title: str, peer: Peer, pairs: set[tuple[str, str]], timeouts: Timeouts,
               tls: TLSConfig | None):
    ae = make_ae(ae_title, timeouts)
    for sop_class, syntax in sorted(pairs):
        ae.add_requested_context(sop_class, [syntax])
    if not pairs:
        ae.add_requested_context(Verification)
    kwargs = {"evt_handlers": [(evt.EVT_CONN_OPEN, _nodelay)]}
    if tls is not None:
        kwargs["tls_args"] = (tls.client_context(), peer.host)
    assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
    if not assoc.is_established:
        why = ("association rejected" if assoc.is_rejected
               else "connection refused, aborted or timed out")
        raise PeerUnreachable(f"{peer} ({why}; called as {peer.ae_title} by {ae_title}, "
                              f"connection timeout {timeouts.connection:g} s)")
    return assoc


def wait_for(peer: Peer, ae_title: str, seconds: float, timeouts: Timeouts,
             tls: TLSConfig | None) -> None:
    """Until `peer` answers a C-ECHO (a receiver still starting), at most
    `seconds`; then PeerUnreachable."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            assoc = _associate(ae_title, peer, set(), timeouts, tls)
        except PeerUnreachable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
            continue
        try:
            assoc.send_c_echo()
        finally:
            assoc.release()
        return


def push(folder: Path, peer: Peer, ae_title: str = "RTCONFORM",
         timeouts: Timeouts | None = None, tls: TLSConfig | None = None,
         progress: Callable[[Sent], None] | None = None,
         ready: Callable[[int], None] | None = None) -> PushResult:
    """Send every DICOM object under `folder` to `peer`. `ready(n)` is told how
    many objects will be sent, `progress(sent)` each file as it is answered."""
    timeouts = timeouts or Timeouts()
    objects, skipped = plan(folder)
    result = PushResult(peer, list(skipped))
    if ready is not None:
        ready(len(objects))
    for batch in _batches(objects):
        assoc = _associate(ae_title, peer, {(o[1], o[2]) for o in batch}, timeouts, tls)
        try:
            accepted = {(c.abstract_syntax, c.transfer_syntax[0])
                        for c in assoc.accepted_contexts}
            for path, sop_class, syntax in batch:
                if not assoc.is_established:
                    sent = Sent(path, None, "not sent: the association was aborted or lost")
                elif (sop_class, syntax) not in accepted:
                    sent = Sent(path, None, f"not sent: the receiver accepted no presentation "
                                            f"context for {_name(sop_class)} in {_name(syntax)}")
                else:
                    sent = _store(assoc, path)
                result.files.append(sent)
                if progress is not None:
                    progress(sent)
        finally:
            if assoc.is_established:
                assoc.release()
    return result


def _store(assoc, path: Path) -> Sent:
    try:
        status = assoc.send_c_store(path)  # streamed from disk, as it is
    except (ValueError, AttributeError, OSError) as exc:  # e.g. a UID pynetdicom refuses
        return Sent(path, None, f"not sent: {exc}")
    if not status or "Status" not in status:
        return Sent(path, None, "not sent: no C-STORE response (association aborted or "
                                "DIMSE timeout)")
    return Sent(path, int(status.Status))


def _name(uid: str) -> str:
    from rtconform.dicom.uids import uid_name

    return uid_name(uid)

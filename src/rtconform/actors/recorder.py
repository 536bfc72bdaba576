"""The association recorder shared by every actor, in both directions, for
DIMSE-C and DIMSE-N alike.

Everything the harness later reports comes from here: what was proposed and
accepted, who the peer said it was, every DIMSE request and response with its
status and time, aborts and rejects, and where each received dataset went.
One JSON object per line, appended as it happens, so a crash loses nothing
already seen.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pynetdicom import evt
from pynetdicom.association import Association

from rtconform.redact import MASK, is_identifying

_ids = itertools.count(1)
_prefix = ["a"]  # association ids a1, a2 …; each process of a sharded run its own letter


def set_id_prefix(prefix: str) -> None:
    """Association ids unique across the processes of one run (b1, b2 … in
    the second), so their logs can be merged."""
    _prefix[0] = prefix

# PS3.7 E.1-1: Command Field values, DIMSE-C and DIMSE-N
COMMANDS = {0x0001: "C-STORE-RQ", 0x8001: "C-STORE-RSP", 0x0020: "C-FIND-RQ",
            0x8020: "C-FIND-RSP", 0x0010: "C-GET-RQ", 0x8010: "C-GET-RSP",
            0x0021: "C-MOVE-RQ", 0x8021: "C-MOVE-RSP", 0x0030: "C-ECHO-RQ",
            0x8030: "C-ECHO-RSP", 0x0FFF: "C-CANCEL-RQ",
            0x0100: "N-EVENT-REPORT-RQ", 0x8100: "N-EVENT-REPORT-RSP", 0x0110: "N-GET-RQ",
            0x8110: "N-GET-RSP", 0x0120: "N-SET-RQ", 0x8120: "N-SET-RSP",
            0x0130: "N-ACTION-RQ", 0x8130: "N-ACTION-RSP", 0x0140: "N-CREATE-RQ",
            0x8140: "N-CREATE-RSP", 0x0150: "N-DELETE-RQ", 0x8150: "N-DELETE-RSP"}


def _user(user) -> dict:
    return {
        "ae_title": str(user.ae_title).strip(),
        "address": user.address,
        "port": user.port,
        "implementation_class_uid": str(user.implementation_class_uid or ""),
        "implementation_version_name": str(user.implementation_version_name or ""),
        "max_pdu": user.maximum_length,
    }


def _context(cx, proposed: bool = False) -> dict:
    out = {"id": cx.context_id, "abstract_syntax": str(cx.abstract_syntax)}
    if proposed:
        out["transfer_syntaxes"] = [str(t) for t in cx.transfer_syntax]
    else:
        out["result"] = {0: "accepted", 1: "user-rejection", 2: "no-reason",
                         3: "abstract-syntax-not-supported",
                         4: "transfer-syntaxes-not-supported"}.get(cx.result, cx.result)
        out["transfer_syntax"] = str(cx.transfer_syntax[0]) if cx.transfer_syntax and \
            cx.result == 0 else ""
        out["scu_role"], out["scp_role"] = bool(cx.as_scu), bool(cx.as_scp)
    return out


class AssociationRecorder:
    """Write association events of any number of actors to one JSON-lines file."""

    def __init__(self, path: Path, redact: bool = False) -> None:
        self.path = Path(path)
        self.redact = redact  # identity values of query identifiers kept out of the log
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, int], float] = {}

    # -- writing ----------------------------------------------------------------
    def write(self, event: str, **data) -> None:
        data = {"t": round(time.time(), 6), "event": event, **data}
        line = json.dumps(data, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as fp:
            fp.write(line + "\n")

    def identifier(self, assoc: Association, actor: str, command: str, ds) -> None:
        """A Query/Retrieve identifier as sent or answered: the evidence of
        what was asked (redacted with the report, like every PHI)."""
        keys = {}
        for element in ds or []:
            if element.VR == "SQ":
                continue
            value = str(element.value or "")
            if self.redact and value and is_identifying(element.keyword, element.VR):
                value = MASK
            keys[element.keyword or str(element.tag)] = value
        self.write("identifier", assoc=self.assoc_id(assoc), actor=actor, command=command,
                   keys=keys)

    @staticmethod
    def assoc_id(assoc: Association) -> str:
        if not hasattr(assoc, "_rtconform_id"):
            assoc._rtconform_id = f"{_prefix[0]}{next(_ids)}"
        return assoc._rtconform_id

    def _base(self, assoc: Association, actor: str) -> dict:
        direction = "inbound" if assoc.is_acceptor else "outbound"
        peer = assoc.requestor if assoc.is_acceptor else assoc.acceptor
        local = assoc.acceptor if assoc.is_acceptor else assoc.requestor
        return {"assoc": self.assoc_id(assoc), "actor": actor, "direction": direction,
                "local_ae": str(local.ae_title).strip(), "peer": _user(peer)}

    def handlers(self, actor: str) -> list[tuple]:
        """pynetdicom event handlers recording on behalf of `actor`."""

        def on_requested(event):
            rq = event.assoc.requestor
            calling = getattr(rq.primitive, "calling_ae_title", None) or rq.ae_title
            self.write("requested", **self._base(event.assoc, actor),
                       calling_ae=str(calling).strip(),
                       called_ae=str(event.assoc.acceptor.ae_title).strip(),
                       proposed=[_context(c, proposed=True) for c in rq.requested_contexts],
                       roles=_roles(rq))

        def on_accepted(event):
            assoc = event.assoc
            data = self._base(assoc, actor)
            data["calling_ae"] = str(assoc.requestor.ae_title).strip()
            data["called_ae"] = str(assoc.acceptor.ae_title).strip()
            data["application_context"] = "1.2.840.10008.3.1.1.1"
            data["tls"] = _tls(assoc)
            data["proposed"] = [_context(c, proposed=True)
                                for c in assoc.requestor.requested_contexts]
            data["contexts"] = [_context(c) for c in
                                sorted(assoc.accepted_contexts + assoc.rejected_contexts,
                                       key=lambda c: c.context_id)]
            self.write("accepted", **data)

        def on_rejected(event):
            assoc = event.assoc
            primitive = getattr(assoc.acceptor, "primitive", None)
            self.write("rejected", **self._base(assoc, actor),
                       calling_ae=str(assoc.requestor.ae_title).strip(),
                       called_ae=str(assoc.acceptor.ae_title).strip(),
                       result=getattr(primitive, "result_str", None),
                       source=getattr(primitive, "source_str", None),
                       reason=getattr(primitive, "reason_str", None))

        def on_aborted(event):
            self.write("aborted", **self._base(event.assoc, actor))

        def on_abort_pdu(by: str) -> Callable:
            """Who aborted: an A-ABORT this side sent, or one (or a dropped
            connection, A-P-ABORT) that came from the peer (PS3.8 7.3, 7.4)."""
            def handler(event):
                primitive = event.primitive
                kind = type(primitive).__name__
                if kind not in ("A_ABORT", "A_P_ABORT") or (by == "local" and kind != "A_ABORT"):
                    return
                source = getattr(primitive, "abort_source", None)
                self.write("abort", assoc=self.assoc_id(event.assoc), actor=actor, by=by,
                           pdu=kind.replace("_", "-"), source=source,
                           reason=getattr(primitive, "provider_reason", None))
            return handler

        def on_released(event):
            self.write("released", **self._base(event.assoc, actor))

        def on_dimse(direction: str) -> Callable:
            def handler(event):
                cs = event.message.command_set
                command = COMMANDS.get(int(cs.get("CommandField", 0)), str(cs.get("CommandField")))
                aid = self.assoc_id(event.assoc)
                data = {"assoc": aid, "actor": actor, "direction": direction, "command": command,
                        "message_id": cs.get("MessageID", cs.get("MessageIDBeingRespondedTo")),
                        **_sop(cs)}
                if command == "C-MOVE-RQ":  # ties the sub-associations to their operation
                    data["move_destination"] = str(cs.get("MoveDestination", "")).strip()
                if command.endswith("-RQ"):
                    self._pending[(aid, int(cs.get("MessageID", 0)))] = time.perf_counter()
                else:
                    status = cs.get("Status")
                    data["status"] = f"0x{int(status):04X}" if status is not None else None
                    started = self._pending.pop((aid, int(cs.get("MessageIDBeingRespondedTo",
                                                                 0))), None)
                    if started is not None and status is not None and int(status) not in \
                            (0xFF00, 0xFF01):
                        data["ms"] = round((time.perf_counter() - started) * 1000, 2)
                    elif started is not None:
                        self._pending[(aid, int(cs.get("MessageIDBeingRespondedTo", 0)))] = \
                            started  # pending responses: the operation goes on
                self.write("dimse", **data)

            return handler

        return [
            (evt.EVT_REQUESTED, on_requested), (evt.EVT_ACCEPTED, on_accepted),
            (evt.EVT_REJECTED, on_rejected), (evt.EVT_ABORTED, on_aborted),
            (evt.EVT_ACSE_RECV, on_abort_pdu("peer")), (evt.EVT_ACSE_SENT, on_abort_pdu("local")),
            (evt.EVT_RELEASED, on_released),
            (evt.EVT_DIMSE_RECV, on_dimse("received")), (evt.EVT_DIMSE_SENT, on_dimse("sent")),
        ]

    def attributes(self, assoc: Association, actor: str, command: str, ds) -> None:
        """The data set of an N-service message (an N-ACTION's Action
        Information, an N-EVENT-REPORT's Event Information, an N-CREATE's or
        N-SET's attributes, what N-GET returned), sequences item by item:
        the evidence of what was asked and answered, identity values masked
        with the report."""
        self.write("attributes", assoc=self.assoc_id(assoc), actor=actor, command=command,
                   attributes=self._values(ds))

    def _values(self, ds, depth: int = 0) -> dict:
        out: dict = {}
        for element in ds or []:
            name = element.keyword or str(element.tag)
            if element.VR == "SQ":
                out[name] = [self._values(item, depth + 1) for item in element.value] \
                    if depth < 3 else f"{len(element.value)} item(s)"
                continue
            value = str(element.value if element.value is not None else "")
            if self.redact and value and is_identifying(element.keyword, element.VR):
                value = MASK
            out[name] = value
        return out

    def stored(self, assoc: Association, actor: str, **data) -> None:
        """A dataset received by a C-STORE SCP: where it went, or why not."""
        self.write("stored", assoc=self.assoc_id(assoc), actor=actor, **data)

    def note(self, actor: str, message: str, **data) -> None:
        self.write("note", actor=actor, message=message, **data)


def _sop(cs) -> dict:
    """The SOP class and instance a DIMSE message is about: Affected (DIMSE-C,
    N-CREATE, N-EVENT-REPORT and every response) or Requested (N-GET, N-SET,
    N-ACTION, N-DELETE requests, PS3.7 10.1); and the N-ACTION / N-EVENT-REPORT
    type, which says what was asked or reported."""
    data = {"sop_class": str(cs.get("AffectedSOPClassUID", cs.get("RequestedSOPClassUID", ""))),
            "sop_instance": str(cs.get("AffectedSOPInstanceUID",
                                       cs.get("RequestedSOPInstanceUID", "")))}
    for keyword, key in (("ActionTypeID", "action_type"), ("EventTypeID", "event_type")):
        if keyword in cs:
            data[key] = int(cs.get(keyword))
    return data


def _tls(assoc) -> dict | None:
    """TLS version and cipher of the association's socket, None over plain TCP."""
    sock = getattr(getattr(assoc.dul, "socket", None), "socket", None)
    version = getattr(sock, "version", None)
    if not callable(version) or version() is None:
        return None
    cipher = sock.cipher() or ("", "", 0)
    return {"version": version(), "cipher": cipher[0],
            "peer_certificate": bool(sock.getpeercert())}


def _roles(user) -> list[dict]:
    roles = []
    for item in getattr(user, "role_selection", {}).values():
        roles.append({"sop_class": str(item.sop_class_uid), "scu": bool(item.scu_role),
                      "scp": bool(item.scp_role)})
    return roles


# -- reading ------------------------------------------------------------------------
@dataclass
class AssociationRecord:
    """One association as the log tells it, events folded together."""

    id: str
    actor: str = ""
    direction: str = ""
    calling_ae: str = ""
    called_ae: str = ""
    peer: dict = field(default_factory=dict)
    proposed: list[dict] = field(default_factory=list)
    contexts: list[dict] = field(default_factory=list)
    dimse: list[dict] = field(default_factory=list)
    stored: list[dict] = field(default_factory=list)
    outcome: str = "open"  # accepted | released | aborted | rejected
    reject: dict = field(default_factory=dict)
    abort: dict = field(default_factory=dict)  # who aborted: by local|peer, A-ABORT source
    identifiers: list[dict] = field(default_factory=list)  # query keys sent and answered
    attributes: list[dict] = field(default_factory=list)  # N-service data sets
    tls: dict | None = None  # protocol and cipher when the association ran over TLS
    started: float = 0.0  # time of its first event (A-ASSOCIATE-RQ seen or sent)

    def statuses(self, command: str) -> list[str]:
        return [d["status"] for d in self.dimse if d["command"] == command and d.get("status")]

    def final_statuses(self, *commands: str) -> list[str]:
        """Statuses of `commands` that end an operation (not Pending)."""
        return [s for c in commands for s in self.statuses(c) if s not in ("0xFF00", "0xFF01")]

    def stores_sent(self, sop_class: str, status: str = "0x0000") -> int:
        """C-STORE requests of `sop_class` this side sent that were answered
        with `status`, paired by message id (a response need not repeat the
        SOP class)."""
        classes = {d["message_id"]: d["sop_class"] for d in self.dimse
                   if d["command"] == "C-STORE-RQ" and d["direction"] == "sent"}
        return sum(1 for d in self.dimse if d["command"] == "C-STORE-RSP"
                   and d["direction"] == "received" and d.get("status") == status
                   and classes.get(d["message_id"]) == sop_class)

    def stores_received(self) -> list[str]:
        """SOP Instance UIDs of the C-STORE requests this side received."""
        return [d["sop_instance"] for d in self.dimse
                if d["command"] == "C-STORE-RQ" and d["direction"] == "received"]

    def moves(self) -> list[tuple[dict, float]]:
        """Each C-MOVE request with the time its operation ended (the final,
        non-Pending response; the request's own time if none came)."""
        out = []
        for rq in (d for d in self.dimse if d["command"] == "C-MOVE-RQ"):
            ends = [d["t"] for d in self.dimse if d["command"] == "C-MOVE-RSP"
                    and d.get("message_id") == rq.get("message_id")
                    and d.get("status") not in ("0xFF00", "0xFF01")]
            out.append((rq, min((t for t in ends if t >= rq["t"]), default=rq["t"])))
        return out

    def proposals(self) -> list[tuple[str, str]]:
        """(abstract syntax, transfer syntax) pairs the requestor proposed."""
        return [(p["abstract_syntax"], t) for p in self.proposed
                for t in p.get("transfer_syntaxes", [])]


def log_size(path: Path) -> int:
    """Where the log ends now: a mark to read only what comes after it."""
    try:
        return Path(path).stat().st_size
    except FileNotFoundError:
        return 0


def read_events(path: Path, offset: int = 0) -> list[dict]:
    """The events of a log, from byte `offset` (a `log_size` mark) on."""
    if not Path(path).exists():
        return []
    with Path(path).open("rb") as fp:
        fp.seek(offset)
        data = fp.read()
    data = data[:data.rfind(b"\n") + 1]  # a line still being written is not read yet
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


# events that add one entry to a list of the association's record
_LISTS = {"dimse": "dimse", "stored": "stored", "identifier": "identifiers",
          "attributes": "attributes"}


def read_associations(path: Path, offset: int = 0) -> list[AssociationRecord]:
    """Associations of the log; from a mark on, only those that began after it
    (an association still open at the mark is not this reader's)."""
    records: dict[str, AssociationRecord] = {}
    earlier: set[str] = set()
    for e in read_events(path, offset):
        if "assoc" not in e or e["assoc"] in earlier:
            continue
        if offset and e["assoc"] not in records and \
                e["event"] not in ("requested", "accepted", "rejected"):
            earlier.add(e["assoc"])
            continue
        rec = records.setdefault(e["assoc"], AssociationRecord(e["assoc"], started=e.get("t", 0)))
        rec.actor = rec.actor or e.get("actor", "")
        kind = e["event"]
        if kind in ("requested", "accepted", "rejected"):
            rec.direction = e.get("direction", rec.direction)
            rec.calling_ae = e.get("calling_ae", rec.calling_ae)
            rec.called_ae = e.get("called_ae", rec.called_ae)
            rec.peer = e.get("peer", rec.peer)
            rec.proposed = e.get("proposed") or rec.proposed
        if kind == "accepted":
            rec.contexts = e["contexts"]
            rec.tls = e.get("tls")
            rec.outcome = "accepted"
        elif kind == "rejected":
            rec.outcome = "rejected"
            rec.reject = {k: e.get(k) for k in ("result", "source", "reason")}
        elif kind in ("aborted", "released"):
            rec.outcome = kind
        elif kind == "abort":
            rec.abort = rec.abort or {k: e.get(k) for k in ("by", "pdu", "source", "reason")}
        elif kind in _LISTS:
            getattr(rec, _LISTS[kind]).append(e)
    return list(records.values())

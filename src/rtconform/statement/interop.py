"""Will A work with B? Per IHE-RO TRO transaction and direction (A as
Contourer → B as Archive, B as Archive → A as Dose Displayer, …): works,
blocked or not claimed, with the statement rows that decide it.

A storage transaction (RO-2 … RO-5, RO-11) needs the producer's Storage SCU
and the Archive's Storage SCP of its SOP class with a transfer syntax in
common. A retrieve (RO-1, RO-6 … RO-10) needs the Archive to hold the class
and the receiver to accept it, a retrieve both sides speak — C-MOVE (the
Archive must know the receiver as a Move Destination: AE title, host, port)
or C-GET (SCP/SCU Role Selection, PS3.7 D.3.3.4: the receiver takes the
C-STORE sub-operations as SCP on the same association) — and shows the
C-FIND keys one side sends against those the other matches. Character sets
and the receiver's import constraints are conditions on every flow."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rtconform.dicom.uids import uid_name
from rtconform.ihe.tro import ARCHIVE, TRANSACTIONS, order
from rtconform.statement.model import Claim, character_sets, claims, constraints, context_claims

UID_FORM = re.compile(r"[0-9]+(\.[0-9]+)+")
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
DEFAULT_TS_NOTE = ("Implicit VR Little Endian is the default transfer syntax every DICOM "
                   "implementation must support (PS3.5 10.1)")
CLASS_OF = {"CT": "1.2.840.10008.5.1.4.1.1.2", "RTSTRUCT": "1.2.840.10008.5.1.4.1.1.481.3",
            "RTPLAN": "1.2.840.10008.5.1.4.1.1.481.5", "RTDOSE": "1.2.840.10008.5.1.4.1.1.481.2"}
MODELS = {  # information model → (FIND, MOVE, GET)
    "Patient Root": ("1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.1.2",
                     "1.2.840.10008.5.1.4.1.2.1.3"),
    "Study Root": ("1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.2",
                   "1.2.840.10008.5.1.4.1.2.2.3"),
}
MATCHING = {"S": "single value", "*": "wildcard", "R": "range", "U": "UID list",
            "L": "UID list", "UNIQUE": "unique key"}


@dataclass
class Side:
    """One statement as a party to a flow: which actors it plays (declared
    per AE, or read from what it claims) and its claims by actor."""
    label: str
    statement: dict

    only: frozenset[str] | None = None  # the AEs this view is restricted to

    def __post_init__(self) -> None:
        self.declared = {a for ae in self.statement["application_entities"]
                         for a in ae.get("actors", [])}
        self._claims = claims(self.statement) + context_claims(self.statement)

    def restricted(self, ae: str) -> Side:
        """The same side as one AE: a retrieve is made by one AE that both
        asks and accepts what comes back."""
        return Side(self.label, self.statement, frozenset({ae}))

    def one_ae(self, actors: tuple[str, ...], needs: list[tuple[list[str], str]]) -> Side:
        """This side as its first AE that claims every (SOP classes, role)
        of `needs` (any class of each list), else as it is."""
        for ae in sorted({c.ae for c in self._claims}):
            view = self.restricted(ae)
            if all(view.find(uids, role, actors) for uids, role in needs):
                return view
        return self

    def aes(self, actors: tuple[str, ...]) -> set[str] | None:
        """The AEs that play one of `actors` (None: the statement declares no
        actors, every AE may)."""
        if not self.declared:
            return None
        return {ae["ae_title"] for ae in self.statement["application_entities"]
                if set(ae.get("actors", [])) & set(actors)}

    def find(self, uids, role: str, actors: tuple[str, ...]) -> list[Claim]:
        aes = self.aes(actors)
        wanted = {uids} if isinstance(uids, str) else set(uids)
        return [c for c in self._claims if c.uid in wanted and c.role == role
                and (aes is None or c.ae in aes) and (self.only is None or c.ae in self.only)]

    def plays(self, actors: tuple[str, ...]) -> bool:
        return not self.declared or bool(self.declared & set(actors))

    def query_keys(self, actors: tuple[str, ...]) -> list[dict]:
        aes = self.aes(actors)
        return [k for ae in self.statement["application_entities"]
                if (aes is None or ae["ae_title"] in aes)
                and (self.only is None or ae["ae_title"] in self.only)
                for k in ae.get("query_keys", [])]


def _syntaxes(found: list[Claim]) -> set[str]:
    return set().union(*(c.syntaxes for c in found)) if found else set()


def syntax_name(value: str) -> str:
    """A transfer syntax's name; a list name a statement left unexpanded
    (MPEG2) as it is."""
    return uid_name(value) if UID_FORM.fullmatch(value) else value


def _names(uids) -> str:
    return ", ".join(syntax_name(u) for u in sorted(uids)) or "none stated"


def _claim_text(side: Side, found: list[Claim], what: str) -> str:
    """'Orthanc (ORTHANC) stores RT Dose Storage in Explicit VR Little Endian, …'."""
    aes = sorted({c.ae for c in found})
    return f"{side.label} ({', '.join(aes)}) {what} in {_names(_syntaxes(found))}"


def _sources(found: list[Claim]) -> str:
    return "; ".join(sorted({c.source for c in found if c.source}))


def _row(kind: str, verdict: str, text: str, source: str = "") -> dict:
    """A deciding row: verdict ok, blocks, missing (not claimed) or
    condition (works once configured or if the data fits)."""
    return {"kind": kind, "verdict": verdict, "text": text, "source": source}


def _default_ts_note(sender: Side, s: list[Claim], receiver: Side, r: list[Claim]) -> str:
    lacking = [side.label for side, found in ((sender, s), (receiver, r))
               if IMPLICIT_VR_LE not in _syntaxes(found)]
    return (f"{DEFAULT_TS_NOTE}: {' and '.join(lacking)} do{'es' if len(lacking) == 1 else ''}"
            " not claim it here, so that statement is incomplete or that side is not "
            "conformant") if lacking else DEFAULT_TS_NOTE


def _syntax_rows(sender: Side, s: list[Claim], receiver: Side, r: list[Claim],
                 name: str) -> tuple[list[dict], bool]:
    common = _syntaxes(s) & _syntaxes(r)
    if common:
        return [_row("transfer syntax", "ok", f"{name} in common: {_names(common)}")], True
    return [_row("transfer syntax", "blocks",
                 f"no transfer syntax in common for {name}; "
                 + _default_ts_note(sender, s, receiver, r), "DICOM PS3.5 10.1")], False


def _charset_row(sender: Side, receiver: Side) -> dict:
    a, b = character_sets(sender.statement), character_sets(receiver.statement)
    if not a or not b:
        return _row("character sets", "condition",
                    f"{(sender if not a else receiver).label} states no character set: "
                    "names outside the default repertoire may not survive")
    common = sorted(a & b)
    if common:
        extra = sorted(a - b)
        return _row("character sets", "condition" if extra else "ok",
                    f"in common: {', '.join(common)}" + (
                        f"; {sender.label} may also write {', '.join(extra)}, which "
                        f"{receiver.label} does not claim" if extra else ""))
    return _row("character sets", "condition",
                f"none in common ({sender.label}: {', '.join(sorted(a))}; {receiver.label}: "
                f"{', '.join(sorted(b))}): names outside ASCII may be garbled")


def _import_rows(sender: Side, receiver: Side, uid: str) -> list[dict]:
    """The receiver's import constraints on the class against the sender's
    export claims: a difference is a condition on the data, not a block."""
    exports = {c["attribute"]: c for c in constraints(sender.statement, "export")
               if c["sop_class"] == uid}
    rows = []
    for imp in constraints(receiver.statement, "import"):
        if imp["sop_class"] != uid:
            continue
        exp = exports.get(imp["attribute"])
        allowed = imp.get("allowed")
        if exp and allowed and exp.get("allowed"):
            outside = sorted(set(map(str, exp["allowed"])) - set(map(str, allowed)))
            if not outside:
                continue
            text = (f"{receiver.label} imports {imp['attribute']} only as "
                    f"{', '.join(map(str, allowed))}; {sender.label} exports also "
                    f"{', '.join(outside)}")
        else:
            limit = (f"one of {', '.join(map(str, allowed))}" if allowed else
                     f"at most {imp['max_items']} item(s)" if "max_items" in imp else
                     f"expected {imp['expect']}" if "expect" in imp else "constrained")
            text = f"{receiver.label} imports {imp['attribute']} {limit}" + (
                f" — {imp['consequence']}" if imp.get("consequence") else "")
        rows.append(_row("import constraint", "condition", text, imp.get("source", "")))
    return rows


def storage(t, sender: Side, receiver: Side) -> dict:
    """A producer stores its objects in the Archive."""
    (actor,) = t.senders
    uid = CLASS_OF[t.modalities[0]]
    name = uid_name(uid)
    rows: list[dict] = []
    for side, actors in ((sender, t.senders), (receiver, t.receivers)):
        if not side.plays(actors):
            return _flow(t, sender, actor, receiver, ARCHIVE, "not claimed", [_row(
                "actor", "missing", f"{side.label} plays none of {', '.join(actors)}")])
    if not receiver.declared and not _is_archive(receiver):
        return _flow(t, sender, actor, receiver, ARCHIVE, "not claimed", [_row(
            "actor", "missing", f"{receiver.label} claims no Query/Retrieve SCP: not an "
                                f"Archive")])
    s = sender.find(uid, "SCU", t.senders)
    r = receiver.find(uid, "SCP", t.receivers)
    rows.append(_row("claim", "ok" if s else "missing",
                     _claim_text(sender, s, f"sends {name} as SCU") if s else
                     f"{sender.label} claims no {name} SCU", _sources(s)))
    rows.append(_row("claim", "ok" if r else "missing",
                     _claim_text(receiver, r, f"stores {name} as SCP") if r else
                     f"{receiver.label} claims no {name} SCP", _sources(r)))
    if not (s and r):
        return _flow(t, sender, actor, receiver, ARCHIVE, "not claimed", rows)
    syntax_rows, ok = _syntax_rows(sender, s, receiver, r, name)
    rows += [*syntax_rows, _charset_row(sender, receiver), *_import_rows(sender, receiver, uid)]
    return _flow(t, sender, actor, receiver, ARCHIVE, "works" if ok else "blocked", rows)


def _is_archive(side: Side) -> bool:
    return bool(side.find([u for m in MODELS.values() for u in m[1:]], "SCP", (ARCHIVE,)))


def _retrieve_rows(archive: Side, receiver: Side, t, uid: str) -> tuple[list[dict], bool, bool]:
    """(rows, a method both speak, a claimed method at all) for C-MOVE and C-GET."""
    rows, works, claimed = [], False, False
    for model, (_, move, get) in MODELS.items():
        for method, service in (("C-MOVE", move), ("C-GET", get)):
            scp = archive.find(service, "SCP", (ARCHIVE,))
            scu = receiver.find(service, "SCU", t.receivers)
            if not scu:
                if scp:  # what it would take, said once per method
                    rows.append(_row(method, "not used", _unused(method, model, scp, archive,
                                                                 receiver), _sources(scp)))
                continue
            claimed = True
            label = f"{model} {method}"
            if not scp:
                rows.append(_row(method, "missing", f"{receiver.label} retrieves by {label}; "
                                 f"{archive.label} claims no {label} SCP", _sources(scu)))
                continue
            if method == "C-MOVE":
                rows.append(_move_destination_row(archive, receiver, label, scp))
                works = True
                continue
            row, speaks = _get_role_row(archive, receiver, t, uid, label, scu, scp)
            rows.append(row)
            works = works or speaks
    return rows, works, claimed


def _move_destination_row(archive: Side, receiver: Side, label: str, scp: list[Claim]) -> dict:
    """A C-MOVE both speak works once the Archive may send its results to the
    receiver: to any destination, to the requestor only, or to those
    configured in it (the usual case: AE title, host and port)."""
    policy = next((c.move_destinations for c in scp if c.move_destinations), "")
    note = next((c.note for c in scp if c.note), "")
    if policy == "any":
        return _row("C-MOVE destination", "ok",
                    f"{archive.label} sends {label} results to any Move Destination",
                    _sources(scp))
    if policy == "requestor":
        return _row("C-MOVE destination", "condition",
                    f"{archive.label} sends {label} results to the requestor only: "
                    f"{receiver.label} must ask for itself", _sources(scp))
    return _row("C-MOVE destination", "condition",
                f"{archive.label} must know {receiver.label}'s AE title, host and port "
                f"as a Move Destination" + (f" ({note})" if note else "")
                + ("" if policy else f"; {archive.label} does not say how its "
                                     f"destinations are set"), _sources(scp))


def _get_role_row(archive: Side, receiver: Side, t, uid: str, label: str,
                  scu: list[Claim], scp: list[Claim]) -> tuple[dict, bool]:
    """(row, works) for a C-GET both speak: its C-STORE sub-operations reach
    the receiver only if it offers the class in the SCP role and both
    negotiate SCP/SCU Role Selection (PS3.7 D.3.3.4)."""
    name = uid_name(uid)
    offered = receiver.find(uid, "SCP", t.receivers)
    proposes = next((c.role_selection for c in scu if c.role_selection is not None), None)
    accepts = next((c.role_selection for c in scp if c.role_selection is not None), None)
    if accepts is False or proposes is False:
        return _row("C-GET role selection", "blocks",
                    f"{label}: {(archive if accepts is False else receiver).label}"
                    " does not negotiate SCP/SCU Role Selection, without which "
                    "no C-STORE sub-operation can reach the receiver "
                    "(PS3.7 D.3.3.4)", _sources(scp + scu)), False
    if not offered:
        return _row("C-GET role selection", "missing",
                    f"{receiver.label} does not offer {name} as SCP on its "
                    f"{label} association", _sources(scu)), False
    said = [] if accepts else [f"{archive.label} does not state that it accepts "
                               f"SCP/SCU Role Selection"]
    return _row("C-GET role selection", "condition" if said else "ok",
                f"{label}: {receiver.label} proposes {name} in the SCP role "
                f"(role selection, PS3.7 D.3.3.4) "
                + (f"and {archive.label} accepts it" if accepts else
                   f"; {said[0]}"), _sources(scp + offered)), True


def _unused(method: str, model: str, scp: list[Claim], archive: Side, receiver: Side) -> str:
    text = f"{receiver.label} claims no {model} {method} SCU, which {archive.label} serves"
    if method == "C-MOVE":
        policy = next((c.move_destinations for c in scp if c.move_destinations), "")
        note = next((c.note for c in scp if c.note), "")
        if policy != "any":
            text += (f"; were it used, {archive.label} must know {receiver.label}'s AE title, "
                     f"host and port as a Move Destination" + (f" ({note})" if note else ""))
    return text


def _find_rows(archive: Side, receiver: Side, t) -> list[dict]:
    """C-FIND: the models both speak and each key the receiver matches on
    against the matching types the Archive states."""
    rows = []
    for model, (find, _, _) in MODELS.items():
        scu = receiver.find(find, "SCU", t.receivers)
        if not scu:
            continue
        scp = archive.find(find, "SCP", (ARCHIVE,))
        rows.append(_row("C-FIND", "ok" if scp else "condition",
                         f"{receiver.label} queries by {model} C-FIND; {archive.label} "
                         + ("answers it" if scp else "claims no such SCP: the UIDs must be "
                                                     "known another way"), _sources(scu + scp)))
    if not rows:
        return [_row("C-FIND", "condition", f"{receiver.label} claims no C-FIND SCU: it "
                                              "retrieves by UIDs it knows")]
    theirs = {(k["level"], k["keyword"]): set(k.get("matching", []))
              for k in archive.query_keys((ARCHIVE,))}
    keys = [k for k in receiver.query_keys(t.receivers) if k.get("matching")]
    if not keys:
        rows.append(_row("C-FIND keys", "condition", f"{receiver.label} states no matching "
                                                     "keys it sends"))
    for key in keys:
        wanted = set(key["matching"])
        has = theirs.get((key["level"], key["keyword"]))
        if has is None:
            has = next((m for (_, kw), m in theirs.items() if kw == key["keyword"]), None)
        if has is None:
            rows.append(_row("C-FIND keys", "condition",
                             f"{key['level']} {key['keyword']} ({_matching(wanted)}): "
                             f"{archive.label} does not state it matches this key",
                             key.get("source", "")))
            continue
        if "UNIQUE" in wanted:
            wanted = (wanted - {"UNIQUE"}) | {"S"}
        missing = wanted - has - ({"L"} if "U" in has else set())
        rows.append(_row("C-FIND keys", "condition" if missing else "ok",
                         f"{key['level']} {key['keyword']} ({_matching(key['matching'])}): "
                         + (f"{archive.label} does not state {_matching(missing)} matching"
                            if missing else f"{archive.label} matches it"),
                         key.get("source", "")))
    return rows


def _matching(kinds) -> str:
    return ", ".join(MATCHING.get(k, k) for k in sorted(kinds))


def retrieve(t, archive: Side, receiver: Side) -> dict:
    """A receiving actor retrieves objects of the transaction from the Archive."""
    uid = CLASS_OF[t.modalities[0]]
    name = uid_name(uid)
    receivers = "/".join(t.receivers)
    for side, actors in ((archive, t.senders), (receiver, t.receivers)):
        if not side.plays(actors):
            return _flow(t, archive, ARCHIVE, receiver, receivers, "not claimed", [_row(
                "actor", "missing", f"{side.label} plays none of {', '.join(actors)}")])
    if not archive.declared and not _is_archive(archive):
        return _flow(t, archive, ARCHIVE, receiver, receivers, "not claimed", [_row(
            "actor", "missing", f"{archive.label} claims no Query/Retrieve SCP: not an "
                                f"Archive")])
    retrieves = [u for m in MODELS.values() for u in m[1:]]
    archive = archive.one_ae((ARCHIVE,), [([uid], "SCP"), (retrieves, "SCP")])
    receiver = receiver.one_ae(t.receivers, [([uid], "SCP"), (retrieves, "SCU")])
    held = archive.find(uid, "SCP", (ARCHIVE,))
    taken = receiver.find(uid, "SCP", t.receivers)
    rows = [_row("claim", "ok" if held else "missing",
                 _claim_text(archive, held, f"stores {name}") if held else
                 f"{archive.label} claims no {name} SCP", _sources(held)),
            _row("claim", "ok" if taken else "missing",
                 _claim_text(receiver, taken, f"accepts {name} as SCP") if taken else
                 f"{receiver.label} claims no {name} SCP", _sources(taken))]
    method_rows, works, claimed = _retrieve_rows(archive, receiver, t, uid)
    if not claimed:
        method_rows.append(_row("retrieve", "missing", f"{receiver.label} claims no C-MOVE "
                                                       "or C-GET SCU"))
    rows += method_rows
    if not (held and taken and claimed):
        return _flow(t, archive, ARCHIVE, receiver, receivers, "not claimed", rows)
    syntax_rows, ok = _syntax_rows(archive, held, receiver, taken, name)
    rows += syntax_rows + _find_rows(archive, receiver, t) + [_charset_row(archive, receiver)]
    rows += _import_rows(archive, receiver, uid)
    verdict = "works" if ok and works else "blocked"
    if not works:
        rows.append(_row("retrieve", "blocks", f"no retrieve both speak: {archive.label} and "
                                               f"{receiver.label} share no C-MOVE or C-GET"))
    return _flow(t, archive, ARCHIVE, receiver, receivers, verdict, rows)


def _flow(t, sender: Side, sender_actor: str, receiver: Side, receiver_actor: str,
          verdict: str, rows: list[dict]) -> dict:
    deciding = [r for r in rows if r["verdict"] in ("blocks", "missing")]
    conditions = [r for r in rows if r["verdict"] == "condition"]
    reason = "; ".join(r["text"] for r in (deciding if verdict != "works" else conditions)[:2])
    return {"transaction": t.id, "name": t.name,
            "direction": f"{sender.label} as {sender_actor} → {receiver.label} as "
                         f"{receiver_actor}",
            "verdict": verdict, "reason": reason, "rows": rows,
            "conditions": len(conditions)}


def transactions(a: dict, b: dict) -> list[dict]:
    """Every TRO transaction in both directions, in transaction order."""
    sides = (Side(a["product"]["name"], a), Side(b["product"]["name"], b))
    if sides[0].label == sides[1].label:
        sides = (Side(f"A ({sides[0].label})", a), Side(f"B ({sides[1].label})", b))
    out = []
    for t in sorted(TRANSACTIONS.values(), key=lambda t: order(t.id)):
        for first, second in (sides, sides[::-1]):
            out.append(retrieve(t, first, second) if t.senders == (ARCHIVE,)
                       else storage(t, first, second))
    return out


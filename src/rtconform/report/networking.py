"""The report's networking section (DICOM PS3.2 section 4 of a conformance
statement), from the harness's association log alone: the SOP classes
exchanged in each role, the presentation contexts negotiated (grouped by
outcome), the C-MOVE operations with the sub-associations they caused, the
association policies and the DIMSE statuses seen with their PS3.4 meanings.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from rtconform.actors.node import status_text
from rtconform.actors.recorder import AssociationRecord
from rtconform.dicom.uids import uid_name


def sut_associations(records: list[AssociationRecord]) -> list[AssociationRecord]:
    """Associations between the harness and the SUT. The run's log holds only
    the harness's side of its associations, all of them with the SUT (the
    embedded reference actors log to sut-associations.jsonl): no AE title
    decides, so a SUT may call itself anything, RTC_VENDOR included."""
    return [r for r in records if r.peer]


def sut_role(record: AssociationRecord, context: dict) -> str:
    """What the SUT was in this context. The log holds the harness's own
    roles (pynetdicom's as_scu/as_scp of the local side); the SUT plays the
    other one. Without a role either way (a refused context, or both roles
    negotiated) the requestor is the SCU (PS3.7 D.3.3.4)."""
    harness_scu, harness_scp = bool(context.get("scu_role")), bool(context.get("scp_role"))
    if harness_scu != harness_scp:
        return "SCP" if harness_scu else "SCU"
    return "SCU" if record.direction == "inbound" else "SCP"


def move_sub_associations(records: list[AssociationRecord]
                          ) -> dict[str, tuple[AssociationRecord, dict]]:
    """Which associations were opened for a C-MOVE, and by which request.

    A C-MOVE SCP sends what was asked for over associations of its own to
    the Move Destination: the other direction, called AE = Move Destination,
    requested while the C-MOVE ran (PS3.4 C.4.2). Shown under their
    operation, their contexts are no longer mistaken for a separate activity
    (nor the contexts the receiving side declined for rejections by the SUT).
    """
    slack = 1.0  # seconds: log lines of two threads are not strictly ordered
    owner: dict[str, tuple[AssociationRecord, dict]] = {}
    for parent in records:
        for rq, ended in parent.moves():
            for r in records:
                if r.id != parent.id and r.id not in owner and r.direction and \
                        r.direction != parent.direction and \
                        r.called_ae == rq.get("move_destination") and \
                        rq["t"] - slack <= r.started <= ended + slack:
                    owner[r.id] = (parent, rq)
    return owner


def _requested(r: AssociationRecord) -> list[str]:
    """The operations the requestor of an association asked for (C-GET, not
    the C-STORE sub-operations it caused)."""
    by_requestor = "sent" if r.direction == "outbound" else "received"
    return sorted({d["command"].split("-RQ")[0] for d in r.dimse
                   if d["command"].endswith("-RQ") and d.get("direction") == by_requestor})


def _activity(r: AssociationRecord) -> str:
    """'Dose Displayer C-GET' (the harness asked) or 'Contourer C-STORE, SUT
    requests' (the SUT opened the association)."""
    label = f"{r.actor} {', '.join(_requested(r)) or 'no DIMSE'}"
    return label + (" (SUT requests)" if r.direction == "inbound" else "")


def _outcome(r: AssociationRecord, cx: dict) -> tuple[str, str]:
    """(outcome, reason) of one presentation context, said from whose side
    decided it: the SUT accepts or rejects what the harness proposes; the
    harness declines what the SUT proposes (PS3.8 9.3.3.2 result values)."""
    if cx["result"] == "accepted":
        return "accepted", ""
    reason = str(cx["result"]).replace("-", " ")
    if r.direction == "outbound":
        return "rejected by the SUT", reason
    return "declined by the harness", reason


def exchanged(records: list[AssociationRecord]) -> Counter:
    """(SOP class, SUT role) → DIMSE requests exchanged. The side that sends a
    request is the SCU of its SOP class (a C-STORE sub-operation of a C-GET
    included): that, not a negotiated role, is what "observed" means."""
    out: Counter = Counter()
    for r in records:
        for d in r.dimse:
            if d["command"].endswith("-RQ") and d.get("sop_class") and \
                    d["command"] != "C-CANCEL-RQ":
                out[(d["sop_class"], "SCU" if d.get("direction") == "received" else "SCP")] += 1
    return out


def context_rows(records: list[AssociationRecord], where) -> list[dict]:
    """Presentation contexts grouped by SOP class, SUT role and outcome: the
    transfer syntaxes accepted and proposed, the reason of a refusal, and the
    associations (by activity) they occurred in. `where(record)` names the
    activity."""
    rows: dict[tuple, dict] = {}
    for r in records:
        proposed = {p["id"]: p.get("transfer_syntaxes", []) for p in r.proposed}
        for cx in r.contexts:
            role = sut_role(r, cx)
            outcome, reason = _outcome(r, cx)
            uid = cx["abstract_syntax"]
            row = rows.setdefault((uid, role, outcome, reason), {
                "abstract_syntax": uid, "name": uid_name(uid), "sut_role": role,
                "outcome": outcome, "reason": reason, "accepted_uids": set(),
                "proposed_uids": set(), "where": Counter(), "_assocs": set()})
            row["proposed_uids"] |= set(proposed.get(cx["id"], []))
            if cx.get("transfer_syntax"):
                row["accepted_uids"].add(cx["transfer_syntax"])
            if r.id not in row["_assocs"]:
                row["_assocs"].add(r.id)
                row["where"][where(r)] += 1
    order_of = {"accepted": 0, "rejected by the SUT": 1, "declined by the harness": 2}
    out = []
    for key in sorted(rows, key=lambda k: (uid_name(k[0]), k[1], order_of[k[2]], k[3])):
        row = rows[key]
        out.append({
            "abstract_syntax": row["abstract_syntax"], "name": row["name"],
            "sut_role": row["sut_role"], "outcome": row["outcome"], "reason": row["reason"],
            "transfer_syntaxes": sorted(uid_name(u) for u in row["accepted_uids"]),
            "accepted_uids": sorted(row["accepted_uids"]),
            "proposed": sorted(uid_name(u) for u in row["proposed_uids"]),
            "associations": len(row["_assocs"]),
            "where": [f"{k} ({n})" for k, n in sorted(row["where"].items())]})
    return out


def shared_rows(rows: list[dict]) -> list[dict]:
    """Rows that differ only in their SOP class, as one row naming them all:
    the hundred storage classes a C-MOVE SCP offers and the receiver declines
    are one fact, said once."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = (row["sut_role"], row["outcome"], row["reason"], tuple(row["transfer_syntaxes"]),
               tuple(row["proposed"]), tuple(row["where"]))
        entry = merged.setdefault(key, {**{k: v for k, v in row.items()
                                            if k not in ("name", "abstract_syntax")},
                                         "names": [], "abstract_syntaxes": [], "associations": 0})
        entry["names"].append(row["name"])
        entry["abstract_syntaxes"].append(row["abstract_syntax"])
        entry["associations"] = max(entry["associations"], row["associations"])
    return [{**e, "names": [f"{len(e['names'])} SOP classes: " + ", ".join(e["names"])]
             if len(e["names"]) > 1 else e["names"]} for e in merged.values()]


def _move_label(parent: AssociationRecord, rq: dict) -> str:
    return f"{parent.actor} C-MOVE to {rq.get('move_destination') or '?'}"


def move_operations(records: list[AssociationRecord],
                    caused: dict[str, tuple[AssociationRecord, dict]]) -> list[dict]:
    """Each C-MOVE with the sub-associations it caused, summarised in a
    sentence: how many storage classes the sender offered and which the
    receiving side accepted (the rest is in the report's annex)."""
    by_operation: dict[str, list[AssociationRecord]] = defaultdict(list)
    for r in records:
        if r.id in caused:
            by_operation[_move_label(*caused[r.id])].append(r)
    return [_move_operation(label, subs) for label, subs in sorted(by_operation.items())]


def _move_operation(label: str, subs: list[AssociationRecord]) -> dict:
    """One C-MOVE's sub-associations: who sent, what was offered, accepted
    and stored over them."""
    sender = subs[0].peer.get("ae_title") or "the SUT"
    offered = sorted({cx["abstract_syntax"] for r in subs for cx in r.contexts})
    accepted = sorted({uid_name(cx["abstract_syntax"]) for r in subs for cx in r.contexts
                       if cx["result"] == "accepted"})
    sent = Counter(uid_name(d["sop_class"]) for r in subs for d in r.dimse
                   if d["command"] == "C-STORE-RQ" and d.get("sop_class"))
    return {"operation": label, "sender": sender, "associations": len(subs),
            "offered": len(offered), "accepted": accepted, "instances": sum(sent.values()),
            "summary": _move_summary(sender, subs, offered, accepted, sent)}


def _plural(n: int, word: str, suffix: str = "s") -> str:
    return f"{n} {word}{suffix if n != 1 else ''}"


def _move_summary(sender: str, subs: list[AssociationRecord], offered: list[str],
                  accepted: list[str], sent: Counter) -> str:
    """'ORTHANC opened 2 associations to HARNESS and offered 120 storage
    classes; the harness accepted the 4 it takes (…); 90 instances sent over
    them (CT Image Storage 60, …).'"""
    receiver = "the harness" if subs[0].direction == "inbound" else "the SUT"
    instances = sum(sent.values())
    listed = f" ({', '.join(f'{k} {n}' for k, n in sorted(sent.items()))})." if sent else "."
    return (f"{sender} opened {_plural(len(subs), 'association')} to "
            f"{subs[0].called_ae or '?'} and offered "
            f"{_plural(len(offered), 'storage class', 'es')}; {receiver} accepted the "
            f"{len(accepted)} it takes "
            f"({', '.join(accepted) or 'none'}); {_plural(instances, 'instance')} sent over "
            f"{'them' if len(subs) != 1 else 'it'}" + listed)


def networking(records: list[AssociationRecord]) -> dict:
    """The section's model: the associations with the SUT, a C-MOVE's
    sub-associations shown under their operation rather than as activities
    of their own."""
    sut = sut_associations(records)
    caused = move_sub_associations(sut)
    main = [r for r in sut if r.id not in caused]
    subs = [r for r in sut if r.id in caused]
    used = exchanged(sut)
    classes = sorted({uid for uid, _ in used}, key=uid_name)
    return {
        "services": [{"abstract_syntax": uid, "name": uid_name(uid),
                      "scu": used[(uid, "SCU")], "scp": used[(uid, "SCP")]} for uid in classes],
        "negotiated_not_used": negotiated_not_used(sut, caused, used),
        "contexts": context_rows(main, _activity),
        "move_operations": move_operations(sut, caused),
        "move_contexts": shared_rows(context_rows(subs, lambda r: _move_label(*caused[r.id]))),
        "policies": policies(sut),
        "statuses": statuses(sut),
    }


def negotiated_not_used(records: list[AssociationRecord],
                        caused: dict[str, tuple[AssociationRecord, dict]],
                        used: Counter) -> list[dict]:
    """Contexts accepted for a SOP class and role no DIMSE request then used,
    with the activities they were accepted in."""
    negotiated: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in records:
        for cx in r.contexts:
            role = sut_role(r, cx)
            if cx["result"] == "accepted" and not used[(cx["abstract_syntax"], role)]:
                negotiated[(cx["abstract_syntax"], role)].add(
                    _move_label(*caused[r.id]) if r.id in caused else _activity(r))
    return [{"abstract_syntax": uid, "name": uid_name(uid), "role": role, "where": sorted(where)}
            for (uid, role), where in sorted(negotiated.items(),
                                             key=lambda kv: (uid_name(kv[0][0]), kv[0][1]))]


def policies(records: list[AssociationRecord]) -> dict:
    """The association policies observed: the peers' implementation
    identity and maximum PDU, outcomes, how many were open at once."""
    peers = {}
    for r in records:
        peers[(r.peer.get("ae_title"), r.peer.get("implementation_class_uid"))] = r.peer
    return {
        "application_context": "1.2.840.10008.3.1.1.1 (DICOM Application Context)",
        "peers": [{"ae_title": p.get("ae_title"),
                   "implementation_class_uid": p.get("implementation_class_uid"),
                   "implementation_version_name": p.get("implementation_version_name"),
                   "max_pdu": p.get("max_pdu")} for p in peers.values()],
        "associations": len(records),
        "outcomes": dict(Counter(r.outcome for r in records)),
        "max_simultaneous": _max_simultaneous(records),
    }


def statuses(records: list[AssociationRecord]) -> list[dict]:
    """Every DIMSE response status seen, counted, with its PS3.4 meaning."""
    seen: Counter = Counter()
    for r in records:
        for d in r.dimse:
            if d["command"].endswith("-RSP") and d.get("status"):
                seen[(d["command"], d["status"])] += 1
    return [{"command": c, "status": s, "count": n,
             "meaning": status_text(int(s, 16), c.rsplit("-", 1)[0]).split(" ", 1)[-1]}
            for (c, s), n in sorted(seen.items())]


def _max_simultaneous(records: list[AssociationRecord]) -> int:
    """Associations open at the same time, from their first and last events."""
    spans = []
    for r in records:
        times = [d["t"] for d in r.dimse] + [s["t"] for s in r.stored]
        if times:
            spans.append((min(times), max(times)))
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans],
                   key=lambda e: (e[0], e[1]))
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best

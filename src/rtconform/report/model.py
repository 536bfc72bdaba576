"""What the report says, built from a run folder alone: every row observed,
with its evidence. The JSON output is this model; HTML and Markdown render it.

Sections follow a DICOM PS3.2 conformance statement (layout of the Brainlab
RT Elements statement): overview, networking, media, character sets,
security, IOD annex; then the TRO scenario results and pictures.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pydicom

from rtconform import __version__
from rtconform.actors.node import status_text
from rtconform.actors.recorder import AssociationRecord
from rtconform.actors.registry import ACTORS
from rtconform.dicom.uids import uid_name
from rtconform.ihe.tro import order
from rtconform.redact import PROFILE as REDACTION
from rtconform.redact import Redactor
from rtconform.report.iods import attribute_rows, module_table, private_attributes
from rtconform.run_folder import RunFolder


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
    out = []
    for label, subs in sorted(by_operation.items()):
        sender = subs[0].peer.get("ae_title") or "the SUT"
        offered = sorted({cx["abstract_syntax"] for r in subs for cx in r.contexts})
        accepted = sorted({uid_name(cx["abstract_syntax"]) for r in subs for cx in r.contexts
                           if cx["result"] == "accepted"})
        sent = Counter(uid_name(d["sop_class"]) for r in subs for d in r.dimse
                       if d["command"] == "C-STORE-RQ" and d.get("sop_class"))
        receiver = "the harness" if subs[0].direction == "inbound" else "the SUT"
        plural = "s" if len(subs) != 1 else ""
        out.append({
            "operation": label, "sender": sender, "associations": len(subs),
            "offered": len(offered), "accepted": accepted, "instances": sum(sent.values()),
            "summary": f"{sender} opened {len(subs)} association{plural} to "
                       f"{subs[0].called_ae or '?'} and offered {len(offered)} storage "
                       f"class{'es' if len(offered) != 1 else ''}; {receiver} accepted the "
                       f"{len(accepted)} it takes ({', '.join(accepted) or 'none'}); "
                       f"{sum(sent.values())} instance{'s' if sum(sent.values()) != 1 else ''}"
                       f" sent over {'them' if plural else 'it'}"
                       + (f" ({', '.join(f'{k} {n}' for k, n in sorted(sent.items()))})."
                          if sent else ".")})
    return out


def networking(records: list[AssociationRecord]) -> dict:
    sut = sut_associations(records)
    caused = move_sub_associations(sut)
    main = [r for r in sut if r.id not in caused]
    subs = [r for r in sut if r.id in caused]
    statuses: Counter = Counter()
    peers = {}
    for r in sut:
        peer = r.peer
        peers[(peer.get("ae_title"), peer.get("implementation_class_uid"))] = peer
        for d in r.dimse:
            if d["command"].endswith("-RSP") and d.get("status"):
                statuses[(d["command"], d["status"])] += 1
    used = exchanged(sut)
    negotiated: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in sut:
        for cx in r.contexts:
            role = sut_role(r, cx)
            if cx["result"] == "accepted" and not used[(cx["abstract_syntax"], role)]:
                negotiated[(cx["abstract_syntax"], role)].add(
                    _move_label(*caused[r.id]) if r.id in caused else _activity(r))
    classes = sorted({uid for uid, _ in used}, key=uid_name)
    return {
        "services": [{"abstract_syntax": uid, "name": uid_name(uid),
                      "scu": used[(uid, "SCU")], "scp": used[(uid, "SCP")]} for uid in classes],
        "negotiated_not_used": [{"abstract_syntax": uid, "name": uid_name(uid), "role": role,
                                 "where": sorted(where)}
                                for (uid, role), where in sorted(
                                    negotiated.items(), key=lambda kv: (uid_name(kv[0][0]),
                                                                        kv[0][1]))],
        "contexts": context_rows(main, _activity),
        "move_operations": move_operations(sut, caused),
        "move_contexts": shared_rows(context_rows(subs, lambda r: _move_label(*caused[r.id]))),
        "policies": {
            "application_context": "1.2.840.10008.3.1.1.1 (DICOM Application Context)",
            "peers": [{"ae_title": p.get("ae_title"),
                       "implementation_class_uid": p.get("implementation_class_uid"),
                       "implementation_version_name": p.get("implementation_version_name"),
                       "max_pdu": p.get("max_pdu")} for p in peers.values()],
            "associations": len(sut),
            "outcomes": dict(Counter(r.outcome for r in sut)),
            "max_simultaneous": _max_simultaneous(sut),
        },
        "statuses": [{"command": c, "status": s, "count": n,
                      "meaning": status_text(int(s, 16), c.rsplit("-", 1)[0]).split(" ", 1)[-1]}
                     for (c, s), n in sorted(statuses.items())],
    }


def matrix(scenarios: list[dict], actors: list[str]) -> dict:
    """The executive summary: a verdict per transaction × actor under test."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    names = {s["transaction"]: s.get("feature") or s["transaction"] for s in scenarios}
    for s in scenarios:
        match = re.match(r"The (.+?) under test", s["name"])
        actor = match.group(1) if match and match.group(1) in ACTORS else "—"
        cells[(s["transaction"], actor)][s["status"]] += 1
    columns = [a for a in ACTORS if a in actors or any(k[1] == a for k in cells)]
    if any(k[1] == "—" for k in cells):
        columns.append("—")
    rows = []
    for transaction in sorted({k[0] for k in cells}, key=order):
        row = {"transaction": transaction, "name": names.get(transaction, transaction),
               "cells": []}
        for actor in columns:
            c = cells.get((transaction, actor))
            verdict = "" if not c else "failed" if c["failed"] else "passed" if c["passed"] \
                else "not applicable" if c["not applicable"] else "skipped"
            text = "" if not c else ", ".join(f"{n} {k}" for k, n in sorted(c.items()))
            row["cells"].append({"verdict": verdict, "text": text})
        rows.append(row)
    return {"columns": columns, "rows": rows}


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


def stored_objects(run_dir: Path, received_only: bool) -> dict[str, Path]:
    return RunFolder(run_dir).stored_objects(received_only)


def exported_objects(summary: dict) -> list[Path]:
    """A file exporter's objects: its export folder stands for what it sent."""
    export = (summary.get("sut") or {}).get("export_dir")
    if not export or not Path(export).is_dir():
        return []
    return sorted(p for p in Path(export).rglob("*") if p.is_file() and p.name != "DICOMDIR")


def received_objects(run_dir: Path) -> list[Path]:
    return list(stored_objects(run_dir, received_only=True).values())


def read_headers(paths: list[Path], unreadable: list[dict], **kwargs
                 ) -> Iterator[tuple[Path, pydicom.Dataset]]:
    """Headers of stored objects; one that cannot be read is named in
    `unreadable` (the report says so) instead of vanishing."""
    for path in paths:
        try:
            yield path, pydicom.dcmread(path, stop_before_pixels=True, **kwargs)
        except Exception as exc:  # pydicom raises many types on corrupt input
            note = {"file": str(path), "reason": f"{type(exc).__name__}: {exc}"[:200]}
            if note not in unreadable:
                unreadable.append(note)


def annex(paths: list[Path], unreadable: list[dict]) -> list[dict]:
    by_class: dict[str, list] = defaultdict(list)
    for _, ds in read_headers(paths, unreadable):
        by_class[str(ds.get("SOPClassUID", ""))].append(ds)
    out = []
    for sop_class, datasets in sorted(by_class.items()):
        iod, modules = module_table(datasets[0])
        iod = iod or uid_name(sop_class)
        out.append({"iod": iod, "sop_class": sop_class, "count": len(datasets),
                    "modules": modules, "attributes": attribute_rows(datasets, iod),
                    "private": private_attributes(datasets)})
    return out


def character_sets(paths: list[Path], unreadable: list[dict]) -> list[dict]:
    seen: Counter = Counter()
    for _, ds in read_headers(paths, unreadable, specific_tags=[0x00080005]):
        value = ds.get("SpecificCharacterSet", "")
        seen["\\".join(value) if isinstance(value, list) or type(value).__name__ ==
             "MultiValue" else (value or "(none: default repertoire)")] += 1
    return [{"value": k, "objects": n} for k, n in sorted(seen.items())]


def media(summary: dict) -> dict | None:
    export = (summary.get("sut") or {}).get("export_dir")
    if not export or not Path(export).is_dir():
        return None
    files = [p for p in Path(export).rglob("*") if p.is_file()]
    rows = []
    for path in files[:500]:
        try:
            meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
            rows.append({"file": str(path.relative_to(export)),
                         "transfer_syntax": uid_name(str(meta.get("TransferSyntaxUID", ""))),
                         "source_ae": str(meta.get("SourceApplicationEntityTitle", ""))})
        except Exception as exc:
            rows.append({"file": str(path.relative_to(export)), "error": str(exc)[:120]})
    return {"export_dir": export, "files": len(files),
            "dicomdir": any(p.name.upper() == "DICOMDIR" for p in files), "objects": rows,
            "file_set": file_set_checks(files)}


def file_set_checks(files: list[Path]) -> list[dict]:
    """The PS3.10/PS3.11 File-set checks of every DICOMDIR in the export."""
    from rtconform.profiles.dicom_rt.fileset import RULE_IDS
    from rtconform.rules.registry import RULES

    out = []
    for path in files:
        if path.name.upper() != "DICOMDIR":
            continue
        for rule_id in RULE_IDS:
            rule = RULES[rule_id]
            issues = list(rule.check(str(path), None))
            out.append({"dicomdir": str(path), "rule_id": rule_id, "title": rule.title,
                        "source": rule.source, "verdict": "passed" if not issues else
                        str(rule.severity), "messages": [i.message for i in issues]})
    return out


EVIDENCE_LINES = 10  # validator findings quoted per failed scenario (all: findings.json)


def results(folder: RunFolder, summary: dict) -> list[dict]:
    """Every scenario with its result; a failure with its evidence as the
    harness wrote it (shown in full, never folded away) and the first error
    findings of what the SUT made."""
    findings = defaultdict(list)
    for f in folder.scenario_findings():
        if f["severity"] == "error":
            findings[f["scenario"]].append(f)
    out = []
    for s in summary.get("scenarios", []):
        errors = findings.get(s["name"], [])
        evidence = [f"{f['rule_id']} {Path(f['file']).name} {f['tag_path']}: {f['message']}"
                    for f in errors[:EVIDENCE_LINES]]
        out.append({**s, "evidence": evidence,
                    "more_findings": max(0, len(errors) - EVIDENCE_LINES)})
    return sorted(out, key=lambda s: (order(s["transaction"]), s["name"]))


def _started(folder: RunFolder, records: list[AssociationRecord]) -> str:
    """A run folder written before summary.json said when: its first association."""
    import datetime as dt

    times = [r.started for r in records if r.started]
    if times:
        return dt.datetime.fromtimestamp(min(times)).astimezone().isoformat(timespec="seconds")
    summary = folder.file(RunFolder.SUMMARY)
    if summary.is_file():
        return dt.datetime.fromtimestamp(summary.stat().st_mtime).astimezone().isoformat(
            timespec="seconds")
    return ""


def _when(started: str, finished: str) -> str:
    """'2026-12-05 10:02–10:07 (+01:00)' from two ISO times."""
    import datetime as dt

    try:
        a = dt.datetime.fromisoformat(started)
    except ValueError:
        return started or "not recorded"
    text = a.strftime("%Y-%m-%d %H:%M")
    try:
        b = dt.datetime.fromisoformat(finished)
        text += "–" + (b.strftime("%H:%M") if b.date() == a.date()
                       else b.strftime("%Y-%m-%d %H:%M"))
    except ValueError:
        pass
    return text + (f" (UTC{a.strftime('%z')[:3]}:{a.strftime('%z')[3:]})" if a.tzinfo else "")


def header(folder: RunFolder, summary: dict, records: list[AssociationRecord],
           site: str = "", operator: str = "") -> dict:
    """The facts a signed report starts with: what was tested, when, where
    and by whom, with which tool, engines (versions), profile and stimulus,
    and the AE titles and ports the harness used."""
    sut = summary.get("sut") or {}
    settings = summary.get("run") or {}
    started = settings.get("started") or _started(folder, records)
    harness = settings.get("harness") or {}
    engines = settings.get("engines")
    if engines is None:
        engine_text = "not recorded (a run folder of an rtconform before 0.9)"
    else:
        engine_text = "; ".join(
            f"{e['name']} ({e['version']})" if not e.get("unavailable")
            else f"{e['name']}: not run ({e['unavailable']})" for e in engines) or \
            "none (the IHE-RO rules only: no standard engine installed)"
    where = sut.get("peer") or (f"export folder {sut['export_dir']}" if sut.get("export_dir")
                                else "embedded reference actors" if sut.get("embedded")
                                else "trigger or operator")
    rows = [("System under test", f"{sut.get('name', '?')} — {where}"),
            ("IHE-RO TRO actors played", ", ".join(sut.get("actors", [])) or "none"),
            ("Run", _when(started, settings.get("finished", ""))),
            ("Run folder", str(folder.path))]
    if site:
        rows.append(("Site", site))
    if operator:
        rows.append(("Operator", operator))
    rows += [("Tool", f"rtconform {settings.get('rtconform') or __version__}"
                      + (f" (report rendered by {__version__})"
                         if settings.get("rtconform") not in (None, __version__) else "")),
             ("Standard engines", engine_text),
             ("Content profile", settings.get("profile") or "brto"),
             ("Stimulus", settings.get("stimulus") or "not recorded")]
    if settings.get("tags"):
        rows.append(("Scenario selection", settings["tags"]))
    if settings.get("statement"):
        rows.append(("Conformance statement", settings["statement"]))
    if harness:
        port = harness.get("archive_port") or "a free port per scenario"
        receive = harness.get("receive_port") or "a free port per scenario"
        rows.append(("Harness AE titles and ports",
                     f"calls as {harness.get('calling_ae')}; its Archive "
                     f"{harness.get('archive_ae')} listens on {port}; C-MOVE destination "
                     f"{harness.get('receive_ae')} on {receive}"
                     + (f"; {harness['tls']}" if harness.get("tls") else "")))
    else:
        rows.append(("Harness AE titles and ports", "not recorded; calling AE titles seen: "
                     + ", ".join(sorted({r.calling_ae for r in records
                                         if r.direction == "outbound" and r.calling_ae}))))
    return {"rows": [{"label": k, "value": v} for k, v in rows],
            "date": _when(started, "").split(" (")[0], "started": started}


def security(over_tls: list, accepted: list) -> dict:
    """What the associations showed of PS3.15 transport security."""
    if not over_tls:
        return {"tls": False, "text": "No TLS: every association of the run was plain DICOM "
                                      "over TCP; no security profile was observed."}
    kinds = sorted({f"{r.tls['version']} {r.tls['cipher']}" for r in over_tls})
    mutual = sum(1 for r in over_tls if r.tls.get("peer_certificate"))
    return {"tls": True, "text": f"TLS on {len(over_tls)} of {len(accepted)} accepted "
                                 f"associations ({', '.join(kinds)}); a peer certificate was "
                                 f"verified on {mutual}."}


def build(run_dir: Path, redact: bool = False, site: str = "", operator: str = ""
          ) -> tuple[dict, list[Path], Redactor]:
    """The report model, the received objects it describes, and the redactor
    (which has learnt their PHI) for anything rendered later."""
    run_dir = Path(run_dir)
    folder = RunFolder(run_dir)
    summary = folder.summary()
    records = folder.associations()
    paths = received_objects(run_dir) or exported_objects(summary)
    redactor = Redactor(enabled=redact)
    unreadable: list[dict] = []
    for _, ds in read_headers(paths, unreadable):  # learn the PHI of all the report may show
        redactor.learn(ds)
    over_tls = [r for r in records if r.outcome != "rejected" and r.tls]
    accepted = [r for r in records if r.contexts]
    scenarios = results(folder, summary)
    counts = Counter(s["status"] for s in scenarios)
    model = {
        "tool": f"rtconform {__version__}", "run": str(run_dir), "redacted": redact,
        "redaction": REDACTION if redact else "",
        "sut": summary.get("sut", {}),
        "header": header(folder, summary, records, site, operator),
        "banner": {"passed": counts.get("passed", 0), "failed": counts.get("failed", 0),
                   "skipped": counts.get("skipped", 0),
                   "not_applicable": counts.get("not applicable", 0),
                   "verdict": "conformant" if scenarios and not counts.get("failed")
                   else "not conformant" if counts.get("failed") else "no scenarios"},
        "actors": (summary.get("sut") or {}).get("actors", []),
        "networking": networking(records),
        "media": media(summary),
        "character_sets": character_sets(paths, unreadable),
        "security": security(over_tls, accepted),
        "annex": annex(paths, unreadable),
        "unreadable": unreadable,
        "results": scenarios,
        "matrix": matrix(scenarios, (summary.get("sut") or {}).get("actors", [])),
        "received_objects": len(paths),
    }
    return redactor.scrub(model) if redact else model, paths, redactor

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
from rtconform.dicom.uids import uid_name
from rtconform.redact import PROFILE as REDACTION
from rtconform.redact import Redactor
from rtconform.report.iods import attribute_rows, module_table, private_attributes
from rtconform.run.transactions import ACTORS, order
from rtconform.run_folder import RunFolder


def sut_associations(records: list[AssociationRecord]) -> list[AssociationRecord]:
    """Associations between the harness and the SUT. The run's log holds only
    the harness's side of its associations, all of them with the SUT (the
    embedded reference actors log to sut-associations.jsonl): no AE title
    decides, so a SUT may call itself anything, RTC_VENDOR included."""
    return [r for r in records if r.peer]


def sut_role(record: AssociationRecord, context: dict) -> str:
    """What the SUT was in this context: the requestor is the SCU, unless a
    role was negotiated (C-GET storage: the requestor is the SCP)."""
    sut_requested = record.direction == "inbound"
    reversed_role = context.get("scp_role") and not context.get("scu_role") and \
        context["abstract_syntax"].startswith("1.2.840.10008.5.1.4.1.1.")
    if sut_requested:
        return "SCP" if reversed_role else "SCU"
    return "SCU" if reversed_role else "SCP"


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


def _activity(r: AssociationRecord) -> str:
    used = {d["command"].split("-RQ")[0] for d in r.dimse if d["command"].endswith("-RQ")}
    who = "SUT requests" if r.direction == "inbound" else "harness requests"
    return f"{r.actor} ({who}: {', '.join(sorted(used)) or 'no DIMSE'})"


def networking(records: list[AssociationRecord]) -> dict:
    sut = sut_associations(records)
    caused = move_sub_associations(sut)
    services: dict[str, set[str]] = defaultdict(set)
    syntaxes: dict[tuple[str, str], dict] = {}
    activities: dict[str, dict[tuple, int]] = defaultdict(dict)  # row → associations
    sub_operations: dict[str, dict[str, dict]] = defaultdict(dict)  # activity → operation
    statuses: Counter = Counter()
    peers = {}
    for r in sut:
        peer = r.peer
        peers[(peer.get("ae_title"), peer.get("implementation_class_uid"))] = peer
        proposed = {p["id"]: p.get("transfer_syntaxes", []) for p in r.proposed}
        if r.id in caused:
            parent, rq = caused[r.id]
            sender = "SUT" if r.direction == "inbound" else "harness"
            operation = f"Sub-associations the {sender} opened for C-MOVE to " \
                        f"{rq.get('move_destination')}"
            group = sub_operations[_activity(parent)].setdefault(
                operation, {"operation": operation, "associations": 0, "rows": {}})
            group["associations"] += 1
            rows = group["rows"]
        else:
            rows = activities[_activity(r)]
        for cx in r.contexts:
            role = sut_role(r, cx)
            if cx["result"] == "accepted":
                services[cx["abstract_syntax"]].add(role)
            key = (cx["abstract_syntax"], role)
            entry = syntaxes.setdefault(key, {"abstract_syntax": cx["abstract_syntax"],
                                              "name": uid_name(cx["abstract_syntax"]),
                                              "role": role, "proposed": set(), "accepted": set(),
                                              "rejected": 0})
            entry["proposed"] |= set(proposed.get(cx["id"], []))
            if cx["result"] == "accepted":
                entry["accepted"].add(cx["transfer_syntax"])
            elif r.direction == "outbound":  # the SUT's decision, not the harness's
                entry["rejected"] += 1
            row = (uid_name(cx["abstract_syntax"]),
                   tuple(uid_name(t) for t in proposed.get(cx["id"], [])),
                   cx["result"] if cx["result"] == "accepted" or r.direction == "outbound"
                   else f"{cx['result']} (by the harness)",
                   uid_name(cx["transfer_syntax"]) if cx["transfer_syntax"] else "", role)
            rows[row] = rows.get(row, 0) + 1
        for d in r.dimse:
            if d["command"].endswith("-RSP") and d.get("status"):
                statuses[(d["command"], d["status"])] += 1
    for activity in sub_operations:
        activities.setdefault(activity, {})
    return {
        "services": [{"abstract_syntax": uid, "name": uid_name(uid), "scu": "SCU" in roles,
                      "scp": "SCP" in roles} for uid, roles in sorted(services.items())],
        "transfer_syntaxes": [{**e, "proposed": sorted(uid_name(t) for t in e["proposed"]),
                               "accepted": sorted(uid_name(t) for t in e["accepted"]),
                               "accepted_uids": sorted(e["accepted"])}
                              for e in syntaxes.values()],
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
        "activities": [{"activity": k, "contexts": collapse(rows),
                        "sub_operations": [{"operation": g["operation"],
                                            "associations": g["associations"],
                                            "contexts": collapse(g["rows"])}
                                           for _, g in sorted(sub_operations[k].items())]}
                       for k, rows in sorted(activities.items())],
        "statuses": [{"command": c, "status": s, "count": n,
                      "meaning": status_text(int(s, 16), c.rsplit("-", 1)[0]).split(" ", 1)[-1]}
                     for (c, s), n in sorted(statuses.items())],
    }


def collapse(rows: dict[tuple, int]) -> list[dict]:
    """One row per SOP class × result × SUT role, the transfer syntaxes listed
    (a row per syntax made section 2.3 ten thousand pixels long), sorted."""
    merged: dict[tuple, dict] = {}
    for (abstract, proposed, result, syntax, role), n in rows.items():
        entry = merged.setdefault((abstract, result, role), {
            "abstract_syntax": abstract, "result": result, "sut_role": role,
            "proposed": set(), "transfer_syntaxes": set(), "associations": 0})
        entry["proposed"] |= set(proposed)
        if syntax:
            entry["transfer_syntaxes"].add(syntax)
        entry["associations"] += n
    return [{**e, "proposed": sorted(e["proposed"]),
             "transfer_syntaxes": sorted(e["transfer_syntaxes"])}
            for _, e in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1] != "accepted",
                                                               kv[0][2]))]


def matrix(scenarios: list[dict], actors: list[str]) -> dict:
    """The executive summary: a verdict per transaction × actor under test."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for s in scenarios:
        match = re.match(r"The (.+?) under test", s["name"])
        actor = match.group(1) if match and match.group(1) in ACTORS else "—"
        cells[(s["transaction"], actor)][s["status"]] += 1
    columns = [a for a in ACTORS if a in actors or any(k[1] == a for k in cells)]
    if any(k[1] == "—" for k in cells):
        columns.append("—")
    rows = []
    for transaction in sorted({k[0] for k in cells}, key=order):
        row = {"transaction": transaction, "cells": []}
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


def results(folder: RunFolder, summary: dict) -> list[dict]:
    findings = defaultdict(list)
    for f in folder.scenario_findings():
        if f["severity"] == "error":
            findings[f["scenario"]].append(f)
    out = []
    for s in summary.get("scenarios", []):
        evidence = [f"{f['rule_id']} {Path(f['file']).name} {f['tag_path']}: {f['message']}"
                    for f in findings.get(s["name"], [])[:10]]
        out.append({**s, "evidence": evidence})
    return sorted(out, key=lambda s: (order(s["transaction"]), s["name"]))


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


def build(run_dir: Path, redact: bool = False) -> tuple[dict, list[Path], Redactor]:
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
        "banner": {"passed": counts.get("passed", 0), "failed": counts.get("failed", 0),
                   "skipped": counts.get("skipped", 0),
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

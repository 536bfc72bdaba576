"""What the report says, built from a run folder alone: every row observed,
with its evidence. The JSON output is this model; HTML and Markdown render it.

Sections follow a DICOM PS3.2 conformance statement (layout of the Brainlab
RT Elements statement): overview, networking, media, character sets,
security, IOD annex; then the TRO scenario results and pictures. The
header (report/header.py) and the networking section (report/networking.py,
read from the association log alone) are built in modules of their own; the
pictures are drawn by report/render.py.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pydicom

from rtconform import __version__
from rtconform.actors.registry import ACTORS
from rtconform.dicom.uids import uid_name
from rtconform.ihe.tro import order
from rtconform.redact import PROFILE as REDACTION
from rtconform.redact import Redactor
from rtconform.report.header import header
from rtconform.report.iods import attribute_rows, module_table, private_attributes
from rtconform.report.networking import networking
from rtconform.run_folder import RunFolder


def matrix(scenarios: list[dict], actors: list[str]) -> dict:
    """The executive summary: a verdict per transaction × actor under test."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    names = {s["transaction"]: s.get("feature") or s["transaction"] for s in scenarios}
    for s in scenarios:
        cells[(s["transaction"], _actor_under_test(s["name"]))][s["status"]] += 1
    columns = [a for a in ACTORS if a in actors or any(k[1] == a for k in cells)]
    if any(k[1] == "—" for k in cells):
        columns.append("—")
    rows = []
    for transaction in sorted({k[0] for k in cells}, key=order):
        rows.append({"transaction": transaction, "name": names.get(transaction, transaction),
                     "cells": [_cell(cells.get((transaction, actor))) for actor in columns]})
    return {"columns": columns, "rows": rows}


def _actor_under_test(scenario: str) -> str:
    """'The Archive under test stores …' → 'Archive'; '—' for a scenario no
    TRO actor under test is named in."""
    match = re.match(r"The (.+?) under test", scenario)
    return match.group(1) if match and match.group(1) in ACTORS else "—"


def _cell(statuses: Counter | None) -> dict:
    """One cell of the summary: the worst status of its scenarios decides
    (a failure before a pass, a pass before not applicable, then skipped),
    with the count of each."""
    if not statuses:
        return {"verdict": "", "text": ""}
    verdict = next((v for v in ("failed", "passed", "not applicable") if statuses[v]), "skipped")
    return {"verdict": verdict,
            "text": ", ".join(f"{n} {k}" for k, n in sorted(statuses.items()))}


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
    from rtconform.rules.profiles import file_set_rules

    out = []
    for path in files:
        if path.name.upper() != "DICOMDIR":
            continue
        for rule in file_set_rules():
            rule_id = rule.id
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

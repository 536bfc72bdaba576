"""The grid: one per object type (RTSTRUCT, RTPLAN, RTDOSE), rows producers,
columns consumers, each cell per Archive works / fails / not applicable with
the evidence that decides it: the consumer's refusal, the rule ids the object
broke under the consumer's profile, its conformance statement's import
constraints, and the values that changed through the Archive.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from rtconform.findings import Severity
from rtconform.matrix.plan import KINDS, Kind
from rtconform.rules.registry import RuleContext
from rtconform.validate import ValidationOptions, validate_paths

WORKS, FAILS, NA = "works", "fails", "not applicable"


class Judge:
    """Judges the objects of a production once per (modality, profile) and
    per statement: every consumer of the same object under the same profile
    sees the same findings."""

    def __init__(self) -> None:
        self._rules: dict[tuple, list[dict]] = {}
        self._imports: dict[tuple, list[dict]] = {}

    @staticmethod
    def objects(production: dict, modality: str) -> list[Path]:
        return [Path(o["path"]) for o in production.get("objects", [])
                if o["modality"] == modality]

    def rules(self, production: dict, modality: str, profile: str) -> list[dict]:
        key = (production["key"], modality, profile)
        if key not in self._rules:
            objects = self.objects(production, modality)
            given = [Path(p) for p in production.get("given", [])]
            others = [Path(o["path"]) for o in production.get("objects", [])
                      if o["modality"] != modality]
            result = validate_paths(objects + given + others, ValidationOptions(
                profile=profile, given=given, context=RuleContext(complete=False)))
            wanted = {str(p) for p in objects}
            self._rules[key] = [
                {"rule_id": f.rule_id, "message": f.message, "tag_path": f.tag_path,
                 "source": f.source, "file": Path(f.file).name}
                for f in result.findings if f.severity == Severity.ERROR and f.file in wanted]
        return self._rules[key]

    def imports(self, production: dict, modality: str, statement: Path | None) -> list[dict]:
        if statement is None:
            return []
        key = (production["key"], modality, str(statement))
        if key not in self._imports:
            from rtconform.statement.compare import check_files
            from rtconform.statement.model import load_statement

            folder = Path(production["folder"]) / "archive-copy" / modality.lower()
            found = check_files(load_statement(statement), folder) if folder.is_dir() else []
            self._imports[key] = [
                {"rule_id": f.rule_id, "message": f.message, "source": f.source,
                 "file": Path(f.file).name, "tag_path": f.tag_path}
                for f in found if f.severity == Severity.ERROR]
        return self._imports[key]


def _summary(log: dict) -> str:
    """What the consumer said it did, in one line (its DVH of the target …)."""
    loaded = log.get("loaded", log)
    if not isinstance(loaded, dict):
        return str(loaded)[:200]
    dvh = loaded.get("dvh") or {}
    target = next((k for k in dvh if k.upper() in ("PTV", "CTV", "GTV")), None)
    if target:
        return f"DVH {target}: " + ", ".join(f"{k} {v}" for k, v in dvh[target].items())
    return json.dumps(loaded)[:200]


def cell_via(production: dict | None, consumption: dict | None, modality: str,
             consumer_profile: str, statement: Path | None, judge: Judge) -> dict:
    """One chain's verdict through one Archive, with its evidence: it fails
    when the object did not arrive, the consumer refused it, it breaks the
    consumer's profile or import constraints, or the Archive changed or lost it."""
    if production is None or consumption is None:
        return {"verdict": NA, "evidence": ["not run (see the matrix's log)"]}
    undelivered = _undelivered(production, modality, judge)
    if undelivered:
        return {"verdict": FAILS, "reasons": ["not delivered"], "evidence": [undelivered]}
    outcome = consumption.get("outcome", {})
    rules = judge.rules(production, modality, consumer_profile)
    imports = judge.imports(production, modality, statement)
    changed = [o for o in production.get("objects", [])
               if o["modality"] == modality and o["changed"]]
    lost = [o for o in production.get("not_returned", []) if o["modality"] == modality]
    evidence = [_consumer_said(outcome),
                *_problems(rules, imports, changed, lost, consumer_profile)]
    rule_ids = sorted({f["rule_id"] for f in rules})
    import_ids = sorted({f["rule_id"] for f in imports})
    reasons = ([] if outcome.get("accepted") else ["refused"]) + rule_ids + import_ids
    reasons += ["changed through the Archive"] if changed else []
    reasons += ["not returned by the Archive"] if lost else []
    deciding = bool(reasons)
    return {"verdict": FAILS if deciding else WORKS, "evidence": evidence,
            "rule_ids": rule_ids, "import_ids": import_ids, "reasons": reasons}


def _undelivered(production: dict, modality: str, judge: Judge) -> str:
    """Why the producer's object never reached the consumer's side, or ''."""
    if not production.get("ok"):
        return ("the producer's object did not reach the Archive: "
                f"{production.get('why', '')}")
    if not judge.objects(production, modality):
        return f"the producer stored no {modality} the Archive returns"
    return ""


def _problems(rules: list[dict], imports: list[dict], changed: list[dict], lost: list[dict],
              consumer_profile: str) -> list[str]:
    """The evidence lines of what fails a delivered object, in the grid's order:
    the consumer's profile, its import constraints, then the Archive's doing."""
    return ([f"{f['rule_id']} under {consumer_profile}: {f['tag_path']} {f['message']} "
             f"({f['source']})" for f in rules]
            + [f"{f['rule_id']} (import constraint): {f['message']} ({f['source']})"
               for f in imports]
            + [f"changed through the Archive ({o['sop_instance_uid']}): "
               + "; ".join(o["changed"]) for o in changed]
            + ["stored by the producer but not returned by the Archive: "
               f"{o['sop_instance_uid']}" for o in lost])


def _consumer_said(outcome: dict) -> str:
    """The consumer's side of a chain: what it did with the object, or why it refused."""
    if outcome.get("accepted"):
        return (f"accepted ({outcome.get('transactions', '')}): "
                f"{_summary(outcome.get('log', {}))}")
    code = outcome.get("exit_code")
    return (f"refused ({outcome.get('transactions', '')}"
            + (f", exit {code}" if code is not None else "")
            + f"): {outcome.get('why', '')}")


def build_grids(plan, archives: list, productions: dict, consumptions: dict,
                judge: Judge, kinds: list[Kind] | tuple = KINDS) -> dict:
    """{modality: {rows, columns, cells}} over every Archive."""
    from rtconform.matrix.chain import consumption_key, production_key

    columns = plan.columns()
    grids = {}
    for kind in kinds:
        for modality in kind.modalities:
            rows = plan.producers(kind)
            cells = []
            for producer in rows:
                for consumer, actor in columns:
                    cell = {"producer": producer.slug, "consumer": consumer.slug,
                            "actor": actor, "via": {}}
                    if (consumer, actor) not in plan.consumers(kind):
                        cell["verdict"] = NA
                        cell["why"] = f"the {actor} does not take {modality} in TRO"
                        cells.append(cell)
                        continue
                    for archive in archives:
                        pkey = production_key(producer, archive, kind)
                        production = productions.get(pkey)
                        consumption = consumptions.get(consumption_key(pkey, consumer, actor))
                        cell["via"][archive.slug] = cell_via(
                            production, consumption, modality, consumer.profile,
                            consumer.config.statement, judge)
                    cell["reasons"] = sorted({r for v in cell["via"].values()
                                              for r in v.get("reasons", [])})
                    verdicts = {v["verdict"] for v in cell["via"].values()}
                    cell["verdict"] = FAILS if FAILS in verdicts else \
                        WORKS if verdicts == {WORKS} else NA
                    cells.append(cell)
            grids[modality] = {"kind": kind.name, "rows": [p.slug for p in rows],
                               "columns": [f"{c.slug}:{a}" for c, a in columns],
                               "cells": cells}
    return grids


def uid_reuse(productions: dict) -> list[dict]:
    """A producer that writes one SOP Instance UID for different objects
    (different studies of the matrix): PS3.5 9.1, one UID names one object.
    An Archive that keeps its first copy returns the wrong object."""
    by_producer: dict[str, dict[str, set]] = {}
    for p in productions.values():
        for o in p.get("objects", []):
            by_producer.setdefault(p["producer"], {}).setdefault(
                o["sop_instance_uid"], set()).add(p.get("study", ""))
    return [{"producer": producer, "sop_instance_uid": uid, "studies": sorted(studies),
             "rule": "MATRIX-UID-REUSED",
             "message": f"{producer} wrote SOP Instance UID {uid} for the structure sets of "
                        f"{len(studies)} different studies (DICOM PS3.5 9.1: a UID identifies "
                        "one object; an Archive that keeps the first copy returns it for all)"}
            for producer, uids in by_producer.items() for uid, studies in uids.items()
            if len(studies) > 1]


# -- rendering ------------------------------------------------------------------------
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}
th,td{border:1px solid #bbb;padding:.4em;vertical-align:top;font-size:.85em;max-width:26em}
th{background:#f2f2f2}
.works{background:#e3f6e3}.fails{background:#fbe3e3}.na{background:#f4f4f4;color:#777}
.v{font-weight:bold}
details summary{cursor:pointer}
code{font-size:.9em}
"""


def _cls(verdict: str) -> str:
    return {WORKS: "works", FAILS: "fails"}.get(verdict, "na")


def render_html(model: dict) -> str:
    e = html.escape
    names = {p["slug"]: p for p in model["participants"]}
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>rtconform matrix</title>",
           f"<style>{STYLE}</style></head><body>",
           "<h1>rtconform interoperability matrix</h1>",
           f"<p>{e(model['verdict_line'])}</p>",
           f"<p>rtconform {e(model['rtconform'])}, seed <code>{e(model['seed'])}</code>; "
           f"Archives: {e(', '.join(model['archives']))}</p>",
           "<h2>Systems</h2><table><tr><th>system</th><th>tool, version</th><th>actors</th>"
           "<th>consumer profile</th><th>its own scenarios</th></tr>"]
    for p in model["participants"]:
        own = p.get("own") or {}
        own_text = own.get("verdict", "not run")
        if own.get("report"):
            own_text += f" — <a href='{e(own['report'])}'>report</a>"
        out.append(f"<tr><td>{e(p['name'])}</td><td>{e(p['tool'] or '-')} "
                   f"{e(p['version'])}</td><td>{e(', '.join(p['actors']))}</td>"
                   f"<td>{e(p['profile'] if p['consumes'] else '-')}</td><td>{own_text}</td></tr>")
    out.append("</table>")
    for modality, grid in model["grids"].items():
        out.append(f"<h2>{e(modality)}</h2><table><tr><th>producer ↓ consumer →</th>")
        out += [f"<th>{e(names[c.split(':')[0]]['name'])}<br><small>as {e(c.split(':', 1)[1])}"
                f"</small></th>" for c in grid["columns"]]
        out.append("</tr>")
        for row in grid["rows"]:
            out.append(f"<tr><th>{e(names[row]['name'])}</th>")
            for cell in (c for c in grid["cells"] if c["producer"] == row):
                out.append(f"<td class='{_cls(cell['verdict'])}'><span class='v'>"
                           f"{e(cell['verdict'])}</span>")
                if cell.get("why"):
                    out.append(f"<br><small>{e(cell['why'])}</small>")
                if cell.get("reasons"):
                    out.append(f"<br><small>{e(', '.join(cell['reasons']))}</small>")
                for archive, via in cell["via"].items():
                    out.append(f"<details><summary>via {e(archive)}: {e(via['verdict'])}"
                               "</summary><ul>"
                               + "".join(f"<li>{e(x)}</li>" for x in via["evidence"])
                               + "</ul></details>")
                out.append("</td>")
            out.append("</tr>")
        out.append("</table>")
    if model.get("findings"):
        out.append("<h2>Findings across chains</h2><ul>")
        out += [f"<li><code>{e(f['rule'])}</code> {e(f['message'])}</li>"
                for f in model["findings"]]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def verdict_line(grids: dict) -> str:
    counts = {WORKS: 0, FAILS: 0, NA: 0}
    for grid in grids.values():
        for cell in grid["cells"]:
            counts[cell["verdict"]] = counts.get(cell["verdict"], 0) + 1
    return (f"{counts[WORKS]} cells work, {counts[FAILS]} fail, {counts[NA]} not applicable "
            f"({len(grids)} grids)")


__all__ = ["Judge", "Kind", "build_grids", "render_html", "uid_reuse", "verdict_line"]

"""The report's header: what was tested, when, where and by whom, with
which tool and settings: the facts a signed report starts with, read from
the run's summary (and, for an older run folder, from its associations)."""

from __future__ import annotations

import datetime as dt

from rtconform import __version__
from rtconform.actors.recorder import AssociationRecord
from rtconform.run_folder import RunFolder


def _started(folder: RunFolder, records: list[AssociationRecord]) -> str:
    """A run folder written before summary.json said when: its first association."""
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
    rows = [("System under test", f"{sut.get('name', '?')} — {_reached(sut)}"),
            ("IHE-RO TRO actors played", ", ".join(sut.get("actors", [])) or "none"),
            ("Run", _when(started, settings.get("finished", ""))),
            ("Run folder", str(folder.path))]
    rows += [(label, value) for label, value in (("Site", site), ("Operator", operator))
             if value]
    rows += [("Tool", _tool(settings.get("rtconform"))),
             ("Standard engines", _engines(settings.get("engines"))),
             ("Content profile", settings.get("profile") or "brto"),
             ("Stimulus", settings.get("stimulus") or "not recorded")]
    rows += [(label, settings[key]) for label, key in (("Scenario selection", "tags"),
                                                       ("Conformance statement", "statement"))
             if settings.get(key)]
    rows.append(("Harness AE titles and ports", _harness(settings.get("harness") or {},
                                                         records)))
    return {"rows": [{"label": k, "value": v} for k, v in rows],
            "date": _when(started, "").split(" (")[0], "started": started}


def _reached(sut: dict) -> str:
    """How the SUT took part: its network address, an export folder, the
    embedded reference actors, or a trigger or operator."""
    if sut.get("peer"):
        return sut["peer"]
    if sut.get("export_dir"):
        return f"export folder {sut['export_dir']}"
    return "embedded reference actors" if sut.get("embedded") else "trigger or operator"


def _tool(version: str | None) -> str:
    """The rtconform that made the run, and the one rendering, when another."""
    return f"rtconform {version or __version__}" + (
        f" (report rendered by {__version__})" if version not in (None, __version__) else "")


def _engines(engines: list[dict] | None) -> str:
    """The standard engines with their versions, or why one did not run."""
    if engines is None:
        return "not recorded (a run folder of an rtconform before 0.9)"
    return "; ".join(f"{e['name']} ({e['version']})" if not e.get("unavailable")
                     else f"{e['name']}: not run ({e['unavailable']})" for e in engines) or \
        "none (the IHE-RO rules only: no standard engine installed)"


def _harness(harness: dict, records: list[AssociationRecord]) -> str:
    """The AE titles and ports the harness used; a run folder that did not
    record them shows the calling AE titles of its own associations."""
    if not harness:
        return "not recorded; calling AE titles seen: " + ", ".join(sorted(
            {r.calling_ae for r in records if r.direction == "outbound" and r.calling_ae}))
    port = harness.get("archive_port") or "a free port per scenario"
    receive = harness.get("receive_port") or "a free port per scenario"
    return (f"calls as {harness.get('calling_ae')}; its Archive {harness.get('archive_ae')} "
            f"listens on {port}; C-MOVE destination {harness.get('receive_ae')} on {receive}"
            + (f"; {harness['tls']}" if harness.get("tls") else ""))

"""`rtconform matrix`: each system's own scenarios once, then every producer
→ Archive → consumer chain, then the grids (matrix.json, matrix.html).

Resumable: every finished own run, production and consumption is appended to
matrix-state.jsonl; `--resume` keeps the seed and skips what is there (the
Archives' stores live in the output folder, so a resumed consumption finds
what its production left). Chains touch disjoint data (UIDs of their own),
so productions run `jobs` at a time, and then the consumptions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rtconform.matrix.chain import (
    HARNESS_AE,
    ArchiveHandle,
    Chains,
    consumption_key,
    production_key,
)
from rtconform.matrix.grid import FAILS, Judge, build_grids, render_html, uid_reuse, verdict_line
from rtconform.matrix.plan import KINDS, MatrixError, MatrixPlan, Participant, load_plan

STATE = "matrix-state.jsonl"


@dataclass
class MatrixOptions:
    out: Path
    jobs: int = 2
    resume: bool = False
    own: bool = True  # run each system's own scenarios first
    archives: list[str] = field(default_factory=list)  # only these Archives (slugs)
    with_reference: bool = True
    kinds: list[str] = field(default_factory=list)  # only these productions (Kind.name)
    progress: Callable[[str], None] = lambda _message: None


class State:
    """matrix-state.jsonl: one JSON line per finished step (atomic append)."""

    def __init__(self, path: Path, resume: bool) -> None:
        import threading

        self.path = path
        self.done: dict[str, dict] = {}
        self._lock = threading.Lock()  # chains finish in several threads
        if resume and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    self.done[record["key"]] = record
        elif path.exists():
            path.unlink()

    def add(self, record: dict) -> dict:
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            self.done[record["key"]] = record
        return record


def _settings(out: Path, resume: bool, files: list[Path]) -> dict:
    path = out / "matrix-settings.json"
    if resume and path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    settings = {"seed": secrets.token_hex(4), "files": [str(f) for f in files],
                "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    path.write_text(json.dumps(settings, indent=1), encoding="utf-8")
    return settings


def _versions(plan: MatrixPlan) -> dict[str, str]:
    """Each tool's version as installed here (what the SUT file says is what
    its driver was written for; this is what ran)."""
    import subprocess
    import sys

    from rtconform.suts.archives import archive_version

    out = {}
    for p in plan.participants:
        if p.archive_driver:
            out[p.slug] = archive_version(p.archive_driver)
        elif p.tool:
            proc = subprocess.run([sys.executable, "-m", "rtconform.suts", p.tool, "--version"],
                                  capture_output=True, text=True, timeout=120, check=False)
            out[p.slug] = proc.stdout.strip() if proc.returncode == 0 else \
                f"not available: {proc.stderr.strip()[-200:]}"
        elif p.config.embedded:
            from rtconform import __version__

            out[p.slug] = __version__
        else:
            out[p.slug] = ""
    return out


@contextlib.contextmanager
def _archives(plan: MatrixPlan, out: Path, wanted: list[str]):
    """Start the Archives that are servers of the run; yield their handles
    and, for each, the harness's C-MOVE receive port it knows."""
    from rtconform.actors.archive import Archive, ArchiveConfig
    from rtconform.actors.recorder import AssociationRecorder
    from rtconform.suts import drivers
    from rtconform.suts.archives import ARCHIVES, ArchiveSpec, archive_version, free_port

    callers = [HARNESS_AE, *(d.ae_title for d in drivers().values())]
    with contextlib.ExitStack() as stack:
        handles, receive = [], {}
        for p in plan.archives:
            if wanted and p.slug not in wanted:
                continue
            folder = out / "archives" / p.slug
            folder.mkdir(parents=True, exist_ok=True)
            receive[p.slug] = free_port()
            if p.archive_driver:
                start = ARCHIVES[p.archive_driver][0]
                spec = ArchiveSpec(folder, {"HARNESS": ("127.0.0.1", receive[p.slug])}, callers)
                peer = stack.enter_context(start(spec))
                handles.append(ArchiveHandle(p, peer, archive_version(p.archive_driver)))
            elif p.config.embedded:
                drops = [p.config.archive_drops] if p.config.archive_drops else []
                archive = Archive(ArchiveConfig(ae_title="REFERENCE", store_dir=folder / "store",
                                                drop_attributes=drops),
                                  AssociationRecorder(folder / "associations.jsonl"))
                archive.start()
                stack.callback(archive.stop)
                handles.append(ArchiveHandle(p, archive.peer, "reference"))
            else:
                handles.append(ArchiveHandle(p, p.config.peer, ""))
        if not handles:
            raise MatrixError(f"none of the Archives {wanted} is among the SUT files")
        yield handles, receive


def _archive_sut_file(handle: ArchiveHandle, folder: Path, receive_port: int) -> Path:
    """A running Archive's SUT file, as `rtconform run` wants it."""
    p = handle.participant
    lines = [f"name: {json.dumps(p.name)}", "actors: [Archive]",
             f"network: {{ae_title: {handle.peer.ae_title}, host: {handle.peer.host}, "
             f"port: {handle.peer.port}}}", f"timeout: {p.config.timeout:g}",
             f"harness: {{receive_ae: HARNESS, receive_port: {receive_port}}}"]
    if p.config.statement:
        lines.append(f"statement: {json.dumps(str(p.config.statement))}")
    path = folder / "sut-running.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def own_run(p: Participant, handle: ArchiveHandle | None, out: Path, receive: dict) -> dict:
    """The system's own scenarios (`rtconform run`), with its report."""
    from rtconform.report.render import render
    from rtconform.run.runner import RunError, run
    from rtconform.run.sut import SutError

    folder = out / "own" / p.slug
    record = {"key": f"own|{p.slug}", "participant": p.slug, "folder": str(folder)}
    try:
        if handle is not None and p.archive_driver:
            sut = _archive_sut_file(handle, out / "archives" / p.slug, receive[p.slug])
        elif p.config.embedded and p.file.name == "reference.yaml" and not p.file.exists():
            sut = None
        else:
            sut = p.file
        code, results = run(sut, folder, stimulus=p.stimulus, progress=lambda _event: None)
        written = render(folder)
        counts = {s: sum(r.status == s for r in results)
                  for s in ("passed", "failed", "skipped", "not applicable")}
        record.update({"verdict": "conformant" if code == 0 else "not conformant",
                       "counts": counts, "report": str(written["html"]),
                       "failed": [{"transaction": r.transaction, "name": r.name,
                                   "rule_ids": list(r.rule_ids), "message": r.message[:600]}
                                  for r in results if r.status == "failed"]})
    except (RunError, SutError, OSError) as exc:
        record.update({"verdict": f"not run: {exc}"})
    return record


def run_matrix(files: list[Path], options: MatrixOptions) -> dict:
    from rtconform.phantom.sets import build_sample

    out = Path(options.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _check_kinds(options.kinds)
    plan = load_plan([Path(f) for f in files], options.with_reference)
    _check_archives(options.archives, plan)
    settings = _settings(out, options.resume, [Path(f) for f in files])
    samples = {s: build_sample(sample_set=s, seed=f"{settings['seed']}/{s}")
               for s in {p.stimulus for p in plan.participants}}
    steps = _Steps(plan, out, options, State(out / STATE, options.resume),
                   Chains(out, settings["seed"], samples), _missing_drivers(plan))
    versions = _versions(plan)
    kinds = [k for k in KINDS if not options.kinds or k.name in options.kinds]
    with _archives(plan, out, options.archives) as (handles, receive):
        if options.own:
            steps.own_runs(handles, receive)
        tasks = steps.produce(kinds, handles)
        productions = {production_key(*t): steps.state.done.get(production_key(*t))
                       for t in tasks}
        steps.consume(tasks, productions)
    model = _model(steps, settings, versions, handles, productions, kinds)
    _write_atomically(out / "matrix.json", json.dumps(model, indent=1))
    _write_atomically(out / "matrix.html", render_html(model))
    return model


def _check_kinds(kinds: list[str]) -> None:
    """--kind names productions the matrix knows."""
    unknown_kinds = set(kinds) - {k.name for k in KINDS}
    if unknown_kinds:
        raise MatrixError(f"--kind {sorted(unknown_kinds)}: one of {[k.name for k in KINDS]}")


def _check_archives(archives: list[str], plan: MatrixPlan) -> None:
    """--archive names Archives among the SUT files."""
    unknown = [a for a in archives if a not in {p.slug for p in plan.archives}]
    if unknown:
        raise MatrixError(f"--archive {unknown}: not among the Archives "
                          f"{[p.slug for p in plan.archives]}")


def _missing_drivers(plan: MatrixPlan) -> dict[str, str]:
    """The tools that cannot run here (not installed), by slug, and why: they
    are left out of every step, and the grid says so."""
    return {p.slug: why for p in plan.participants if p.tool and not p.archive_driver
            for why in [_driver_missing(p.tool)] if why}


@dataclass
class _Steps:
    """The matrix's steps, each recorded in the state as it finishes and
    skipped when a resumed state holds it."""

    plan: MatrixPlan
    out: Path
    options: MatrixOptions
    state: State
    chains: Chains
    missing: dict[str, str]

    def say(self, message: str) -> None:
        self.options.progress(message)

    def own_runs(self, handles: list[ArchiveHandle], receive: dict) -> None:
        """Each system's own scenarios (an Archive that is a server: once started)."""
        by_slug = {h.slug: h for h in handles}
        for p in self.plan.participants:
            if f"own|{p.slug}" in self.state.done or p.slug in self.missing:
                continue
            if p.archive_driver and p.slug not in by_slug:  # a server not started
                continue
            self.say(f"own scenarios: {p.name}")
            record = self.state.add(own_run(p, by_slug.get(p.slug), self.out, receive))
            self.say(f"  {record['verdict']} {record.get('counts', '')}")

    def produce(self, kinds: list, handles: list[ArchiveHandle]) -> list[tuple]:
        """Every producer's object of each kind into every Archive, `jobs` at
        once (chains touch disjoint data); the (producer, Archive, kind) tasks."""
        tasks = [(producer, handle, kind) for kind in kinds
                 for producer in self.plan.producers(kind)
                 if producer.slug not in self.missing for handle in handles]
        todo = [t for t in tasks if production_key(*t) not in self.state.done]
        self.say(f"{len(tasks)} productions ({len(tasks) - len(todo)} done before)")

        def produce(task):
            record = self.state.add(self.chains.produce(*task))
            self.say(f"  produced {record['key']}: "
                     f"{'ok' if record.get('ok') else record.get('why')}")
            return record

        self._each(produce, todo)
        return tasks

    def consume(self, tasks: list[tuple], productions: dict) -> None:
        """Every consumer of a kind given what each production left in its Archive."""
        consume_tasks = [(production_key(producer, handle, kind), consumer, actor, kind, handle)
                         for producer, handle, kind in tasks
                         for consumer, actor in self.plan.consumers(kind)
                         if consumer.slug not in self.missing]
        todo = [t for t in consume_tasks
                if consumption_key(t[0], t[1], t[2]) not in self.state.done]
        self.say(f"{len(consume_tasks)} consumptions "
                 f"({len(consume_tasks) - len(todo)} done before)")

        def consume(task):
            pkey, consumer, actor, kind, handle = task
            record = self.state.add(self.chains.consume(productions[pkey] or {"key": pkey},
                                                        consumer, actor, kind, handle))
            accepted = record.get("outcome", {}).get("accepted")
            self.say(f"  {record['key']}: {'accepted' if accepted else 'refused/none'}")
            return record

        self._each(consume, todo)

    def _each(self, step: Callable, todo: list) -> None:
        with ThreadPoolExecutor(max(1, self.options.jobs)) as pool:
            list(pool.map(step, todo))


def _model(steps: _Steps, settings: dict, versions: dict, handles: list[ArchiveHandle],
           productions: dict, kinds: list) -> dict:
    """matrix.json: the participants, the grids and the verdict."""
    from rtconform import __version__

    done = steps.state.done
    delivered = {k: v for k, v in productions.items() if v}
    consumptions = {k: v for k, v in done.items() if "production" in v}
    grids = build_grids(steps.plan, handles, delivered, consumptions, Judge(), kinds)
    model = {
        "format": "rtconform-matrix/1", "rtconform": __version__, "seed": settings["seed"],
        "started": settings["started"],
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "archives": [h.slug for h in handles],
        "participants": [_participant(p, versions, steps.missing,
                                      done.get(f"own|{p.slug}"), steps.out)
                         for p in steps.plan.participants],
        "grids": grids, "findings": uid_reuse(delivered),
    }
    model["verdict_line"] = verdict_line(grids)
    model["exit_code"] = 1 if any(c["verdict"] == FAILS for g in grids.values()
                                  for c in g["cells"]) else 0
    return model


def _participant(p: Participant, versions: dict, missing: dict, own: dict | None,
                 out: Path) -> dict:
    return {"slug": p.slug, "name": p.name, "file": str(p.file), "tool": p.tool,
            "version": versions.get(p.slug, ""), "actors": list(p.config.actors),
            "profile": p.profile, "missing": missing.get(p.slug, ""),
            "consumes": any(p.consumer_actors(k) for k in KINDS),
            "statement": str(p.config.statement or ""), "own": _own_summary(own, out)}


def _own_summary(record: dict | None, out: Path) -> dict | None:
    if not record:
        return None
    summary = {k: record.get(k) for k in ("verdict", "counts", "failed")}
    if record.get("report"):
        summary["report"] = os.path.relpath(record["report"], out)
    return summary


def _driver_missing(tool: str) -> str:
    from rtconform.suts import drivers

    driver = drivers().get(tool)
    return driver.missing() or "" if driver else f"no driver {tool!r}"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

"""`rtconform run`: pick the scenarios whose tags match the actors the SUT
plays, run them with pytest-bdd, and leave evidence in the run folder:
junit.xml, cucumber.json, associations.jsonl, findings.json, the received
objects under scenarios/, and summary.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from rtconform.actors.node import PeerUnreachable, ServiceUser, Timeouts
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.registry import ACTORS, tag_of
from rtconform.run.options import RunSettings, pytest_args
from rtconform.run.results import ScenarioResult, label_outputs, read_results, write_summary
from rtconform.run.shards import exit_code, merge
from rtconform.run.sut import SutConfig, load_sut
from rtconform.run_folder import RunFolder


class RunError(Exception):
    """Usage or environment problem: exit 2."""


def default_features_dir() -> Path:
    """The scenarios shipped with the package (`rtconform.features`: the
    repository's features/ in an editable install)."""
    import importlib.util

    spec = importlib.util.find_spec("rtconform.features")
    checkout = Path(__file__).resolve().parents[3] / "features"  # src/rtconform/run → root
    # setuptools' editable finder cannot import a folder without __init__.py
    # mapped under a package, so an editable install runs the checkout's
    for location in [*((spec.submodule_search_locations or []) if spec else []), checkout]:
        if Path(location, "test_tro_scenarios.py").is_file():
            return Path(location)
    return Path.cwd() / "features"


def profile_features(profile: str) -> Path:
    """A profile's scenarios: its own features folder, else the TRO ones."""
    from rtconform.rules.profiles import get

    try:
        own = get(profile).features_dir()
    except KeyError as exc:
        raise RunError(str(exc.args[0])) from exc
    return own if own is not None else default_features_dir()


def default_out() -> Path:
    return Path("reports") / dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")


def marker_expression(sut: SutConfig, tags: str | None, statement: Path | None = None) -> str:
    """Scenarios for the actors the SUT plays; the conformance tables only
    when there is a statement to test them against (the SUT file's or
    --statement)."""
    plays = " or ".join(f"sut_{tag_of(a)}" for a in ACTORS if sut.plays(a))
    expr = f"({plays})"
    if not sut.embedded and (statement or sut.statement) is None:
        expr += " and not conformance"
    if sut.exports_files:  # a folder stands for what it sent; it cannot react to input
        expr += f" and ({EXPORTER_APPLICABLE})"
    if tags:
        expr += f" and ({tags})"
    return expr


# What a file exporter can take part in: the storage transactions it makes,
# judged on its files; not retrieves, nor acts on what the harness gives it.
EXPORTER_APPLICABLE = ("(ro2 or ro3 or ro4 or ro5 or ro11) and not sut_archive "
                       "and not acts_on_input")


def not_applicable(features: Path, sut: SutConfig, tags: str | None) -> list[ScenarioResult]:
    """For a file exporter: the scenarios of its actors it cannot take part
    in, listed as such (never as failed)."""
    if not sut.exports_files:
        return []
    plays = " or ".join(f"sut_{tag_of(a)}" for a in ACTORS if sut.plays(a))
    expr = f"({plays}) and not conformance and not ({EXPORTER_APPLICABLE})"
    if tags:
        expr += f" and ({tags})"
    proc = subprocess.run([sys.executable, "-m", "pytest", str(features), "--collect-only",
                           "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-m", expr],
                          capture_output=True,
                          text=True, cwd=features.parent, check=False)
    names = [line.split("::", 1)[1] for line in proc.stdout.splitlines() if "::" in line]
    return [ScenarioResult("", "", name.removeprefix("test_").replace("_", " "),
                           "not applicable", "a file exporter takes part only in the storage "
                           "transactions it makes") for name in names]


def check_tags(tags: str) -> None:
    """A --tags expression pytest cannot parse is a usage error, said as such
    (not 'no scenario matches')."""
    from _pytest.mark.expression import Expression  # pytest's own -m grammar

    try:
        Expression.compile(tags)
    except SyntaxError as exc:  # pytest 8 raises its ParseError as a SyntaxError
        raise RunError(f"--tags {tags!r} is not a valid expression: {exc}") from exc


def check_reachable(sut: SutConfig, log: Path) -> None:
    """A network SUT must answer C-ECHO within the timeout, else exit 2 (the
    echo's association is recorded in `log`)."""
    if sut.peer is None:
        return
    user = ServiceUser(sut.harness_ae, AssociationRecorder(log), "harness",
                       Timeouts(connection=min(sut.timeout, 30.0),
                                acse=min(sut.timeout, 30.0)), tls=sut.tls)
    try:
        result = user.echo(sut.peer)
    except PeerUnreachable as exc:
        raise RunError(f"system under test not reached: {exc}") from exc
    if not result.ok:
        raise RunError(f"system under test {sut.peer} answered C-ECHO with "
                       f"0x{result.statuses[0]:04X}")


def run(sut_file: Path | None, out: Path, tags: str | None = None,
        features: Path | None = None, interactive: bool = False,
        statement: Path | None = None, engines: str = "auto",
        quiet: bool = True, stimulus: str = "equidistant",
        redact: bool = False, debug: bool = False,
        progress: Callable[[dict], None] | None = None,
        seed: str | None = None, parallel: int | None = None,
        profile: str | None = None) -> tuple[int, list[ScenarioResult]]:
    """Run the scenarios in a pytest process of their own. With `progress`,
    pytest's output goes to pytest.log and each event of progress.jsonl
    (scenarios collected, each scenario's verdict) is handed to it as it
    happens. `seed` (default: a new one) names the UIDs of everything the
    harness sends; the same seed repeats the run. `parallel`: scenario
    processes at once (default: one more than the cores for the embedded
    default, at most 4; the SUT file's `parallel` otherwise; see shards.py).
    A run that cannot start (bad input, SUT not reached) leaves no run
    folder, and an earlier run's as it was."""
    settings = RunSettings(sut=Path(sut_file) if sut_file else None, interactive=interactive,
                           profile=profile, stimulus=stimulus, seed=seed or new_seed(),
                           out=Path(out), engines=engines, redact=redact, debug=debug)
    return run_with(settings, tags, features, statement, quiet=quiet, progress=progress,
                    parallel=parallel)


def run_with(settings: RunSettings, tags: str | None = None, features: Path | None = None,
             statement: Path | None = None, quiet: bool = True,
             progress: Callable[[dict], None] | None = None,
             parallel: int | None = None) -> tuple[int, list[ScenarioResult]]:
    """`run`, its run options given as the settings the scenario processes get
    (no seed: a new one)."""
    settings = replace(settings, seed=settings.seed or new_seed())
    check_settings(settings, tags)
    sut = load_sut(settings.sut) if settings.sut else SutConfig()
    started = dt.datetime.now().astimezone()
    statement = statement or sut.statement
    env = dict(os.environ) | statement_env(statement)
    profile = settings.profile or sut.profile or "brto"
    features = (features or profile_features(profile)).resolve()
    if not features.is_dir():
        raise RunError(f"no features folder at {features} (give --features DIR)")
    parts = 1 if settings.interactive else parallel_parts(sut, parallel)
    out = Path(settings.out).resolve()
    created = not out.exists()
    folder = open_run_folder(sut, out)
    settings = replace(settings, out=out, profile=profile,
                       sut=Path(settings.sut).resolve() if settings.sut else None)
    # no unraisable-exception plugin: its five gc.collect() at the end cost each
    # scenario process ~0.7 s, and an unraisable exception still reaches stderr
    args = [str(features), "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-m",
            marker_expression(sut, tags, statement),
            "-o", "junit_family=xunit2", "-q" if quiet else "-v", "-p", "no:warnings",
            # not the options of the project around features/ (a checkout's addopts
            # run the test suite in parallel): one run, one session per shard
            "-o", "addopts=", *(["-s"] if settings.interactive else [])]
    code = run_scenarios(args, settings, folder, parts, env, features.parent, progress, quiet)
    label_outputs(folder, sut)
    results = read_results(folder.file(RunFolder.CUCUMBER))
    results += not_applicable(features, sut, tags)
    write_summary(folder, sut, results, code, settings={
        "started": started.isoformat(timespec="seconds"), "stimulus": settings.stimulus,
        "tags": tags or "", "engines": settings.engines, "statement": str(statement or ""),
        "seed": settings.seed, "profile": profile})
    check_outcome(code, results, sut, tags, _log_tail(folder, progress),
                  created=out if created else None)
    return code, results


def check_outcome(code: int, results: list[ScenarioResult], sut: SutConfig, tags: str | None,
                  log_tail: str, created: Path | None) -> None:
    """A run that broke, or in which no scenario applied, is an error of the
    run, not a verdict; when nothing ran, the run folder this run `created`
    is removed, so it is not mistaken for a run."""
    import shutil

    if code not in (0, 1, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RunError(f"the scenario run itself failed (pytest exit {code}):\n{log_tail}")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED or not any(
            r.status != "not applicable" for r in results):
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise RunError(f"no scenario matches the SUT's actors {list(sut.actors)}"
                       + (f" and --tags {tags!r}" if tags else ""))


def check_settings(settings: RunSettings, tags: str | None) -> None:
    """What is wrong with the run's options is said before anything starts."""
    from rtconform.phantom.sets import SAMPLE_SETS

    if not re.fullmatch(r"[0-9A-Za-z._-]{1,64}", settings.seed):
        raise RunError(f"--seed {settings.seed!r}: letters, digits, '.', '_' or '-' "
                       "(at most 64)")
    if settings.stimulus not in SAMPLE_SETS:
        raise RunError(f"unknown stimulus {settings.stimulus!r}; one of "
                       f"{', '.join(SAMPLE_SETS)}")
    if tags:
        check_tags(tags)


def statement_env(statement: Path | None) -> dict[str, str]:
    """The statement the generated table scenarios are built from, for the
    scenario processes; one with a schema error is said before any association."""
    if statement is None:
        return {}
    from rtconform.statement.model import StatementError, load_statement

    try:
        load_statement(Path(statement))
    except StatementError as exc:
        raise RunError(f"the conformance statement cannot be used:\n{exc}") from exc
    return {"RTCONFORM_STATEMENT": str(Path(statement).resolve())}


def open_run_folder(sut: SutConfig, out: Path) -> RunFolder:
    """The run folder, emptied of an earlier run, once the SUT has answered
    C-ECHO (that echo is the run's first association): a SUT that is not
    reached leaves no folder behind."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rtconform-echo-") as echo:
        echo_log = Path(echo) / RunFolder.ASSOCIATIONS
        check_reachable(sut, echo_log)
        out.mkdir(parents=True, exist_ok=True)
        folder = RunFolder(out)
        folder.reset()  # a run folder given again is this run's, not a mix of two
        if echo_log.is_file():
            shutil.move(echo_log, folder.file(RunFolder.ASSOCIATIONS))
    return folder


def run_scenarios(args: list[str], settings: RunSettings, folder: RunFolder, parts: int,
                  env: dict, cwd: Path, progress: Callable[[dict], None] | None,
                  quiet: bool) -> int:
    """The scenario processes, one or `parts` shards, and their exit code.
    A process of its own: scenarios are bound when their module is imported,
    so each run (with its own statement and SUT) needs a fresh interpreter."""
    def command(shard: tuple[int, int] | None, into: RunFolder) -> list[str]:
        return [sys.executable, "-m", "pytest", *args,
                *pytest_args(replace(settings, shard=shard)),
                "--junitxml", str(into.file(RunFolder.JUNIT)),
                "--cucumberjson", str(into.file(RunFolder.CUCUMBER))]

    if parts == 1:
        if progress is None:
            return subprocess.run(command(None, folder), env=env, cwd=cwd,
                                  check=False).returncode
        return _follow([command(None, folder)], env, cwd, [folder], progress)[0]
    shard_folders = [RunFolder(folder.path, k) for k in range(parts)]
    codes = _follow([command((k, parts), f) for k, f in enumerate(shard_folders)], env, cwd,
                    shard_folders, progress or (lambda _: None))
    merge(folder, parts)
    if progress is None and not quiet:  # what one process would have printed
        sys.stdout.write(folder.file(RunFolder.PYTEST_LOG).read_text(errors="replace"))
    return exit_code(codes)


def _log_tail(folder: RunFolder, progress: Callable[[dict], None] | None) -> str:
    """The end of pytest's log, when it went to the log and not the console."""
    log = folder.file(RunFolder.PYTEST_LOG)
    if progress is None or not log.is_file():
        return "see above"
    return "\n".join(log.read_text(errors="replace").splitlines()[-15:])


def embedded_parts() -> int:
    """The embedded default's scenario processes: one more than the cores, at
    most 4 (its scenarios wait on loopback associations part of the time;
    measured on 2 cores: 24.0 s with 2, 22.2 s with 3, 23.8 s with 4)."""
    return min((os.cpu_count() or 1) + 1, 4)


def parallel_parts(sut: SutConfig, parallel: int | None) -> int:
    """How many scenario processes run at once. The embedded default uses the
    cores and one more (each scenario has Archives of its own); a real SUT runs one
    scenario at a time unless its SUT file says more (its scenarios' data are
    disjoint, but the harness's fixed ports are not)."""
    parts = parallel if parallel is not None else \
        embedded_parts() if sut.embedded else sut.parallel
    if parts < 1 or parts > 26:
        raise RunError(f"--parallel {parts}: between 1 and 26 scenario processes")
    if parts > 1 and (sut.harness_port or sut.receive_port):
        raise RunError(f"--parallel {parts}: the SUT file fixes the harness's ports "
                       f"(archive_port {sut.harness_port}, receive_port {sut.receive_port}), "
                       "which one process at a time can listen on; use --parallel 1")
    return parts


def _follow(commands: list[list[str]], env: dict, cwd: Path, folders: list[RunFolder],
            progress: Callable[[dict], None]) -> list[int]:
    """Run the scenario processes quietly, each into its pytest.log, handing
    their progress events over live (one 'collected' event for all)."""
    seen = [0] * len(commands)
    collected: dict[int, int] = {}
    logs = [f.file(RunFolder.PYTEST_LOG).open("wb") for f in folders]
    procs = [subprocess.Popen(c, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
             for c, log in zip(commands, logs, strict=True)]
    try:
        while True:
            done = all(p.poll() is not None for p in procs)
            for k, folder in enumerate(folders):
                path = folder.file(RunFolder.PROGRESS)
                if not path.is_file():
                    continue
                text = path.read_text(encoding="utf-8")
                lines = text[:text.rfind("\n") + 1].splitlines()  # whole lines only
                for line in lines[seen[k]:]:
                    event = json.loads(line)
                    if event.get("event") == "collected":
                        collected[k] = event.get("count", 0)
                        if len(collected) == len(folders):
                            progress({**event, "count": sum(collected.values())})
                    else:
                        progress(event)
                seen[k] = len(lines)
            if done:
                return [p.returncode for p in procs]
            time.sleep(0.2)
    except BaseException:  # Ctrl-C: the scenario processes stop too
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        raise
    finally:
        for log in logs:
            log.close()


def new_seed() -> str:
    """A run's own seed: UIDs no earlier run gave the SUT."""
    import secrets

    return secrets.token_hex(4)

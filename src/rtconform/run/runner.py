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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rtconform.actors.node import PeerUnreachable, ServiceUser, Timeouts
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.registry import ACTORS, tag_of
from rtconform.run.shards import exit_code, merge
from rtconform.run.sut import SutConfig, load_sut
from rtconform.run_folder import RunFolder


def _rule_id_pattern() -> re.Pattern:
    """Ids a failure message may name: every registered rule's prefix, and the
    engines' and scenario steps' own."""
    from rtconform.rules.profiles import all_rules

    prefixes = {r.id.split("-")[0] for r in all_rules()} | {"DCIODVFY", "DV", "ARCHIVE"}
    # BRTO-RO2-50 … are rows of the IHE-RO test tool's checklist, cited, not rule ids
    return re.compile(r"\b(?:" + "|".join(sorted(prefixes)) + r")-(?!RO\d)[A-Z0-9-]+\b")


RULE_ID = _rule_id_pattern()


class RunError(Exception):
    """Usage or environment problem: exit 2."""


@dataclass
class ScenarioResult:
    feature: str
    transaction: str
    name: str
    status: str  # passed | failed | skipped
    message: str = ""
    rule_ids: tuple[str, ...] = ()


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
    processes at once (default: the cores for the embedded default, the SUT
    file's `parallel` otherwise; see shards.py). A run that cannot start (bad
    input, SUT not reached) leaves no run folder, and an earlier run's as it was."""
    import shutil
    import tempfile

    from rtconform.dicom.sample import SAMPLE_SETS

    seed = seed or new_seed()
    if not re.fullmatch(r"[0-9A-Za-z._-]{1,64}", seed):
        raise RunError(f"--seed {seed!r}: letters, digits, '.', '_' or '-' (at most 64)")

    if stimulus not in SAMPLE_SETS:
        raise RunError(f"unknown stimulus {stimulus!r}; one of {', '.join(SAMPLE_SETS)}")
    if tags:
        check_tags(tags)
    sut = load_sut(sut_file) if sut_file else SutConfig()
    started = dt.datetime.now().astimezone()
    out = Path(out).resolve()
    statement = statement or sut.statement
    env = dict(os.environ)
    if statement is not None:
        from rtconform.statement.model import StatementError, load_statement

        try:  # a statement with a schema error is said before any association
            load_statement(Path(statement))
        except StatementError as exc:
            raise RunError(f"the conformance statement cannot be used:\n{exc}") from exc
        env["RTCONFORM_STATEMENT"] = str(Path(statement).resolve())
    profile = profile or sut.profile or "brto"
    features = (features or profile_features(profile)).resolve()
    if not features.is_dir():
        raise RunError(f"no features folder at {features} (give --features DIR)")
    parts = 1 if interactive else parallel_parts(sut, parallel)
    with tempfile.TemporaryDirectory(prefix="rtconform-echo-") as echo:
        echo_log = Path(echo) / RunFolder.ASSOCIATIONS
        check_reachable(sut, echo_log)
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        folder = RunFolder(out)
        folder.reset()  # a run folder given again is this run's, not a mix of two
        if echo_log.is_file():  # the echo is this run's first association
            shutil.move(echo_log, folder.file(RunFolder.ASSOCIATIONS))
    args = [str(features), "-p", "no:cacheprovider", "-m",
            marker_expression(sut, tags, statement),
            "--rtconform-out", str(out), "--rtconform-engines", engines,
            "--rtconform-stimulus", stimulus, "--rtconform-seed", seed,
            "--rtconform-profile", profile,
            "-o", "junit_family=xunit2", "-q" if quiet else "-v", "-p", "no:warnings",
            # not the options of the project around features/ (a checkout's addopts
            # run the test suite in parallel): one run, one session per shard
            "-o", "addopts="]
    if sut_file:
        args += ["--sut", str(Path(sut_file).resolve())]
    if interactive:
        args += ["--interactive", "-s"]
    if redact:
        args += ["--rtconform-redact"]
    if debug:
        args += ["--rtconform-debug"]
    # A process of its own: scenarios are bound when their module is imported,
    # so each run (with its own statement and SUT) needs a fresh interpreter.
    if parts == 1:
        command = [sys.executable, "-m", "pytest", *args, "--junitxml",
                   str(folder.file(RunFolder.JUNIT)), "--cucumberjson",
                   str(folder.file(RunFolder.CUCUMBER))]
        if progress is None:
            code = subprocess.run(command, env=env, cwd=features.parent,
                                  check=False).returncode
        else:
            code = _follow([command], env, features.parent, [folder], progress)[0]
    else:
        shard_folders = [RunFolder(out, k) for k in range(parts)]
        commands = [[sys.executable, "-m", "pytest", *args, "--rtconform-shard", f"{k}/{parts}",
                     "--junitxml", str(f.file(RunFolder.JUNIT)),
                     "--cucumberjson", str(f.file(RunFolder.CUCUMBER))]
                    for k, f in enumerate(shard_folders)]
        codes = _follow(commands, env, features.parent, shard_folders,
                        progress or (lambda _: None))
        merge(folder, parts)
        code = exit_code(codes)
        if progress is None and not quiet:  # what one process would have printed
            sys.stdout.write(folder.file(RunFolder.PYTEST_LOG).read_text(errors="replace"))
    label_outputs(folder, sut)
    results = read_results(folder.file(RunFolder.CUCUMBER))
    results += not_applicable(features, sut, tags)
    write_summary(folder, sut, results, code, settings={
        "started": started.isoformat(timespec="seconds"), "stimulus": stimulus,
        "tags": tags or "", "engines": engines, "statement": str(statement or ""),
        "seed": seed, "profile": profile})
    if code not in (0, 1, pytest.ExitCode.NO_TESTS_COLLECTED):
        log = folder.file(RunFolder.PYTEST_LOG)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) \
            if progress is not None and log.is_file() else "see above"
        raise RunError(f"the scenario run itself failed (pytest exit {code}):\n{tail}")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED or not any(
            r.status != "not applicable" for r in results):
        if created:  # nothing ran: no run folder is left to be mistaken for one
            shutil.rmtree(out, ignore_errors=True)
        raise RunError(f"no scenario matches the SUT's actors {list(sut.actors)}"
                       + (f" and --tags {tags!r}" if tags else ""))
    return code, results


def parallel_parts(sut: SutConfig, parallel: int | None) -> int:
    """How many scenario processes run at once. The embedded default uses the
    cores (each scenario has Archives of its own); a real SUT runs one
    scenario at a time unless its SUT file says more (its scenarios' data are
    disjoint, but the harness's fixed ports are not)."""
    parts = parallel if parallel is not None else \
        min(os.cpu_count() or 1, 4) if sut.embedded else sut.parallel
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


def label_outputs(folder: RunFolder, sut: SutConfig) -> None:
    """JUnit and cucumber as a CI server shows them: one JUnit class per
    transaction (rtconform.RO-2) with the Gherkin scenario name and the SUT
    as suite properties; cucumber feature URIs as packaged (generated
    conformance tables under generated/, not a deleted temporary folder)."""
    from xml.etree import ElementTree

    from rtconform.xmltext import xml_text

    events = {}
    path = folder.file(RunFolder.PROGRESS)
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event.get("event") == "scenario" and event.get("test"):
                events[event["test"]] = event
    junit = folder.file(RunFolder.JUNIT)
    if junit.is_file():
        tree = ElementTree.parse(junit)
        for suite in tree.iter("testsuite"):
            props = ElementTree.Element("properties")
            for key, value in (("sut", sut.name), ("sut.actors", ", ".join(sut.actors)),
                               ("sut.peer", str(sut.peer or sut.export_dir or "embedded")),
                               ("harness.ae", sut.harness_ae)):
                ElementTree.SubElement(props, "property", name=key, value=xml_text(value))
            suite.insert(0, props)
            suite.set("name", "rtconform")
        for case in tree.iter("testcase"):
            for failure in case.iter("failure"):  # pytest ≥ 9.2 abbreviates the attribute
                if failure.text and failure.get("message") != failure.text:
                    failure.set("message", failure.text)
            event = events.get(case.get("name", ""))
            if event:
                case.set("classname", f"rtconform.{event['transaction']}")
                case.set("name", xml_text(event["name"]))
        tree.write(junit, encoding="utf-8", xml_declaration=True)
    cucumber = folder.file(RunFolder.CUCUMBER)
    if cucumber.is_file():
        features = json.loads(cucumber.read_text(encoding="utf-8"))
        for feature in features:
            uri = Path(feature.get("uri", ""))
            feature["uri"] = (f"features/{uri.name}" if uri.parts[:1] == ("features",)
                              else f"features/generated/{uri.name}")
        cucumber.write_text(json.dumps(features, indent=1), encoding="utf-8")


def read_results(cucumber: Path) -> list[ScenarioResult]:
    if not cucumber.is_file():
        return []
    results = []
    for feature in json.loads(cucumber.read_text(encoding="utf-8")):
        transaction = next((t["name"].upper().replace("RO", "RO-") for t in
                            feature.get("tags", []) if re.fullmatch(r"ro\d+", t["name"])),
                           "TPPC" if any(t["name"] == "tppc" for t in feature.get("tags", []))
                           else "conformance")
        for element in feature.get("elements", []):
            steps = element.get("steps", [])
            statuses = [s.get("result", {}).get("status", "skipped") for s in steps]
            status = "failed" if "failed" in statuses else \
                "passed" if statuses and all(s == "passed" for s in statuses) else "skipped"
            message = next((s["result"].get("error_message", "") for s in steps
                            if s.get("result", {}).get("status") == "failed"), "")
            results.append(ScenarioResult(feature["name"], transaction, element["name"], status,
                                          message[-2000:],
                                          tuple(sorted(set(RULE_ID.findall(message))))))
    return results


def new_seed() -> str:
    """A run's own seed: UIDs no earlier run gave the SUT."""
    import secrets

    return secrets.token_hex(4)


def run_settings(sut: SutConfig, settings: dict) -> dict:
    """What a signed report's header must state to make the run reproducible:
    when, with which rtconform and engines (versions), profile, stimulus, and
    the AE titles and ports the harness used."""
    from rtconform import __version__
    from rtconform.engines import describe_engines
    from rtconform.run.context import RunContext

    engines = [e for e in str(settings.get("engines", "auto")).split(",") if e]
    return {
        "started": settings.get("started", ""),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "rtconform": __version__, "profile": settings.get("profile") or RunContext.profile,
        "stimulus": settings.get("stimulus", ""), "seed": settings.get("seed", ""),
        "tags": settings.get("tags", ""),
        "statement": settings.get("statement", ""),
        "engines": describe_engines(engines or ["auto"]),
        "harness": {"calling_ae": sut.harness_ae, "archive_ae": sut.harness_ae,
                    "archive_port": sut.harness_port, "receive_ae": sut.receive_ae,
                    "receive_port": sut.receive_port,
                    "tls": sut.tls.describe() if sut.tls else ""},
    }


def write_summary(folder: RunFolder, sut: SutConfig, results: list[ScenarioResult],
                  code: int, settings: dict | None = None) -> None:
    counts = Counter(r.status for r in results)
    summary = {
        "seed": (settings or {}).get("seed", ""),
        "sut": {"name": sut.name, "actors": list(sut.actors), "embedded": sut.embedded,
                "peer": str(sut.peer) if sut.peer else None,
                "export_dir": str(sut.export_dir) if sut.export_dir else None},
        "run": run_settings(sut, settings or {}),
        "counts": dict(counts), "exit_code": 0 if code == 0 else 1,
        "scenarios": [r.__dict__ | {"rule_ids": list(r.rule_ids)} for r in results],
    }
    folder.write_summary(summary)

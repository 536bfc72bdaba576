"""pytest glue for the scenarios: command-line options, the RunContext
(session) and Scenario (per test) fixtures, and the Gherkin steps. Registered
as a pytest plugin (entry point `pytest11`), so `pytest features/`,
`pytest --pyargs rtconform.features` and `rtconform run` behave alike."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from rtconform.actors.registry import ACTORS, tag_of
from rtconform.ihe.tro import TRANSACTIONS
from rtconform.run.evidence import failure_text
from rtconform.run.options import (
    SHARD,
    RunSettings,
    ShardError,
    add_plugin_options,
    parse_shard,
    settings_from_pytest,
)
from rtconform.run.scenario import Scenario
from rtconform.run.session import RunContext
from rtconform.run.sut import SutConfig, load_sut
from rtconform.run_folder import RunFolder


def _step_plugins() -> list[str]:
    from rtconform.rules.profiles import step_modules

    return ["rtconform.run.steps", *step_modules()]  # the common steps, each profile's own


pytest_plugins = _step_plugins()


def pytest_addoption(parser) -> None:
    """The run options, prefixed --rtconform-… (the old --sut and --interactive
    kept as aliases): defined once in run/options.py with `rtconform run`'s."""
    add_plugin_options(parser.getgroup("rtconform", "IHE-RO TRO scenarios"))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config) -> None:
    """A run folder asked for (--rtconform-out) is written by one session: its
    scenarios run in this process, not in pytest-xdist workers (a checkout's
    addopts start them for the test suite, where each worker has a temporary one)."""
    if config.getoption("--rtconform-out", None) and getattr(config.option, "numprocesses",
                                                             None):
        config.option.numprocesses = 0
        config.option.dist = "no"


def pytest_configure(config) -> None:
    # Gherkin tags become markers (ro2, sut_archive, …): register them.
    for tag in ("conformance", "negative", "export", "acts_on_input"):
        config.addinivalue_line("markers", f"{tag}: rtconform scenario tag")
    for transaction in TRANSACTIONS.values():
        config.addinivalue_line("markers", f"{transaction.tag}: IHE-RO TRO {transaction.id} "
                                           f"{transaction.name}")
    for actor in ACTORS:
        config.addinivalue_line("markers", f"sut_{tag_of(actor)}: the SUT plays the {actor}")
        config.addinivalue_line("markers", f"{tag_of(actor)}: the {actor} takes part")


@pytest.fixture(scope="session")
def run_context(request):
    settings = _settings(request.config)
    sut = load_sut(settings.sut) if settings.sut else SutConfig()
    if settings.interactive:
        sut.interactive = True
    temporary = settings.out is None  # nobody asked for the evidence: do not leave it behind
    out = settings.out or tempfile.mkdtemp(prefix="rtconform-run-")
    yield RunContext(Path(out), sut, settings.engine_names, stimulus=settings.stimulus,
                     profile=settings.profile or sut.profile or "brto",
                     redact=settings.redact, seed=settings.seed,
                     shard=settings.shard[0] if settings.shard else None)
    if temporary:
        shutil.rmtree(out, ignore_errors=True)


def _settings(config) -> RunSettings:
    """This session's run settings; a bad --rtconform-shard is pytest's usage error."""
    try:
        return settings_from_pytest(config.getoption, os.environ)
    except ShardError as exc:
        raise pytest.UsageError(str(exc)) from exc


def _sut_tags(item) -> set[str]:
    return {m.name[4:] for m in item.iter_markers() if m.name.startswith("sut_")}


@pytest.fixture
def scenario(request, run_context: RunContext):
    """One scenario's state; skipped when the SUT plays none of its actors."""
    wanted = _sut_tags(request.node)
    plays = {a.lower().replace(" ", "_") for a in run_context.sut.actors}
    if wanted and not wanted & plays:
        pytest.skip(f"the system under test plays none of {sorted(wanted)}")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]
    state = Scenario(run_context, request.node.name, run_context.folder.scenario_dir(name),
                     title=_gherkin_name(request.node) or request.node.name)
    state.workdir.mkdir(parents=True, exist_ok=True)
    request.node.rtconform_scenario = state  # for the report of a failure
    yield state
    state.stop()


def _gherkin_name(item) -> str | None:
    """The scenario's Gherkin name (pytest-bdd keeps its template per test function)."""
    import importlib

    bdd = importlib.import_module("pytest_bdd.scenario")  # the module, not its function
    registry = getattr(bdd, "scenario_wrapper_template_registry", {})
    try:
        template = registry.get(getattr(item, "obj", None))
    except TypeError:  # not weak-referenceable: not a scenario
        return None
    example = getattr(getattr(item, "callspec", None), "params", {}).get(
        "_pytest_bdd_example")
    if template is not None and example:  # an outline's row: <method> filled in
        try:
            return template.render(example).name
        except (AttributeError, KeyError, TypeError):
            return template.name
    return getattr(template, "name", None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed scenario's report carries its evidence, not a traceback (JUnit,
    cucumber and the console all read report.longrepr)."""
    outcome = yield
    report = outcome.get_result()
    report.scenario_name = _gherkin_name(item)  # for the progress line
    if report.when != "call" or not report.failed or call.excinfo is None \
            or item.config.getoption("--rtconform-debug"):
        return
    scenario = getattr(item, "rtconform_scenario", None)
    if isinstance(scenario, Scenario):
        report.longrepr = failure_text(scenario, call.excinfo.value)


def _shard(config) -> tuple[int, int] | None:
    """(K, N) of --rtconform-shard K/N, or None."""
    try:
        return parse_shard(config.getoption(SHARD.plugin_flag, "") or "")
    except ShardError as exc:
        raise pytest.UsageError(str(exc)) from exc


@pytest.hookimpl(trylast=True)  # after -m has deselected: the parts stay balanced
def pytest_collection_modifyitems(config, items) -> None:
    """A shard keeps every N-th scenario from its K-th on (collection order is
    the same in every process, so the N parts are the whole, once)."""
    shard = _shard(config)
    if shard is None:
        return
    k, n = shard
    from rtconform.actors.recorder import set_id_prefix

    set_id_prefix("abcdefghijklmnopqrstuvwxyz"[k])
    kept = [item for i, item in enumerate(items) if i % n == k]
    deselected = [item for i, item in enumerate(items) if i % n != k]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept


def _folder(config) -> RunFolder | None:
    out = config.getoption("--rtconform-out", None)
    shard = _shard(config)
    return RunFolder(Path(out), shard[0] if shard else None) if out else None


def pytest_collection_finish(session) -> None:
    folder = _folder(session.config)
    if folder is not None:
        folder.path.mkdir(parents=True, exist_ok=True)  # `pytest --rtconform-out NEW_DIR`
        folder.progress("collected", count=len(session.items))


def _transaction(report) -> str:
    keywords = report.keywords if isinstance(report.keywords, dict) else {}
    found = sorted(k for k in keywords if re.fullmatch(r"ro\d+", k))
    if not found and "tppc" in keywords:
        return "TPPC"
    return found[0].upper().replace("RO", "RO-") if found else "conformance"


def pytest_runtest_logreport(report) -> None:
    """One progress line per scenario as it finishes: passed or failed after
    its call, skipped at setup."""
    if not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    config = getattr(report, "config", None) or _CONFIG.get("config")
    folder = _folder(config) if config else None
    if folder is None:
        return
    name = getattr(report, "scenario_name", None) or report.nodeid
    folder.progress("scenario", name=name, transaction=_transaction(report),
                    status=report.outcome, secs=round(report.duration, 2),
                    test=report.nodeid.split("::")[-1])


_CONFIG: dict = {}


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session) -> None:
    _CONFIG["config"] = session.config

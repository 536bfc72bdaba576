"""`rtconform run`: the IHE-RO scenarios against a system under test, with a
header before the first association, a line per scenario and the verdict."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import threading
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rtconform.cli.common import statement_path
from rtconform.cli.options import STRICT_ENGINES_HELP
from rtconform.console import data
from rtconform.run.options import RUN_OPTION_GROUPS, RunSettings
from rtconform.usage import EXIT_FINDINGS, EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from rtconform.run.runner import RunError, default_out, new_seed, run_with
    from rtconform.run.sut import SutConfig, SutError, load_sut

    out = Path(args.out) if args.out else default_out()
    try:
        with strict_engines(args.strict_engines):
            sut = load_sut(Path(args.sut)) if args.sut else SutConfig()
            args.seed = args.seed or new_seed()  # the header gives it: --seed repeats the run
            if not args.quiet:  # said before the first association: what the SUT must know of us
                console.print(run_header(sut, args, out), highlight=False, markup=False)
            _import_in_background("rtconform.report.render")
            code, results = run_with(
                run_settings(args, out), args.tags,
                Path(args.features) if args.features else None,
                statement_path(args.statement) if args.statement else None,
                quiet=not args.verbose, progress=_progress(args, console),
                parallel=args.parallel)
    except (RunError, SutError) as exc:
        raise UsageError(str(exc)) from exc
    if not args.quiet:
        _print_results(console, results, out)
    from rtconform.report.render import render

    written = render(out, redact=args.redact)
    console.print(verdict_line(code, results, out, written["html"]), highlight=False)
    return EXIT_FINDINGS if code else EXIT_OK


def _import_in_background(module: str) -> None:
    """The report's imports (matplotlib, jinja2, pydicom's handlers: about a
    second) are made while the scenario processes run, when this process
    only follows them; the later `import` waits for this one if need be."""
    threading.Thread(target=importlib.import_module, args=(module,), daemon=True,
                     name=f"import {module}").start()


def run_settings(args: argparse.Namespace, out: Path) -> RunSettings:
    """What `rtconform run`'s options tell each scenario process (the same
    fields as the pytest plugin's --rtconform-… options)."""
    return RunSettings(sut=Path(args.sut) if args.sut else None,
                       interactive=args.interactive, profile=args.profile,
                       stimulus=args.stimulus, seed=args.seed or "", out=out,
                       engines=args.engines, redact=args.redact, debug=args.debug)


@contextlib.contextmanager
def strict_engines(enabled: bool):
    """--strict-engines for the scenario processes, which inherit the
    environment and build their engines from it; as it was afterwards."""
    from rtconform.engines.judgement import STRICT_ENV

    before = os.environ.get(STRICT_ENV)
    if enabled:
        os.environ[STRICT_ENV] = "1"
    try:
        yield
    finally:
        if enabled:
            if before is None:
                os.environ.pop(STRICT_ENV, None)
            else:
                os.environ[STRICT_ENV] = before


def _progress(args: argparse.Namespace, console: Console):
    """pytest's own output (an operator's prompts, -v), nothing (-q) or a
    line per scenario as it finishes."""
    if args.interactive or args.verbose:
        return None
    return (lambda _: None) if args.quiet else _progress_printer(console)


def _print_results(console: Console, results: list, out: Path) -> None:
    """The table by transaction (RO-2 before RO-10), then each failure's
    evidence in DICOM terms (the traceback: --debug)."""
    from rtconform.ihe.tro import order

    results = sorted(results, key=lambda r: (order(r.transaction), r.name))
    table = Table("transaction", "scenario", "result", "rule ids",
                  title=f"rtconform run: {escape(str(out))}")
    style = {"passed": "green", "failed": "bold red", "skipped": "dim",
             "not applicable": "dim"}
    for r in results:
        table.add_row(r.transaction, data(r.name), f"[{style[r.status]}]{r.status}[/]",
                      ", ".join(r.rule_ids))
    console.print(table)
    for r in results:
        if r.status == "failed":
            console.print(f"\n[bold red]FAILED[/] {r.transaction} {data(r.name)}")
            console.print(r.message, markup=False, highlight=False)


def verdict_line(code: int, results: list, out: Path, report: Path) -> str:
    """The one line a CI log keeps: the verdict, the counts, where the evidence is."""
    counts = {s: sum(r.status == s for r in results)
              for s in ("passed", "failed", "skipped", "not applicable")}
    verdict = "NOT CONFORMANT" if code else "CONFORMANT"
    return (f"[{'bold red' if code else 'bold green'}]{verdict}[/]: {counts['passed']} "
            f"passed, {counts['failed']} failed, {counts['skipped']} skipped"
            + (f", {counts['not applicable']} not applicable"
               if counts["not applicable"] else "")
            + f"; evidence in {escape(str(out))}; report {escape(str(report))}")


def run_header(sut, args: argparse.Namespace, out: Path) -> str:
    """Who is tested, as whom the harness calls and listens, with what."""
    where = (f"{sut.peer}" if sut.peer else f"export folder {sut.export_dir}"
             if sut.export_dir else "embedded reference actors" if sut.embedded
             else "trigger/operator")
    ports = f"port {sut.harness_port}" if sut.harness_port else "a free port per scenario"
    receive = f"port {sut.receive_port}" if sut.receive_port else "a free port"
    return (f"system under test: {sut.name} ({where}), plays {', '.join(sut.actors)}\n"
            f"harness: calls as {sut.harness_ae}; its Archive on {ports}; takes C-MOVE "
            f"results as {sut.receive_ae} on {receive}"
            + (f"; {sut.tls.describe()}" if sut.tls else "") + "\n"
            f"stimulus {args.stimulus} (UID seed {args.seed}: --seed {args.seed} repeats "
            f"this run); tags {args.tags or 'all'}; run folder {out}")


def _progress_printer(console: Console):
    style = {"passed": "green", "failed": "bold red", "skipped": "dim"}

    def show(event: dict) -> None:
        if event["event"] == "collected":
            console.print(f"{event['count']} scenarios", highlight=False)
        elif event["event"] == "scenario":
            status = event["status"]
            console.print(f"  [{style.get(status, '')}]{status:7}[/] {event['transaction']:11} "
                          f"{data(event['name'])} [dim]({event['secs']:.1f} s)[/]",
                          highlight=False)
    return show


def register(sub) -> None:
    p = sub.add_parser(
        "run", formatter_class=_formatter,
        help="run the IHE-RO TRO scenarios against a system under test (default: embedded)",
        description="Run every scenario whose tags match the actors the SUT plays, the "
                    "harness's simulators playing the others over real associations. Without "
                    "--sut the reference actors are the SUT. The options in the groups below "
                    "are the pytest plugin's too, there spelled --rtconform-NAME "
                    "(pytest features/ --rtconform-sut sut.yaml).",
        epilog=_examples("rtconform run", "rtconform run --sut sut.yaml --out reports/vendor",
                         "rtconform run --tags 'ro2 or ro7'", "rtconform run --stimulus uneven",
                         "rtconform run --sut sut.yaml --interactive",
                         "rtconform run --profile tppc"))
    p.add_argument("--tags", metavar="EXPR", help="pytest marker expression on scenario tags, "
                                                  "e.g. 'ro2 and not negative'")
    p.add_argument("--statement", metavar="NAME|FILE",
                   help="conformance statement for the table scenarios: a file, or the name of "
                        "a shipped one (rtconform statement list); default: the SUT file's, or "
                        "the reference one for the embedded default")
    p.add_argument("--features", metavar="DIR", help="feature files (default: the profile's)")
    p.add_argument("--strict-engines", action="store_true", help=STRICT_ENGINES_HELP)
    p.add_argument("--parallel", type=int, metavar="N",
                   help="scenario processes at once (default: one more than the cores, at most "
                        "4, for the embedded default; 1 for a real SUT unless its SUT file says "
                        "`parallel: N`)")
    p.add_argument("-v", "--verbose", action="store_true", help="pytest's verbose output")
    p.add_argument("-q", "--quiet", action="store_true", help="only the verdict line")
    for title, options in RUN_OPTION_GROUPS.items():
        group = p.add_argument_group(title)
        for option in options:
            option.add_to_argparse(group)
    p.set_defaults(func=cmd_run)

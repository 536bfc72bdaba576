"""`rtconform run`: the IHE-RO scenarios against a system under test, with a
header before the first association, a line per scenario and the verdict."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rtconform.cli.common import statement_path
from rtconform.cli.options import STRICT_ENGINES_HELP
from rtconform.console import data
from rtconform.usage import EXIT_FINDINGS, EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from rtconform.run.runner import RunError, default_out, new_seed, run
    from rtconform.run.sut import SutError
    from rtconform.run.transactions import order

    out = Path(args.out) if args.out else default_out()
    quiet = args.quiet
    from rtconform.engines.judgement import STRICT_ENV

    # the scenario process (which inherits the environment) builds its engines from it
    strict_before = os.environ.get(STRICT_ENV)
    if args.strict_engines:
        os.environ[STRICT_ENV] = "1"
    try:
        from rtconform.run.sut import SutConfig, load_sut

        sut = load_sut(Path(args.sut)) if args.sut else SutConfig()
        if not quiet:  # said before the first association: what the SUT must know of us
            console.print(run_header(sut, args, out), highlight=False, markup=False)
        args.seed = args.seed or new_seed()
        code, results = run(Path(args.sut) if args.sut else None, out, args.tags,
                            Path(args.features) if args.features else None, args.interactive,
                            statement_path(args.statement) if args.statement else None,
                            args.engines,
                            quiet=not args.verbose, stimulus=args.stimulus,
                            redact=args.redact, debug=args.debug,
                            progress=None if (args.interactive or args.verbose)
                            else (lambda _: None) if quiet else _progress_printer(console),
                            seed=args.seed, parallel=args.parallel, profile=args.profile)
    except (RunError, SutError) as exc:
        raise UsageError(str(exc)) from exc
    finally:
        if args.strict_engines:
            if strict_before is None:
                os.environ.pop(STRICT_ENV, None)
            else:
                os.environ[STRICT_ENV] = strict_before
    results = sorted(results, key=lambda r: (order(r.transaction), r.name))
    failed = [r for r in results if r.status == "failed"]
    if not quiet:
        table = Table("transaction", "scenario", "result", "rule ids",
                      title=f"rtconform run: {escape(str(out))}")
        style = {"passed": "green", "failed": "bold red", "skipped": "dim",
                 "not applicable": "dim"}
        for r in results:
            table.add_row(r.transaction, data(r.name), f"[{style[r.status]}]{r.status}[/]",
                          ", ".join(r.rule_ids))
        console.print(table)
        for r in failed:  # the evidence, in DICOM terms (the traceback: --debug)
            console.print(f"\n[bold red]FAILED[/] {r.transaction} {data(r.name)}")
            console.print(r.message, markup=False, highlight=False)
    from rtconform.report.render import render

    written = render(out, redact=args.redact)
    counts = {s: sum(r.status == s for r in results)
              for s in ("passed", "failed", "skipped", "not applicable")}
    verdict = "NOT CONFORMANT" if code else "CONFORMANT"
    console.print(f"[{'bold red' if code else 'bold green'}]{verdict}[/]: {counts['passed']} "
                  f"passed, {counts['failed']} failed, {counts['skipped']} skipped"
                  + (f", {counts['not applicable']} not applicable"
                     if counts["not applicable"] else "")
                  + f"; evidence in {escape(str(out))}; report {escape(str(written['html']))}",
                  highlight=False)
    return EXIT_FINDINGS if code else EXIT_OK


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
    from rtconform.dicom.sample import SAMPLE_SETS

    p = sub.add_parser(
        "run", formatter_class=_formatter,
        help="run the IHE-RO TRO scenarios against a system under test (default: embedded)",
        description="Run every scenario whose tags match the actors the SUT plays, the "
                    "harness's simulators playing the others over real associations. Without "
                    "--sut the reference actors are the SUT.",
        epilog=_examples("rtconform run", "rtconform run --sut sut.yaml --out reports/vendor",
                         "rtconform run --tags 'ro2 or ro7'", "rtconform run --stimulus uneven",
                         "rtconform run --sut sut.yaml --interactive",
                         "rtconform run --profile tppc"))
    p.add_argument("--sut", metavar="FILE", help="system under test (YAML)")
    p.add_argument("--tags", metavar="EXPR", help="pytest marker expression on scenario tags, "
                                                  "e.g. 'ro2 and not negative'")
    p.add_argument("--out", metavar="DIR", help="run folder (default reports/run-<time>)")
    p.add_argument("--interactive", action="store_true",
                   help="ask an operator to make the SUT act (with the SUT's timeout)")
    p.add_argument("--statement", metavar="NAME|FILE",
                   help="conformance statement for the table scenarios: a file, or the name of "
                        "a shipped one (rtconform statement list); default: the SUT file's, or "
                        "the reference one for the embedded default")
    p.add_argument("--features", metavar="DIR", help="feature files (default: the profile's)")
    from rtconform.rules.profiles import profiles

    p.add_argument("--profile", choices=list(profiles()),
                   help="content profile: its scenarios, and what the SUT produces is judged "
                        "by it (default: the SUT file's profile, else brto; tppc: IHE-RO plan "
                        "content, one scenario per beam type)")
    p.add_argument("--engines", default="auto",
                   help="standard engines on what the SUT sends: auto (default: dciodvfy when "
                        "installed), or a comma list that must run (dciodvfy, dicom-validator)")
    p.add_argument("--strict-engines", action="store_true", help=STRICT_ENGINES_HELP)
    p.add_argument("--redact", action="store_true", help="redact patient identity in the report")
    p.add_argument("--stimulus", default="equidistant", choices=list(SAMPLE_SETS),
                   help="the synthetic patient set the harness gives the SUT (default "
                        "equidistant; see rtconform sample --help)")
    p.add_argument("--parallel", type=int, metavar="N",
                   help="scenario processes at once (default: the cores for the embedded "
                        "default; 1 for a real SUT unless its SUT file says `parallel: N`)")
    p.add_argument("--seed", metavar="SEED",
                   help="seed of the UIDs of every object the harness sends (default: a new "
                        "one per run, so a store that kept an earlier run's objects changes "
                        "nothing; the header prints it, and the same seed repeats a run)")
    p.add_argument("-v", "--verbose", action="store_true", help="pytest's verbose output")
    p.add_argument("-q", "--quiet", action="store_true", help="only the verdict line")
    p.add_argument("--debug", action="store_true",
                   help="a failed scenario keeps its Python traceback (default: the evidence)")
    p.set_defaults(func=cmd_run)

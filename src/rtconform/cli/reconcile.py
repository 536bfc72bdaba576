"""`rtconform reconcile`: every instance of an export tree received, unchanged."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from rtconform.cli.common import report_findings
from rtconform.usage import EXIT_FINDINGS, EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def register(sub) -> None:
    p = sub.add_parser(
        "reconcile", formatter_class=_formatter,
        help="nothing lost: every instance of an export tree received, unchanged",
        description="Compares an export tree with what a receiver holds after the push: an "
                    "Archive store folder (rtconform simulate archive --store) or an "
                    "association log. Prints 'N found, N received, N missing, N differ, N "
                    "extra'.",
        epilog=_examples("rtconform reconcile export/ /tmp/archive",
                         "rtconform reconcile export/ reports/run/associations.jsonl --json "
                         "r.json"))
    p.add_argument("tree", metavar="TREE")
    p.add_argument("source", metavar="ARCHIVE_STORE_OR_LOG")
    p.add_argument("--json", metavar="FILE", help="write the counts and findings as JSON")
    p.set_defaults(func=cmd_reconcile)


def cmd_reconcile(args: argparse.Namespace, console: Console) -> int:
    from rtconform.reconcile import reconcile

    if not Path(args.tree).is_dir():
        raise UsageError(f"no such folder: {args.tree}")
    try:
        result = reconcile(Path(args.tree), Path(args.source))
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    counts = {k: getattr(result, k) for k in ("found", "received", "missing", "differ",
                                               "extra")}
    errors = report_findings(console, result.findings, args.json, "reconcile", counts=counts)
    console.print(f"{'[bold red]LOST[/]' if errors else '[bold green]complete[/]'}: "
                  f"{result.line()}", highlight=False)
    return EXIT_FINDINGS if errors else EXIT_OK

"""`rtconform diff-export`: two exports of the same plan, UIDs and content."""

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
        "diff-export", formatter_class=_formatter,
        help="re-export regression: two exports of the same plan, UIDs and content",
        description="Pairs the objects of two exports (by SOP Instance UID, else by what they "
                    "are) and reports changed content under an unchanged UID, changed UIDs of "
                    "an APPROVED plan's study, and objects missing or added.",
        epilog=_examples("rtconform diff-export export-12.0/ export-12.1/",
                         "rtconform diff-export a/ b/ --volatile ContentDate --volatile "
                         "ContentTime --json diff.json"))
    p.add_argument("a", metavar="OLD_EXPORT")
    p.add_argument("b", metavar="NEW_EXPORT")
    p.add_argument("--volatile", action="append", metavar="KEYWORD",
                   help="an attribute allowed to change (repeatable; default "
                        "InstanceCreationDate, InstanceCreationTime, SoftwareVersions)")
    p.add_argument("--json", metavar="FILE", help="write the findings as JSON")
    p.set_defaults(func=cmd_diff_export)


def cmd_diff_export(args: argparse.Namespace, console: Console) -> int:
    from rtconform.diff_export import VOLATILE, diff_exports

    for folder in (args.a, args.b):
        if not Path(folder).is_dir():
            raise UsageError(f"no such folder: {folder}")
    findings = diff_exports(Path(args.a), Path(args.b), args.volatile or VOLATILE)
    errors = report_findings(console, findings, args.json, "diff-export",
                              shown=lambda f: Path(f.file).name)
    console.print(f"{'[bold red]REGRESSION[/]' if errors else '[bold green]no regression[/]'}:"
                  f" {errors} errors, {len(findings) - errors} other findings", highlight=False)
    return EXIT_FINDINGS if errors else EXIT_OK

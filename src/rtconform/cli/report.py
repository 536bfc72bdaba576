"""`rtconform report`: a run folder as a conformance report or statement."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from rtconform.usage import EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from rtconform.report import model as report_model
    from rtconform.report.render import FORMATS, PdfError, render
    from rtconform.statement.observed import write_statement

    run_dir = Path(args.run_dir)
    from rtconform.run_folder import RunFolder

    if not RunFolder(run_dir).is_run:
        raise UsageError(f"{run_dir} is not a run folder (no associations.jsonl, summary.json)")
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
    if args.statement:
        data, _, _ = report_model.build(run_dir, args.redact)
        path = write_statement(data, run_dir / "observed-statement.yaml")
        console.print(f"observed conformance statement: {path}", highlight=False)
        return EXIT_OK
    try:
        written = render(run_dir, formats, args.redact, paper=args.paper, site=args.site,
                         operator=args.operator)
    except PdfError as exc:
        raise UsageError(str(exc)) from exc
    for fmt, path in written.items():
        console.print(f"{fmt}: {path}", highlight=False)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser(
        "report", formatter_class=_formatter,
        help="conformance-statement-style report of what the SUT did in a run",
        description="Render a run folder as a DICOM PS3.2-style conformance report of what "
                    "was observed (HTML, Markdown, JSON), or as a machine-readable statement.",
        epilog=_examples("rtconform report reports/run-20261128-0900",
                         "rtconform report reports/vendor --format html --redact",
                         "rtconform report reports/vendor --format pdf --paper letter "
                         "--site 'Clinic A' --operator 'J. Smith'",
                         "rtconform report --statement reports/vendor"))
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", default="html,md,json",
                   help="comma list of html, md, json, pdf (pdf: printed by headless Chromium)")
    p.add_argument("--redact", action="store_true",
                   help="replace patient name, ID, birth date … in every output")
    p.add_argument("--statement", action="store_true",
                   help="write observed-statement.yaml instead of the report")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4",
                   help="page size of the PDF (default a4)")
    p.add_argument("--site", default="", help="where the run was made (report header)")
    p.add_argument("--operator", default="", help="who made the run (report header)")
    p.set_defaults(func=cmd_report)

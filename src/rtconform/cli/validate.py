"""`rtconform validate`: files and folders through the validation pipeline,
printed, gated (waivers, required engines, layout) and written (JSON, JUnit)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rtconform.cli.common import RateColumn, write_json
from rtconform.cli.options import STRICT_ENGINES_HELP
from rtconform.console import data, make_console
from rtconform.findings import Finding, sort_key
from rtconform.usage import UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter

if TYPE_CHECKING:
    from rtconform.redact import Redactor
    from rtconform.validate import ValidationOptions


def _engine_names(spec: str) -> tuple[bool, list[str]]:
    from rtconform.engines import ENGINE_NAMES

    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in (*ENGINE_NAMES, "tro", "all")]
    if unknown:
        raise UsageError(f"unknown engine(s) {unknown}; choose from tro, {', '.join(ENGINE_NAMES)}")
    if "all" in names:
        return True, list(ENGINE_NAMES)
    return "tro" in names, [n for n in names if n != "tro"]


def _print_findings(console: Console, findings: list[Finding], limit: int, redact) -> None:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        key = (f.rule_id, "waived" if f.waived else str(f.severity))
        groups.setdefault(key, []).append(f)
    table = Table("severity", "rule", "count", "first occurrence", title="Findings by rule",
                  show_lines=False)
    styles = {"error": "bold red", "warning": "yellow", "info": "cyan", "waived": "dim"}
    for (rule_id, severity), items in groups.items():
        first = items[0]
        where = f"{Path(first.file).name} {first.tag_path}".strip()
        table.add_row(f"[{styles[severity]}]{severity}[/]", rule_id, str(len(items)),
                      data(redact(f"{where}: {first.message}")))
    console.print(table)
    shown = [f for f in findings if not f.waived and f.severity == "error"][:limit]
    for f in shown:
        # data (paths, ROI names, messages) is never console markup
        console.print("[red]error[/] " + data(redact(
            f"{f.rule_id} {f.file}{' ' + f.tag_path if f.tag_path else ''}: {f.message}")),
                      highlight=False, markup=True)
    more = sum(1 for f in findings if not f.waived and f.severity == "error") - len(shown)
    if more > 0:
        console.print(f"… and {more} more errors (all are in --json)")


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    from rtconform.dicom.index import iter_files
    from rtconform.redact import Redactor

    paths = check_inputs(args)
    _engine_names(args.engines)  # an unknown engine is said before a waivers file's problem
    waivers = _waivers(args.waivers)
    redactor = Redactor(enabled=args.redact)
    options = validation_options(args, redactor)
    files = list(iter_files(paths))  # walked once: the progress bar's total, then the work
    result = _validate(files, options, args.quiet)
    outputs = [Path(args.json)] if args.json else []
    outputs += [Path(args.out) / "findings.json"] if args.out else []
    if result.interrupted:
        _stop_interrupted(result, args, paths, len(files), outputs, redactor)
    result = gated(result, args, paths, waivers)
    _print_result(console, result, args, redactor)
    if outputs:
        write_json(outputs, redactor.scrub(result.to_json(paths, args.redact)))
    if args.junit:
        write_junit(Path(args.junit), result.findings, redactor)
    return result.exit_code


def check_inputs(args: argparse.Namespace) -> list[Path]:
    """The paths to validate; what cannot be validated as asked is a usage error."""
    paths = [Path(p) for p in args.paths]
    given = [Path(p) for p in args.given or ()]
    missing = [str(p) for p in paths + given if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.resume and not args.out:
        raise UsageError("--resume needs --out DIR: the folder of the run to resume")
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    return paths


def _waivers(path: str | None) -> list:
    """--waivers, loaded now: a file that does not load is exit 2 before any work."""
    from rtconform.waivers import WaiverError, load_waivers

    if not path:
        return []
    try:
        return load_waivers(Path(path))
    except WaiverError as exc:
        raise UsageError(str(exc)) from exc


def validation_options(args: argparse.Namespace, redactor: Redactor) -> ValidationOptions:
    """What `validate`'s options ask of the pipeline (rtconform.validate)."""
    from rtconform.engines import make_engines
    from rtconform.rules.registry import RuleContext
    from rtconform.validate import ValidationOptions

    use_tro, engine_names = _engine_names(args.engines)
    return ValidationOptions(
        engines=make_engines(engine_names, Path(args.standard_path) if args.standard_path
                             else None, args.edition, args.fetch_standard,
                             strict=args.strict_engines),
        use_tro_rules=use_tro,
        context=RuleContext(tolerance_mm=args.tolerance, complete=args.complete),
        rule_tags=frozenset(args.enable_tag or ()),
        profile=args.profile,
        given=[Path(p) for p in args.given or ()],
        redactor=redactor,
        jobs=args.jobs,
        processes=True,
        scheduler=args.scheduler,
        state=Path(args.out) / VALIDATE_STATE if args.out else None,
        resume=args.resume,
        max_object_mb=args.max_object_mb,
    )


def _validate(files: list[Path], options, quiet: bool):
    """The pipeline, with a progress bar on a terminal (never in a CI log)."""
    from rtconform.executors import ExecutorError
    from rtconform.validate import validate_paths

    progress = Progress(TextColumn("validating"), BarColumn(), MofNCompleteColumn(),
                        RateColumn(), TimeRemainingColumn(), console=make_console(stderr=True),
                        transient=True, disable=quiet or not sys.stderr.isatty())
    try:
        with progress:
            task = progress.add_task("files", total=len(files))
            return validate_paths(files, options, progress=lambda _: progress.advance(task))
    except ExecutorError as exc:
        raise UsageError(str(exc)) from exc


def _stop_interrupted(result, args: argparse.Namespace, paths: list[Path], total: int,
                      outputs: list[Path], redactor) -> None:
    """Ctrl-C: the findings so far are written, and where to go on is said."""
    if outputs:
        write_json(outputs, redactor.scrub(result.to_json(paths, args.redact)))
    raise KeyboardInterrupt(
        f"after {result.files} of {total} files"
        + (f"; the findings so far are in {', '.join(map(str, outputs))}" if outputs else "")
        + ("; go on with the same command and --resume" if args.out else ""))


def gated(result, args: argparse.Namespace, paths: list[Path], waivers: list):
    """The result as the CI gate judges it: required engines, the export
    tree's layout, then the waivers (which may waive any of those)."""
    if args.require_engines:
        result = result.require_engines(_engine_names(args.require_engines)[1])
    if args.layout:
        result = _with_layout(result, paths, args.layout)
    if waivers:
        result = result.with_waivers(waivers, Path(args.waivers))
    return result


def _print_result(console: Console, result, args: argparse.Namespace, redactor) -> None:
    """What the console says: notes, what --resume kept, the set, the findings,
    the verdict; with -q only the verdict and each error rule's count."""
    if args.verbose or not args.quiet:
        for engine, reason in result.engine_notes.items():
            console.print(f"[yellow]note[/] {engine}: {data(reason)}", highlight=False)
    if args.resume:
        console.print(f"resumed: {result.reused} file(s) kept from the earlier run, "
                      f"{result.files - result.reused} checked"
                      + (f" ({result.resume_note})" if result.resume_note else ""))
    if not args.quiet:
        _print_set(console, result, args.max_errors, redactor)
    counts = result.counts
    verdict = "[bold red]NOT CONFORMANT[/]" if result.errors else "[bold green]no errors[/]"
    console.print(f"{verdict}: {counts['error']} errors, {counts['warning']} warnings, "
                  f"{counts['info']} info, {counts['waived']} waived")
    if args.quiet:  # what a CI log needs to act on: which rules failed, how often
        errors = Counter(f.rule_id for f in result.findings if f.counts_as_error)
        for rule_id, n in sorted(errors.items(), key=lambda item: (-item[1], item[0])):
            console.print(f"  {rule_id}: {n} error{'s' if n > 1 else ''}", highlight=False)


def _print_set(console: Console, result, max_errors: int, redactor) -> None:
    """The set validated, its findings by rule, and the engines' judgements."""
    from rtconform.engines.judgement import summary

    s = result.graph.summary()
    console.print(
        f"{result.files} files: {s['patients']} patient(s), {s['studies']} study(ies), "
        f"{s['series']} series, {s['images']} images, {s['structure_sets']} structure "
        f"set(s), {s['plans']} plan(s), {s['doses']} dose(s), "
        f"{s['frames_of_reference']} frame(s) of reference")
    if result.findings:
        _print_findings(console, result.findings, max_errors, redactor)
    for line in summary(result.findings):  # never dropped: said, and in --json with each file
        console.print("[cyan]info[/] " + escape(line), highlight=False)


VALIDATE_STATE = "validate-state.jsonl"  # per-file results of `validate --out`


def write_junit(path: Path, findings: list[Finding], redact) -> None:
    """Findings as JUnit XML: one test case per file (a CI server's view),
    failed by its errors, warnings as system-out. Every value passes through
    xml_text: a control character in an ROI Name must not make the document
    unparseable."""
    from xml.etree import ElementTree

    from rtconform.xmltext import xml_text

    def text(value: str) -> str:
        return xml_text(redact(value))

    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.file or "(set)", []).append(f)
    suite = ElementTree.Element("testsuite", name="rtconform validate",
                                tests=str(len(by_file)),
                                failures=str(sum(any(f.counts_as_error for f in fs)
                                                 for fs in by_file.values())))
    for file, items in sorted(by_file.items()):
        case = ElementTree.SubElement(suite, "testcase", classname="rtconform.validate",
                                      name=text(file))
        errors = [f for f in items if f.counts_as_error]
        if errors:
            failure = ElementTree.SubElement(case, "failure", message=text(
                f"{len(errors)} error(s): {errors[0].rule_id} {errors[0].message}"))
            failure.text = text("\n".join(f"{f.rule_id} {f.tag_path}: {f.message} "
                                           f"[{f.source}]" for f in errors))
        others = [f for f in items if not f.counts_as_error]
        if others:
            ElementTree.SubElement(case, "system-out").text = text("\n".join(
                f"{f.severity} {f.rule_id} {f.tag_path}: {f.message}" for f in others))
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _with_layout(result, paths: list[Path], spec: str):
    """The export-tree findings of `--layout` added to a validation."""
    import dataclasses

    from rtconform.layout import LayoutError, check_tree, load_layout, read_dicom_headers

    try:
        layout = load_layout(spec)
    except LayoutError as exc:
        raise UsageError(str(exc)) from exc
    extra = []
    for root in paths:
        if Path(root).is_dir():
            extra += check_tree(Path(root), layout, read_dicom_headers(Path(root)))
    return dataclasses.replace(result, findings=sorted(result.findings + extra, key=sort_key))


def register(sub) -> None:
    p = sub.add_parser(
        "validate", formatter_class=_formatter,
        help="validate DICOM RT files: standard engines + IHE-RO TRO rules",
        description=textwrap.dedent("""\
            Validate files and folders (recursively) with the standard IOD engines
            (dciodvfy, dicom-validator) and the IHE-RO TRO content and cross-object rules."""),
        epilog=_examples(
            "rtconform validate /tmp/patient",
            "rtconform validate export/ --json findings.json --redact",
            "rtconform validate export/ --engines tro,dciodvfy --complete",
            "rtconform validate planner-out/ --profile brto --given stimulus/",
            "rtconform validate export/ --standard-path ~/dicom-standard --waivers waivers.yaml",
            "rtconform validate export/ --layout patient-tree --require-engines dciodvfy",
            "rtconform validate export/ --complete --strict-engines   # dciodvfy unjudged",
            "rtconform validate big-tree/ --jobs 8 --out reports/tree --junit junit.xml",
            "rtconform validate big-tree/ --jobs 8 --out reports/tree --resume   # after Ctrl-C",
            "rtconform validate /shared/tree --scheduler tcp://dask-scheduler:8786"))
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--json", metavar="FILE", help="write all findings as JSON")
    p.add_argument("--engines", default="all", metavar="LIST",
                   help="comma list of tro, dciodvfy, dicom-validator, or all (default)")
    p.add_argument("--standard-path", metavar="DIR",
                   help="local DICOM standard for dicom-validator (<DIR>/<edition>/docbook/"
                        "part03.xml ...); default ~/dicom-validator")
    p.add_argument("--edition", default="local",
                   help="DICOM edition folder to use, e.g. 2025b (default: newest local)")
    p.add_argument("--fetch-standard", action="store_true",
                   help="let dicom-validator download the standard when none is local")
    p.add_argument("--complete", action="store_true",
                   help="the set must be self-contained: unresolved references are errors")
    from rtconform.rules.profiles import profiles

    p.add_argument("--profile", default="dicom-rt", choices=list(profiles()),
                   help="rules to apply: dicom-rt (generic RT consistency, default), brto "
                        "(adds IHE-RO BRTO content, as the IHE-RO test tool checks it), tppc "
                        "(IHE-RO plan content, beam type by beam type) or an installed "
                        "profile of another package")
    p.add_argument("--given", action="append", metavar="DIR",
                   help="what the actor that made PATH was given: produced objects are "
                        "compared with it (copied attributes, new UIDs, kept beams)")
    p.add_argument("--tolerance", type=float, default=0.01, metavar="MM",
                   help="contour-to-image-plane tolerance in mm (default 0.01)")
    p.add_argument("--waivers", metavar="FILE",
                   help="YAML list of accepted findings (optional; `rtconform waivers "
                        "example` prints a commented one)")
    p.add_argument("--enable-tag", action="append", metavar="TAG",
                   help="switch on rules that are off by default, by tag (e.g. log: what the "
                        "IHE-RO test tool only logs)")
    p.add_argument("--redact", action="store_true",
                   help="keep patient identity out of console and JSON output")
    p.add_argument("--max-errors", type=int, default=50, metavar="N",
                   help="error lines to print (default 50; --json has all)")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 2, metavar="N",
                   help="files checked at once, in N worker processes (default: the core "
                        "count)")
    p.add_argument("--workers", type=int, dest="jobs", help=argparse.SUPPRESS)  # old name
    p.add_argument("--out", metavar="DIR",
                   help="the validation's folder: findings.json, and each file's result as "
                        "it finishes (validate-state.jsonl) so that --resume can go on")
    p.add_argument("--resume", action="store_true",
                   help="with --out: reuse the results of files unchanged since (same path, "
                        "size, mtime, settings), check the rest")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the per-file checks on a Dask distributed cluster (workers see "
                        "the same paths; pip install 'rtconform[dask]'); the cross-object "
                        "rules run here")
    p.add_argument("--junit", metavar="FILE",
                   help="write the findings as JUnit XML (one test case per file; errors "
                        "fail it) for a CI server")
    p.add_argument("--layout", metavar="NAME|FILE",
                   help="check the export tree: patient-tree (LastName_FirstName_MedicalID/"
                        "DICOM, plan folders), flat, or a layout YAML file")
    p.add_argument("--require-engines", metavar="LIST",
                   help="CI gate: these engines must run on every file (e.g. dciodvfy); "
                        "one that is missing or crashed is an ENGINE-REQUIRED error")
    p.add_argument("--strict-engines", action="store_true", help=STRICT_ENGINES_HELP)
    p.add_argument("--max-object-mb", type=int, default=512, metavar="MB",
                   help="a file whose data set (inflated, pixel data aside) is larger is "
                        "not read but reported FILE-UNREADABLE (default 512)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="only the verdict line and one line per error rule id with its count")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="with -q: the notes too (an engine that did not run, and why)")
    p.set_defaults(func=cmd_validate)

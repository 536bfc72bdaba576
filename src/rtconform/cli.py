"""rtconform's one entry point.

Exit codes (every command): 0 conformant, 1 findings of severity error,
2 usage or environment error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from rtconform import __version__
from rtconform.console import data, make_console
from rtconform.findings import Finding, sort_key
from rtconform.usage import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


# -- sample -------------------------------------------------------------------
def cmd_sample(args: argparse.Namespace, console: Console) -> int:
    from rtconform.dicom.faults import FAULTS, write_sample

    if args.list_faults:
        # one fault per line, name first: easy to read and to loop over in a shell
        width = max(map(len, FAULTS))
        for fault in FAULTS.values():
            profile = f" --profile {fault.profile}" if fault.profile != "dicom-rt" else ""
            profile += " --complete" if fault.complete else ""
            profile += " (shows in a scenario only)" if fault.scenario_only else ""
            print(f"{fault.name:<{width}}  {fault.description} "
                  f"[{', '.join(sorted(fault.rule_ids))}]{profile}")
        return EXIT_OK
    if args.dir is None:
        raise UsageError("give the folder to write the patient into (rtconform sample DIR)")
    if args.fault and args.fault not in FAULTS:
        raise UsageError(f"unknown fault {args.fault!r}; see rtconform sample --list-faults")
    try:
        paths = write_sample(Path(args.dir), args.fault, args.uid_root, args.set,
                             args.beam_doses, args.export, args.approved,
                             tuple(args.beam_type or ()))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    what = f" with fault {args.fault!r}" if args.fault else ""
    what += f" planned as {', '.join(args.beam_type)}" if args.beam_type else ""
    what += f" (set {args.set})" if args.set != "equidistant" else ""
    what += f" as a {args.export} export" if args.export else ""
    what += ", plan APPROVED" if args.approved else ""
    console.print(f"wrote {len(paths)} files of the synthetic RT patient{what} to {args.dir}")
    return EXIT_OK


# -- validate -------------------------------------------------------------------
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
    from rtconform.engines import make_engines
    from rtconform.executors import ExecutorError
    from rtconform.redact import Redactor
    from rtconform.rules.registry import RuleContext
    from rtconform.validate import ValidationOptions, validate_paths
    from rtconform.waivers import WaiverError, load_waivers

    paths = [Path(p) for p in args.paths]
    given = [Path(p) for p in args.given or ()]
    missing = [str(p) for p in paths + given if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.resume and not args.out:
        raise UsageError("--resume needs --out DIR: the folder of the run to resume")
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    use_tro, engine_names = _engine_names(args.engines)
    waivers = []
    if args.waivers:
        try:
            waivers = load_waivers(Path(args.waivers))
        except WaiverError as exc:
            raise UsageError(str(exc)) from exc
    redactor = Redactor(enabled=args.redact)
    options = ValidationOptions(
        engines=make_engines(engine_names, Path(args.standard_path) if args.standard_path
                             else None, args.edition, args.fetch_standard,
                             strict=args.strict_engines),
        use_tro_rules=use_tro,
        context=RuleContext(tolerance_mm=args.tolerance, complete=args.complete),
        rule_tags=frozenset(args.enable_tag or ()),
        profile=args.profile,
        given=given,
        redactor=redactor,
        jobs=args.jobs,
        processes=True,
        scheduler=args.scheduler,
        state=Path(args.out) / VALIDATE_STATE if args.out else None,
        resume=args.resume,
        max_object_mb=args.max_object_mb,
    )
    files = list(iter_files(paths))  # walked once: the progress bar's total, then the work
    progress = Progress(TextColumn("validating"), BarColumn(), MofNCompleteColumn(),
                        RateColumn(), TimeRemainingColumn(), console=make_console(stderr=True),
                        transient=True, disable=args.quiet or not sys.stderr.isatty())
    try:
        with progress:
            task = progress.add_task("files", total=len(files))
            result = validate_paths(files, options, progress=lambda _: progress.advance(task))
    except ExecutorError as exc:
        raise UsageError(str(exc)) from exc
    outputs = [Path(args.json)] if args.json else []
    outputs += [Path(args.out) / "findings.json"] if args.out else []
    if result.interrupted:
        if outputs:
            _write_json(outputs, redactor.scrub(result.to_json(paths, args.redact)))
        raise KeyboardInterrupt(
            f"after {result.files} of {len(files)} files"
            + (f"; the findings so far are in {', '.join(map(str, outputs))}" if outputs else "")
            + ("; go on with the same command and --resume" if args.out else ""))
    if args.require_engines:
        result = result.require_engines(_engine_names(args.require_engines)[1])
    if args.layout:
        result = _with_layout(result, paths, args.layout)
    if waivers:
        result = result.with_waivers(waivers, Path(args.waivers))
    findings, counts = result.findings, result.counts

    if args.verbose or not args.quiet:  # -q: the verdict and its rule ids only
        for engine, reason in result.engine_notes.items():
            console.print(f"[yellow]note[/] {engine}: {data(reason)}", highlight=False)
    if args.resume:
        console.print(f"resumed: {result.reused} file(s) kept from the earlier run, "
                      f"{result.files - result.reused} checked"
                      + (f" ({result.resume_note})" if result.resume_note else ""))
    if not args.quiet:
        s = result.graph.summary()
        console.print(
            f"{result.files} files: {s['patients']} patient(s), {s['studies']} study(ies), "
            f"{s['series']} series, {s['images']} images, {s['structure_sets']} structure "
            f"set(s), {s['plans']} plan(s), {s['doses']} dose(s), "
            f"{s['frames_of_reference']} frame(s) of reference")
        if findings:
            _print_findings(console, findings, args.max_errors, redactor)
        from rtconform.engines.judgement import summary

        for line in summary(findings):  # never dropped: said, and in --json with each file
            console.print("[cyan]info[/] " + escape(line), highlight=False)
    verdict = "[bold red]NOT CONFORMANT[/]" if result.errors else "[bold green]no errors[/]"
    console.print(f"{verdict}: {counts['error']} errors, {counts['warning']} warnings, "
                  f"{counts['info']} info, {counts['waived']} waived")
    if args.quiet:  # what a CI log needs to act on: which rules failed, how often
        errors = Counter(f.rule_id for f in findings if f.counts_as_error)
        for rule_id, n in sorted(errors.items(), key=lambda item: (-item[1], item[0])):
            console.print(f"  {rule_id}: {n} error{'s' if n > 1 else ''}", highlight=False)
    if outputs:
        _write_json(outputs, redactor.scrub(result.to_json(paths, args.redact)))
    if args.junit:
        write_junit(Path(args.junit), result.findings, redactor)
    return result.exit_code


VALIDATE_STATE = "validate-state.jsonl"  # per-file results of `validate --out`


class RateColumn(ProgressColumn):
    """Files per second, as a long validation shows it."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f} files/s" if task.speed else "… files/s")


def _write_json(paths: list[Path], data: dict) -> None:
    """Each written whole or not at all: a CI step never reads half a JSON."""
    text = json.dumps(data, indent=2)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


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


# -- run ------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from rtconform.ihe.tro import order
    from rtconform.run.runner import RunError, default_out, new_seed, run
    from rtconform.run.sut import SutError

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
                            _statement_path(args.statement) if args.statement else None,
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


# -- report -------------------------------------------------------------------------
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


# -- statements -----------------------------------------------------------------------
def _statement_path(spec: str) -> Path:
    """A statement named (`orthanc`) or given as a path, or a usage error."""
    from rtconform.statement.model import StatementError, resolve_statement

    try:
        return resolve_statement(spec)
    except StatementError as exc:
        raise UsageError(str(exc)) from exc


def _load(spec: str):
    from rtconform.statement.model import StatementError, load_statement

    try:
        return load_statement(_statement_path(spec))
    except StatementError as exc:
        raise UsageError(str(exc)) from exc


def cmd_statement_list(args: argparse.Namespace, console: Console) -> int:
    """The statements shipped with rtconform, by the name --statement takes."""
    from rtconform.statement.model import StatementError, load_statement, packaged_statements

    shipped = packaged_statements()
    width = max(map(len, shipped), default=0)
    for name, path in shipped.items():
        try:
            product = load_statement(path)["product"]
            what = f"{product['manufacturer']} {product['name']} {product['version']}"
        except (StatementError, KeyError) as exc:  # a broken shipped file is named, not hidden
            what = f"(unusable: {str(exc).splitlines()[0]})"
        print(f"{name:<{width}}  {what}  {path}")
    console.print(f"{len(shipped)} shipped statements; use one by name: "
                  "--statement NAME, rtconform statement check NAME", highlight=False)
    return EXIT_OK


def cmd_statement_check(args: argparse.Namespace, console: Console) -> int:
    path = _statement_path(args.file)
    data = _load(str(path))
    aes = data["application_entities"]
    console.print(f"{path}: valid rtconform-statement/1 ({len(aes)} application entities, "
                  f"{sum(len(a.get('sop_classes', [])) for a in aes)} SOP class rows, "
                  f"{len(data.get('iods', []))} IODs)", highlight=False)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    from rtconform.statement.compare import compare
    from rtconform.statement.render import write_comparison

    if args.files and not Path(args.files).is_dir():
        raise UsageError(f"--files {args.files}: no such folder")
    result = compare(_load(args.a), _load(args.b), Path(args.files) if args.files else None)
    console.print(f"[bold {'red' if result['exit_code'] else 'green'}]"
                  f"{escape(result['verdict'])}[/]", highlight=False, soft_wrap=True)
    style = {"works": "green", "blocked": "bold red"}
    for t in result["transactions"]:  # not claimed: counted in the verdict, listed in the files
        if t["verdict"] in style:
            console.print(f"  [{style[t['verdict']]}]{t['verdict']:8}[/] {t['transaction']:5} "
                          f"{data(t['direction'])}" + (f" — {data(t['reason'])}"
                                                          if t["verdict"] == "blocked" else
                                                          f" ({t['conditions']} condition(s))"
                                                          if t["conditions"] else ""),
                          highlight=False, soft_wrap=True)
    for f in result["blocking"]:  # SOP classes one side sends and the other cannot take
        console.print(f"  [bold red]blocking[/] {data(f['name'])} {data(f['direction'])}: "
                      f"sender {data(', '.join(f['sender_syntaxes']))}; receiver "
                      f"{data(', '.join(f['receiver_syntaxes']))}. {data(f['note'])}",
                      highlight=False, soft_wrap=True)
    cs = result["character_sets"]
    console.print(f"character sets: {'compatible' if cs['compatible'] else 'NOT compatible'} "
                  f"(common: {', '.join(cs['common']) or 'none'})", highlight=False)
    verdicts = Counter(c["verdict"].split(":")[0] for c in result["import_constraints"])
    if verdicts:
        console.print(f"{result['b']} import constraints against {result['a']} export claims: "
                      + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())),
                      highlight=False, markup=False)
    for f in result["file_findings"][:10]:
        console.print(f"[red]{f['severity']}[/] {f['rule_id']} {data(Path(f['file']).name)}:"
                      f" {data(f['message'])} [{data(f['source'])}]", highlight=False)
    if len(result["file_findings"]) > 10:
        console.print(f"… and {len(result['file_findings']) - 10} more file findings")
    written = write_comparison(result, Path(args.out))
    console.print(f"details: {', '.join(str(p) for p in written)}", highlight=False)
    return result["exit_code"]


def cmd_verify_statement(args: argparse.Namespace, console: Console) -> int:
    from rtconform.run_folder import RunFolder
    from rtconform.statement.verify import verify

    if not RunFolder(args.run_dir).file(RunFolder.ASSOCIATIONS).is_file():
        raise UsageError(f"{args.run_dir} is not a run folder (no {RunFolder.ASSOCIATIONS})")
    findings = verify(_load(args.file), Path(args.run_dir))
    for f in findings:
        console.print(f"{f.severity} {f.rule_id}: {f.message} [{f.source}]", highlight=False,
                      markup=False)  # a source "[PS3.4 …]" is text, not console markup
    if args.json:
        Path(args.json).write_text(json.dumps([f.to_dict() for f in findings], indent=2))
    errors = sum(f.counts_as_error for f in findings)
    console.print(f"{len(findings)} differences between claim and behaviour, {errors} errors",
                  highlight=False)
    return EXIT_FINDINGS if errors else EXIT_OK


# -- rules --------------------------------------------------------------------------
def cmd_rules(args: argparse.Namespace, console: Console) -> int:
    from rtconform.rules.profiles import catalogue_markdown, profile_markdown, rules_of

    if args.coverage:
        return _print_coverage(args, console)
    if args.markdown:
        print(profile_markdown(args.profile) if args.profile else catalogue_markdown(),
              end="" if args.profile else "\n")
        return EXIT_OK
    profile = args.profile or "dicom-rt"
    rules = rules_of(profile, include_off=True, include_catalogue=True)
    if args.json:
        print(json.dumps([r.to_dict() for r in rules], indent=2))
        return EXIT_OK
    table = Table("id", "severity", "statement", "source",
                  title=f"{len(rules)} rules of profile {profile}")
    table.columns[0].no_wrap = True
    for r in rules:
        on = "" if r.default_on else f" [dim](off; --enable-tag {','.join(sorted(r.tags))})[/]"
        table.add_row(r.id, str(r.severity), r.title + on, r.source)
    console.print(table)
    return EXIT_OK


def _print_coverage(args: argparse.Namespace, console: Console) -> int:
    from rtconform.rules.coverage import checklist_profile, load_coverage, totals

    try:
        profile = checklist_profile(args.profile or "brto")
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from exc
    rows = load_coverage(profile.name)
    if args.json:
        print(json.dumps({"profile": profile.name, "totals": totals(rows),
                          "rows": [r.to_dict() for r in rows]}, indent=2))
        return EXIT_OK
    if not console.is_terminal:  # a file or a pipe: one full line per row, for grep
        for row in rows:
            print(f"{row.id}\t{row.tool_status}\t{row.status}\t{row.path}\t"
                  f"{'; '.join(row.checks)}\t{row.note}")
    else:
        table = Table("row", "in the tool", "attribute", "status", "checked by", "note",
                      title=f"{profile.checklist.title} → rtconform")
        table.columns[0].no_wrap = True
        for row in rows:
            table.add_row(row.id, row.tool_status, row.path, row.status,
                          "\n".join(row.checks), row.note)
        console.print(table)
    t = totals(rows)
    console.print(f"{t['rows']} rows: {t['covered']} covered, {t['partly']} partly, "
                  f"{t['not-applicable']} not applicable")
    return EXIT_OK


# -- parser ----------------------------------------------------------------------
# -- parser: each command registers its own arguments ------------------------------
def _register_sample(sub) -> None:
    p = sub.add_parser("sample", formatter_class=_formatter,
                       help="write the synthetic RT patient (optionally with one fault)",
                       description="Write a deterministic synthetic RT patient: 60 CT slices, a "
                                   "structure set, geometric and dosimetric plans and a plan "
                                   "dose, shaped as IHE-RO BRTO expects.",
                       epilog=_examples("rtconform sample /tmp/patient",
                                        "rtconform sample /tmp/uneven --set uneven",
                                        "rtconform sample --list-faults",
                                        "rtconform sample /tmp/bad --fault contour-off-plane",
                                        "rtconform sample /tmp/tps --export planning-system",
                                        "rtconform sample /tmp/tree --export patient-tree "
                                        "--approved",
                                        "rtconform sample /tmp/vmat --beam-type vmat",
                                        "rtconform sample /tmp/plans --beam-type all"))
    p.add_argument("dir", nargs="?", help="folder to write into")
    p.add_argument("--fault", metavar="NAME", help="inject one defect (see --list-faults)")
    p.add_argument("--list-faults", action="store_true", help="list the defects --fault knows")
    from rtconform.dicom.sample import SAMPLE_SETS

    p.add_argument("--set", default="equidistant", choices=list(SAMPLE_SETS),
                   help="stimulus set: " + "; ".join(f"{k}: {v}" for k, v in SAMPLE_SETS.items()))
    p.add_argument("--beam-doses", action="store_true",
                   help="add one BEAM dose per beam (a planning system's export; not BRTO)")
    from rtconform.dicom.uids import DEFAULT_UID_ROOT

    p.add_argument("--uid-root", default=DEFAULT_UID_ROOT,
                   help=f"UID root the UIDs are derived from (default {DEFAULT_UID_ROOT})")
    from rtconform.dicom.exports import EXPORT_STYLES

    p.add_argument("--export", choices=list(EXPORT_STYLES),
                   help="write it as an exporter does: " + "; ".join(
                       f"{k}: {v}" for k, v in EXPORT_STYLES.items()))
    p.add_argument("--approved", action="store_true",
                   help="with --export: the dosimetric plan is APPROVED (a re-export must keep "
                        "its UIDs; see rtconform diff-export)")
    from rtconform.dicom.beams import TECHNIQUES

    p.add_argument("--beam-type", action="append", choices=[*TECHNIQUES, "all"],
                   metavar="TYPE",
                   help="the CT and structure set with one RT Plan of this beam type (IHE-RO "
                        "TPPC's 14; repeat it, or 'all'): " + ", ".join(TECHNIQUES))
    p.set_defaults(func=cmd_sample)


STRICT_ENGINES_HELP = ("keep every engine finding at the engine's own severity (default: "
                       "findings rtconform knows to be wrong on the object, e.g. dciodvfy's "
                       "Laterality of an unpaired body part, are listed as info with the "
                       "reason)")


def _register_validate(sub) -> None:
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


def _register_run(sub) -> None:
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


def _register_report(sub) -> None:
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


def _register_statement(sub) -> None:
    p = sub.add_parser("statement", formatter_class=_formatter,
                       help="machine-readable conformance statements",
                       epilog=_examples("rtconform statement list",
                                        "rtconform statement check brainlab-rt-elements",
                                        "rtconform statement check vendor.yaml"))
    ssub = p.add_subparsers(dest="statement_command", metavar="ACTION", required=True)
    c = ssub.add_parser("check", formatter_class=_formatter,
                        help="validate a statement against conformance/schema.json",
                        epilog=_examples("rtconform statement check vendor.yaml",
                                         "rtconform statement check orthanc"))
    c.add_argument("file", metavar="NAME|FILE",
                   help="a statement file, or the name of a shipped one (statement list)")
    c.set_defaults(func=cmd_statement_check)
    lst = ssub.add_parser("list", formatter_class=_formatter,
                          help="the statements shipped with rtconform, by name",
                          epilog=_examples("rtconform statement list",
                                           "rtconform run --sut sut.yaml --statement orthanc"))
    lst.set_defaults(func=cmd_statement_list)


def _register_compare(sub) -> None:
    p = sub.add_parser(
        "compare", formatter_class=_formatter,
        help="can A and B talk? flows, transfer syntaxes, character sets, import constraints",
        epilog=_examples(
            "rtconform compare brainlab-rt-elements rtconform-reference",
            "rtconform compare vendor.yaml orthanc",
            "rtconform compare rtconform-reference brainlab-rt-elements --files /tmp/patient"))
    p.add_argument("a", metavar="A", help="statement file, or a shipped one's name")
    p.add_argument("b", metavar="B", help="statement file, or a shipped one's name")
    p.add_argument("--files", metavar="DIR", help="objects A exported: checked against B's "
                                                  "import constraints")
    p.add_argument("--out", default="reports/compare", metavar="DIR",
                   help="where compare.html/md/json go (default reports/compare)")
    p.set_defaults(func=cmd_compare)


def _register_verify_statement(sub) -> None:
    p = sub.add_parser("verify-statement", formatter_class=_formatter,
                       help="what a SUT claims vs what it did in a run",
                       epilog=_examples("rtconform verify-statement vendor.yaml reports/vendor",
                                        "rtconform verify-statement orthanc reports/orthanc"))
    p.add_argument("file", metavar="STATEMENT",
                   help="statement file, or a shipped one's name (rtconform statement list)")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--json", metavar="FILE")
    p.set_defaults(func=cmd_verify_statement)


def _register_diff_export(sub) -> None:
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
    errors = _report_findings(console, findings, args.json, "diff-export",
                              shown=lambda f: Path(f.file).name)
    console.print(f"{'[bold red]REGRESSION[/]' if errors else '[bold green]no regression[/]'}:"
                  f" {errors} errors, {len(findings) - errors} other findings", highlight=False)
    return EXIT_FINDINGS if errors else EXIT_OK


def _report_findings(console: Console, findings: list[Finding], json_path: str | None,
                     command: str, shown=lambda f: f.file, **extra) -> int:
    """One line per finding, and the JSON (`rtconform-findings/1`) when asked:
    what diff-export and reconcile both say. Returns the error count."""
    from rtconform.validate import FORMAT

    styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    for f in findings:
        console.print(f"[{styles[str(f.severity)]}]{f.severity}[/] {f.rule_id} "
                      f"{data(shown(f))}: {data(f.message)}", highlight=False)
    if json_path:
        Path(json_path).write_text(json.dumps(
            {"format": FORMAT, "command": command, **extra,
             "findings": [f.to_dict() for f in findings]}, indent=2), encoding="utf-8")
    return sum(f.counts_as_error for f in findings)


def _register_reconcile(sub) -> None:
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
    errors = _report_findings(console, result.findings, args.json, "reconcile", counts=counts)
    console.print(f"{'[bold red]LOST[/]' if errors else '[bold green]complete[/]'}: "
                  f"{result.line()}", highlight=False)
    return EXIT_FINDINGS if errors else EXIT_OK


def _register_push(sub) -> None:
    from rtconform.actors.cli import add_tls_options

    p = sub.add_parser(
        "push", formatter_class=_formatter,
        help="send an export folder to a Storage SCP (rtconform's own C-STORE SCU)",
        description="Send every DICOM object under DIR, as it is on disk, to a Storage SCP: "
                    "one presentation context per SOP class and transfer syntax; files that "
                    "are not DICOM are skipped and said so. Prints what was sent, refused or "
                    "not sent, each status with its PS3.4 meaning. Exit 0: all stored; 1: one "
                    "refused or not sent; 2: no association (or bad options).",
        epilog=_examples("rtconform push export/ --to ARCHIVE@127.0.0.1:11112",
                         "rtconform push export/ --to ARCHIVE@localhost:11112 --wait 60",
                         "rtconform push export/ --to PACS@pacs:2762 --tls-cert me.pem "
                         "--tls-ca ca.pem --json push.json"))
    p.add_argument("dir", metavar="DIR", help="folder (walked recursively) or one file")
    p.add_argument("--to", required=True, metavar="AE@HOST:PORT",
                   help="the Storage SCP: its AE title, host and port")
    p.add_argument("--aet", default="RTCONFORM", metavar="AE",
                   help="the calling AE title (default RTCONFORM)")
    p.add_argument("--wait", type=float, default=0, metavar="SECS",
                   help="keep trying until the receiver answers C-ECHO, up to SECS (a "
                        "receiver still starting; default: try once)")
    p.add_argument("--timeout", type=float, default=60, metavar="SECS",
                   help="connection, ACSE and DIMSE timeout (default 60)")
    p.add_argument("--json", metavar="FILE", help="write each file's status as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary line")
    add_tls_options(p)
    p.set_defaults(func=cmd_push)


def cmd_push(args: argparse.Namespace, console: Console) -> int:
    from rtconform.actors.archive import check_ae_title
    from rtconform.actors.cli import SimulateError, tls_config
    from rtconform.actors.node import Peer, PeerUnreachable, Timeouts
    from rtconform.actors.push import push, wait_for

    folder = Path(args.dir)
    if not folder.exists():
        raise UsageError(f"no such file or folder: {folder}")
    try:
        peer = Peer.parse(args.to)
        check_ae_title(peer.ae_title)
        check_ae_title(args.aet)
    except ValueError as exc:
        raise UsageError(f"--to/--aet: {exc}") from exc
    if args.timeout <= 0 or args.wait < 0:
        raise UsageError("--timeout must be more than 0 s and --wait 0 s or more")
    try:
        tls = tls_config(args)
    except SimulateError as exc:
        raise UsageError(str(exc)) from exc
    timeouts = Timeouts(connection=min(args.timeout, 30.0), acse=args.timeout,
                        dimse=args.timeout, network=args.timeout)
    progress = Progress(TextColumn(f"pushing to {escape(str(peer))}"), BarColumn(),
                        MofNCompleteColumn(), RateColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True), transient=True,
                        disable=args.quiet or not sys.stderr.isatty())
    try:
        if args.wait:
            wait_for(peer, args.aet, args.wait, timeouts, tls)
        with progress:
            task = progress.add_task("files", total=None)
            result = push(folder, peer, args.aet, timeouts, tls,
                          progress=lambda _: progress.advance(task),
                          ready=lambda n: progress.update(task, total=n))
    except PeerUnreachable as exc:
        raise UsageError(f"no association with {exc}") from exc
    if not args.quiet:
        table = Table("files", "status or reason", title=f"rtconform push → {escape(str(peer))}")
        for meaning, n in result.statuses():
            table.add_row(str(n), escape(meaning))
        if result.statuses():
            console.print(table)
        for sent in result.failed[:PUSH_LISTED]:
            console.print(f"[red]{sent.outcome}[/] {escape(str(sent.path))}: "
                          f"{escape(sent.describe())}", highlight=False)
        if len(result.failed) > PUSH_LISTED:
            console.print(f"… and {len(result.failed) - PUSH_LISTED} more (all are in --json)")
    if args.json:
        _write_json([Path(args.json)], result.to_json())
    verdict = "[bold red]NOT ALL STORED[/]" if result.exit_code else "[bold green]stored[/]"
    console.print(f"{verdict}: {escape(result.line())}", highlight=False)
    return result.exit_code


PUSH_LISTED = 20  # failed files named on the console (all are in --json)


def _register_waivers(sub) -> None:
    p = sub.add_parser("waivers", formatter_class=_formatter,
                       help="waivers files: a commented example to start from",
                       epilog=_examples("rtconform waivers example > waivers.yaml",
                                        "rtconform validate export/ --waivers waivers.yaml"))
    wsub = p.add_subparsers(dest="waivers_command", metavar="ACTION", required=True)
    e = wsub.add_parser("example", formatter_class=_formatter,
                        help="print a commented waivers file that waives nothing",
                        epilog=_examples("rtconform waivers example > waivers.yaml"))
    e.set_defaults(func=cmd_waivers_example)


def cmd_waivers_example(args: argparse.Namespace, console: Console) -> int:
    from rtconform.waivers import example

    sys.stdout.write(example())
    return EXIT_OK


def _register_rules(sub) -> None:
    from rtconform.rules.profiles import profiles

    p = sub.add_parser("rules", formatter_class=_formatter,
                       help="list every rule with its id, severity and source",
                       description="The rule catalogue: id, severity, statement and source.",
                       epilog=_examples("rtconform rules", "rtconform rules --profile brto",
                                        "rtconform rules --coverage",
                                        "rtconform rules --coverage --profile tppc",
                                        "rtconform rules --markdown --profile tppc",
                                        "rtconform rules --json"))
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--profile", choices=list(profiles()),
                   help="the profile (with what it builds on); default dicom-rt, and brto for "
                        "--coverage")
    p.add_argument("--markdown", action="store_true",
                   help="the profiles as Markdown (docs/rules.md); with --profile, that "
                        "profile's finding ids (its RULES.md)")
    p.add_argument("--coverage", action="store_true",
                   help="the outside checklist a profile answers (the IHE-RO test tool's), row "
                        "by row, and what checks each row")
    p.set_defaults(func=cmd_rules)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtconform", formatter_class=_formatter,
        description="Does a system speak DICOM RT the way IHE-RO TRO and its conformance "
                    "statement say it does?",
        epilog=_examples("rtconform sample /tmp/patient", "rtconform validate /tmp/patient",
                         "rtconform simulate archive --port 11112 --store /tmp/archive",
                         "rtconform rules") + "\n\nexit codes: 0 conformant, 1 errors found, "
                                              "2 usage or environment error, 3 internal error")
    parser.add_argument("--version", action="version", version=f"rtconform {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_sample(sub)
    _register_validate(sub)
    _register_run(sub)
    _register_report(sub)
    _register_statement(sub)
    _register_compare(sub)
    _register_verify_statement(sub)
    _register_diff_export(sub)
    _register_reconcile(sub)
    _register_push(sub)
    _register_waivers(sub)
    from rtconform.actors.cli import register as register_simulate

    register_simulate(sub, _formatter)
    _register_rules(sub)
    from rtconform.matrix.cli import register as register_matrix

    register_matrix(sub, _formatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rtconform.dicom.read import quiet_reading

    quiet_reading()
    parser = build_parser()
    args = parser.parse_args(argv)
    # full width when not a terminal (CI logs): no table wrapped at 80 columns
    console = make_console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    errors = make_console(stderr=True, soft_wrap=True)  # one message, one line: no wrapping
    try:
        return args.func(args, console)
    except UsageError as exc:
        errors.print(f"[bold red]rtconform {args.command}:[/] {escape(str(exc))}",
                     highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        errors.print(f"rtconform {args.command}: interrupted"
                     + (f" {escape(str(exc))}" if str(exc) else ""), highlight=False)
        return EXIT_USAGE
    except BrokenPipeError:  # `rtconform ... | head`: the reader left, as dcmtk tools allow
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a defect of rtconform itself, never "findings": exit 3
        errors.print(f"[bold red]rtconform {args.command}: internal error:[/] "
                     f"{escape(f'{type(exc).__name__}: {exc}')} (please report it; "
                     "RTCONFORM_DEBUG=1 shows the traceback)", highlight=False)
        if os.environ.get("RTCONFORM_DEBUG"):
            raise
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

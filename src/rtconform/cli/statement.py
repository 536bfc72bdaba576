"""The conformance-statement commands: `statement list|check`, `compare`
(can A and B talk?) and `verify-statement` (claim against a run)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from rtconform.cli.common import load_statement_arg, statement_path
from rtconform.console import data
from rtconform.usage import EXIT_FINDINGS, EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


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
    path = statement_path(args.file)
    data = load_statement_arg(str(path))
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
    result = compare(load_statement_arg(args.a), load_statement_arg(args.b),
                     Path(args.files) if args.files else None)
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
    findings = verify(load_statement_arg(args.file), Path(args.run_dir))
    for f in findings:
        console.print(f"{f.severity} {f.rule_id}: {f.message} [{f.source}]", highlight=False,
                      markup=False)  # a source "[PS3.4 …]" is text, not console markup
    if args.json:
        Path(args.json).write_text(json.dumps([f.to_dict() for f in findings], indent=2))
    errors = sum(f.counts_as_error for f in findings)
    console.print(f"{len(findings)} differences between claim and behaviour, {errors} errors",
                  highlight=False)
    return EXIT_FINDINGS if errors else EXIT_OK


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


def register(sub) -> None:
    """statement, compare and verify-statement, in the order `--help` lists them."""
    _register_statement(sub)
    _register_compare(sub)
    _register_verify_statement(sub)

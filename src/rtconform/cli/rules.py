"""`rtconform rules`: the rule catalogue, a profile's ids, a checklist's coverage."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from rtconform.usage import EXIT_OK, UsageError
from rtconform.usage import examples as _examples
from rtconform.usage import formatter as _formatter


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


def register(sub) -> None:
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

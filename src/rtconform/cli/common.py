"""What several commands print or read alike: a rate column, atomic JSON,
findings as lines, a statement given by name or path."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.console import Console
from rich.progress import ProgressColumn
from rich.text import Text

from rtconform.console import data
from rtconform.findings import Finding
from rtconform.usage import UsageError


class RateColumn(ProgressColumn):
    """Files per second, as a long validation shows it."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f} files/s" if task.speed else "… files/s")


def write_json(paths: list[Path], data: dict) -> None:
    """Each written whole or not at all: a CI step never reads half a JSON."""
    text = json.dumps(data, indent=2)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def report_findings(console: Console, findings: list[Finding], json_path: str | None,
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


def statement_path(spec: str) -> Path:
    """A statement named (`orthanc`) or given as a path, or a usage error."""
    from rtconform.statement.model import StatementError, resolve_statement

    try:
        return resolve_statement(spec)
    except StatementError as exc:
        raise UsageError(str(exc)) from exc


def load_statement_arg(spec: str) -> dict:
    """A statement named or given as a path, loaded, or a usage error."""
    from rtconform.statement.model import StatementError, load_statement

    try:
        return load_statement(statement_path(spec))
    except StatementError as exc:
        raise UsageError(str(exc)) from exc

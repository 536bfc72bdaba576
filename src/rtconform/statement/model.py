"""Conformance statements as data: loading with schema validation (errors
located by YAML path and line), and the views compare/verify need."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jsonschema
import yaml


class StatementError(ValueError):
    """A statement that cannot be used; lists every located problem."""


def schema() -> dict:
    return json.loads(resources.files("rtconform.statement").joinpath("schema.json").read_text())


def _lines(text: str) -> dict[tuple, int]:
    """YAML path → line number, for located error messages."""
    out: dict[tuple, int] = {}

    def walk(node, path):
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return out


def load_statement(path: Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise StatementError(f"{path}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise StatementError(f"{path}: not valid YAML: {exc}") from exc
    lines = _lines(text)
    errors = sorted(jsonschema.Draft202012Validator(schema()).iter_errors(data),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        located = []
        for e in errors[:20]:
            where = tuple(e.absolute_path)
            line = lines.get(where) or lines.get(where[:-1], 0)
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
            located.append(f"{path}:{line}: {dotted.lstrip('.') or '(top)'}: {e.message}")
        raise StatementError("\n".join(located))
    return data


@dataclass(frozen=True)
class Claim:
    ae: str
    uid: str
    name: str
    role: str
    syntaxes: frozenset[str]
    source: str


def transfer_syntaxes(entry: dict, lists: dict) -> list[str]:
    """The UIDs an entry claims: named lists (NOCOMP, IMPL …) expanded, in order."""
    value = entry.get("transfer_syntaxes", [])
    names = [value] if isinstance(value, str) else list(value)
    return [uid for name in names for uid in lists.get(name, [name])]


def claims(statement: dict) -> list[Claim]:
    lists = statement.get("transfer_syntax_lists", {})
    out = []
    for ae in statement["application_entities"]:
        for sop in ae.get("sop_classes", []):
            syntaxes = frozenset(transfer_syntaxes(sop, lists))
            for role in sop["roles"]:
                out.append(Claim(ae["ae_title"], sop["uid"], sop.get("name", sop["uid"]), role,
                                 syntaxes, sop.get("source", ae.get("source", ""))))
    return out


def constraints(statement: dict, direction: str) -> list[dict]:
    out = []
    for iod in statement.get("iods", []):
        for c in iod.get("constraints", []):
            if c["direction"] == direction:
                out.append({**c, "iod": iod["name"], "sop_class": iod["sop_class"]})
    return out


def character_sets(statement: dict) -> set[str]:
    return {c if isinstance(c, str) else c["value"] for c in statement.get("character_sets", [])}

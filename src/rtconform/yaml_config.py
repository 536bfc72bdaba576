"""User files in YAML (statements, SUT files) checked against a JSON Schema,
every error located as file:line with the key path, and a misspelt key
answered with the nearest known one ("did you mean 'ae_title'?")."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """A user file that cannot be used: every line names file:line and why."""


def yaml_lines(text: str) -> dict[tuple, int]:
    """YAML path → line number."""
    out: dict[tuple, int] = {}

    def walk(node, path):
        out[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                out[(*path, key.value)] = key.start_mark.line + 1
                walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return out


def _suggestion(error: jsonschema.ValidationError) -> str:
    if error.validator != "additionalProperties":
        return ""
    known = list((error.schema.get("properties") or {}).keys())
    extra = re.findall(r"'([^']+)' was unexpected", error.message)
    hints = [f"did you mean {close[0]!r}?" for key in extra
             if (close := difflib.get_close_matches(key, known, n=1, cutoff=0.6))]
    return (" — " + "; ".join(hints)) if hints else f" — known: {', '.join(known)}"


def load_checked(path: Path, schema: dict) -> dict:
    """The YAML mapping at `path`, valid against `schema`, or ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    lines = yaml_lines(text)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        located = []
        for e in errors[:20]:
            where = tuple(e.absolute_path)
            line = lines.get(where) or lines.get(where[:-1], 0)
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
            located.append(f"{path}:{line}: {dotted.lstrip('.') or '(top)'}: {e.message}"
                           f"{_suggestion(e)}")
        raise ConfigError("\n".join(located))
    return data

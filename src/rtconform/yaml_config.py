"""User files in YAML (statements, SUT files, waivers) checked against a JSON
Schema, every error located as file:line with the key path, and a misspelt
key answered with the nearest known one ("did you mean 'ae_title'?").

A user file is input like any other: it is bounded in size, in nesting and
in what its aliases expand to (a "billion laughs" file is refused before it
is built), and must be UTF-8."""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path

import jsonschema
import yaml

MAX_BYTES = 32 << 20
MAX_DEPTH = 64
MAX_VALUES = 1_000_000  # scalars and collections once aliases are expanded
MAX_NUMBER_CHARS = 40  # a port or a timeout of 5,000 digits is not a number to convert
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """A user file that cannot be used: every line names file:line and why."""


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_bounds(root) -> str | None:
    """Why the node graph is too deep or expands too far, or None. Aliases
    make it a DAG: expanded sizes are computed once per node, iteratively."""
    expanded: dict[int, int] = {}
    stack = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            return f"line {node.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels"
        if id(node) in expanded:
            continue
        if not done and (problem := _scalar_problem(node) or _duplicate_key(node)):
            return problem
        kids = _children(node)
        if done or not kids:
            expanded[id(node)] = 1 + sum(expanded[id(k)] for k in kids)
            if expanded[id(node)] > MAX_VALUES:
                return (f"line {node.start_mark.line + 1}: aliases expand to more than "
                        f"{MAX_VALUES} values")
            continue
        stack.append((node, depth, True))
        stack.extend((k, depth + 1, False) for k in kids if id(k) not in expanded)
    return None


def _scalar_problem(node) -> str | None:
    """A number YAML would accept and no setting can mean: NaN, infinity, or
    thousands of digits (Python refuses to convert those, with a ValueError)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (_INT, _FLOAT):
        return None
    line = node.start_mark.line + 1
    if len(node.value) > MAX_NUMBER_CHARS:
        return f"line {line}: a number of {len(node.value)} characters is not a usable value"
    text = node.value.lower().replace("_", "").replace(".nan", "nan").replace(".inf", "inf")
    try:
        finite = node.tag != _FLOAT or math.isfinite(float(text))
    except ValueError:  # YAML 1.1 sexagesimal (1:30.5): finite
        finite = True
    if not finite:
        return f"line {line}: {node.value} is not a finite number"
    return None


def _duplicate_key(node) -> str | None:
    """YAML keeps the last of two equal keys, silently: say so instead."""
    if not isinstance(node, yaml.MappingNode):
        return None
    first: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value in first:
            return (f"line {key.start_mark.line + 1}: duplicate key {key.value!r} (first at "
                    f"line {first[key.value]})")
        first[key.value] = key.start_mark.line + 1
    return None


def yaml_lines(root) -> dict[tuple, int]:
    """YAML path → line number (of a bounded node graph)."""
    out: dict[tuple, int] = {}
    stack = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                out[(*path, key.value)] = key.start_mark.line + 1
                stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((value, (*path, i)) for i, value in enumerate(node.value))
    return out


def load_yaml(path: Path):
    """(data, root node) of a bounded, UTF-8 YAML file, or ConfigError."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_BYTES >> 20} MB")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        problem = check_bounds(root)
        if problem:  # "line N: why" → "file:N: why"
            raise ConfigError(f"{path}:{problem.removeprefix('line ')}")
        return loader.construct_document(root), root
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: nested too deeply to read") from exc
    except ConfigError:
        raise
    except ValueError as exc:  # a value the constructor cannot convert
        raise ConfigError(f"{path}: a value cannot be read: {exc}") from exc
    finally:
        loader.dispose()


def _suggestion(error: jsonschema.ValidationError) -> str:
    if error.validator != "additionalProperties":
        return ""
    known = list((error.schema.get("properties") or {}).keys())
    extra = re.findall(r"'([^']+)' was unexpected", error.message)
    hints = [f"did you mean {close[0]!r}?" for key in extra
             if (close := difflib.get_close_matches(key, known, n=1, cutoff=0.6))]
    return (" — " + "; ".join(hints)) if hints else f" — known: {', '.join(known)}"


def load_checked(path: Path, schema: dict, lines: dict | None = None):
    """The YAML data at `path`, valid against `schema`, or ConfigError. Pass
    a dict as `lines` to receive the line of every key path."""
    path = Path(path)
    data, root = load_yaml(path)
    if lines is not None:
        lines.update(yaml_lines(root))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = lines or yaml_lines(root)
        located = []
        for e in errors[:20]:
            where = tuple(e.absolute_path)
            line = lines.get(where) or lines.get(where[:-1], 0)
            if e.validator == "additionalProperties" and isinstance(e.instance, dict):
                known = e.schema.get("properties") or {}
                extra = [key for key in e.instance if key not in known]
                line = lines.get((*where, extra[0]), line) if extra else line  # the key's line
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
            message = e.message
            if e.validator == "pattern" and e.schema.get("description"):
                message = f"{e.instance!r} is not {e.schema['description']}"
            located.append(f"{path}:{line}: {dotted.lstrip('.') or '(top)'}: {message}"
                           f"{_suggestion(e)}")
        raise ConfigError("\n".join(located))
    return data

"""One catalogue: every finding id the program can emit is registered with its
severity, statement and source, and listed by `rtconform rules`."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

from helpers import ROOT
from rtconform.rules.profiles import catalogue_markdown, profile_markdown, profiles

ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
# string literals of that shape that are not finding ids: DIMSE commands,
# PS3.8 primitives, transactions, rows of the IHE-RO test tool's checklists, the sample's
# own IDs
NOT_IDS = re.compile(r"^([CN]-[A-Z]+(-[A-Z]+)?(-RQ|-RSP)?|A-(P-)?ABORT|A-ASSOCIATE-(RQ|AC|RJ)"
                     r"|(RO|RAD)-\d+|BRTO-RO\d*(-\d+)?|RTC-.*|TPPC-(GEN|MOD-[A-Z]+|[A-Z]+)-\d+"
                     r"(…\d+)?|MOD-[A-Z]+)$")


def _emitted() -> set[str]:
    """Finding ids written in src/: literals, and f-string prefixes (DV-…)."""
    found = set()
    for path in (ROOT / "src" / "rtconform").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and ID.match(node.value) and not NOT_IDS.match(node.value):
                found.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and \
                    isinstance(node.values[0], ast.Constant) and \
                    re.fullmatch(r"[A-Z]+-", str(node.values[0].value)):
                found.add(str(node.values[0].value) + "*")
    return found


def _listed(profile: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "rtconform", "rules", "--profile", profile,
                           "--json"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_rules_json_lists_every_emitted_id():
    rules = [r for name in profiles() for r in _listed(name)]
    listed = {r["id"] for r in rules}
    for emitted in _emitted():
        if emitted.endswith("*"):  # a family: at least one member listed
            assert any(i.startswith(emitted[:-1]) for i in listed), emitted
        else:
            assert emitted in listed, emitted
    assert all(r["source"] and r["title"] for r in rules)


def test_sources_cite_nothing_outside_the_repository():
    proc = subprocess.run([sys.executable, "-m", "rtconform", "rules", "--profile", "brto",
                           "--json"], capture_output=True, text=True, check=True)
    assert "ihe-ro-rules.md" not in proc.stdout and "../shared" not in proc.stdout


def test_docs_rules_md_is_current():
    """docs/rules.md lists the profiles; each profile's own package lists its
    finding ids (so a new rule touches its profile's folder only)."""
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == catalogue_markdown() + "\n"
    for name, profile in profiles().items():
        if profile.built_in:
            assert profile.resource("RULES.md").read_text(encoding="utf-8") == \
                profile_markdown(name), f"regenerate: rtconform rules --markdown --profile {name}"


def test_docs_rules_md_names_profiles_not_rules():
    """Adding a rule touches its profile's folder (and test) only: docs/rules.md
    names no rule but those a profile drops (a profile-level declaration)."""
    from rtconform.rules.profiles import all_rules, dropped

    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    declared = {rule_id for name in profiles() for rule_id in dropped(name)}
    named = [r.id for r in all_rules()
             if r.id not in declared and re.search(rf"(?<![\w-]){re.escape(r.id)}(?![\w-])", docs)]
    assert named == []


def _swallowed(source: str) -> list[int]:
    """Lines of handlers of Exception/BaseException (or bare excepts) that
    neither re-raise nor use what they caught."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ExceptHandler):
            continue
        caught = node.type
        if not (caught is None or (isinstance(caught, ast.Name)
                                   and caught.id in ("Exception", "BaseException"))):
            continue
        body = list(ast.walk(ast.Module(body=node.body, type_ignores=[])))
        raises = any(isinstance(n, ast.Raise) for n in body)
        uses = node.name is not None and any(
            isinstance(n, ast.Name) and n.id == node.name for n in body)
        if not (raises or uses):
            lines.append(node.lineno)
    return lines


def test_no_exception_is_swallowed():
    """Every broad handler re-raises or uses what it caught (a finding, a note,
    a status with the reason): an object that cannot be read never silently
    vanishes from a result."""
    offenders = [f"{path.relative_to(ROOT)}:{line}"
                 for path in (ROOT / "src" / "rtconform").rglob("*.py")
                 for line in _swallowed(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_swallow_check_can_fail():
    broken = "try:\n    f()\nexcept Exception:\n    continue_quietly = 1\n"
    assert _swallowed(broken) == [3]
    recorded = "try:\n    f()\nexcept Exception as exc:\n    note(exc)\n"
    assert _swallowed(recorded) == []

"""The written map of the house stays true: the README's Layout section lists
exactly the packages and top-level modules of src/rtconform (and entries of
the repository that exist), and docs/architecture.md and docs/extending.md
cite only files that exist and `rtconform.…` names that import."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from helpers import ROOT

SRC = ROOT / "src" / "rtconform"
ENTRY = re.compile(r"^[\w./-]+(/|\.py|\.md)$")  # a name the Layout block lists


def layout_block(readme: str) -> str:
    """The ``` block of the README's "## Layout" section."""
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)


def layout_entries(block: str) -> tuple[set[str], set[str]]:
    """(entries under src/rtconform/, entries at the repository's top): the
    names at the start of a line, before its words (several may share a line)."""
    inside, top = set(), set()
    lines = block.splitlines()
    assert lines[0].strip() == "src/rtconform/", "the block starts with the package"
    for line in lines[1:]:
        indent = len(line) - len(line.lstrip())
        if indent not in (0, 2):
            continue  # a continuation of the words above
        names = []
        for token in line.split():
            if not ENTRY.match(token):
                break
            names.append(token)
        assert names, f"a Layout line names no file or folder: {line!r}"
        (top if indent == 0 else inside).update(names)
    return inside, top


def package_entries(src: Path) -> set[str]:
    """The packages (folder/) and the top-level modules (name.py) of the
    package, dunder files left out."""
    packages = {p.parent.name + "/" for p in src.glob("*/__init__.py")}
    modules = {p.name for p in src.glob("*.py") if not p.name.startswith("__")}
    return packages | modules


def test_readme_layout_matches_the_tree() -> None:
    inside, top = layout_entries(layout_block((ROOT / "README.md").read_text(encoding="utf-8")))
    actual = package_entries(SRC)
    missing, extra = sorted(actual - inside), sorted(inside - actual)
    assert not missing, f"in src/rtconform but not in the README's Layout: {missing}"
    assert not extra, f"in the README's Layout but not in src/rtconform: {extra}"
    gone = sorted(name for name in top if not (ROOT / name).exists())
    assert not gone, f"in the README's Layout but not in the repository: {gone}"


def test_layout_parser_sees_a_missing_and_an_extra_entry() -> None:
    """The control: the parser reads names, not words, so a module left out or
    one that is gone shows."""
    block = ("src/rtconform/\n  cli.py            commands (sample, validate,\n"
             "                    run.py and more)\n  findings.py  redact.py  the rest\n"
             "  gone/             nothing\ntests/            one folder per area\n")
    inside, top = layout_entries(block)
    assert inside == {"cli.py", "findings.py", "redact.py", "gone/"}
    assert top == {"tests/"}
    assert "usage.py" in package_entries(SRC) - inside


DOCS = ("docs/architecture.md", "docs/extending.md")
PATH = re.compile(r"`((?:src|tests|features|conformance|suts|docs|benchmarks|tools|\.ci)"
                  r"/[\w./*<>-]*|pyproject\.toml|README\.md)`")  # a bare RULES.md is a profile's
NAME = re.compile(r"`(rtconform(?:\.\w+)+)(?:\(\))?`")


def resolve(dotted: str) -> object:
    """Import the longest module prefix of `dotted`, then getattr the rest (a
    `__main__` module is found, not run)."""
    if dotted.endswith(".__main__"):
        spec = importlib.util.find_spec(dotted)
        if spec is None:
            raise ModuleNotFoundError(dotted)
        return spec
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name and ".".join(parts[:cut]).startswith(exc.name):
                continue
            raise
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def doc_problems(text: str) -> list[str]:
    """Each file path the text cites that matches nothing in the repository,
    and each `rtconform.…` name that does not import."""
    paths, names = PATH.findall(text), NAME.findall(text)
    problems = [f"no such file: {p}" for p in paths
                if not any(ROOT.glob(re.sub(r"<\w+>", "*", p)))]
    for name in names:
        try:
            resolve(name)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{name} does not import: {exc}")
    return problems


@pytest.mark.parametrize("doc", DOCS)
def test_docs_cite_what_exists(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert len(PATH.findall(text)) > 10 and len(NAME.findall(text)) > 20, "the patterns missed"
    problems = doc_problems(text)
    assert not problems, f"{doc}:\n" + "\n".join(problems)


def test_doc_check_sees_a_missing_file_and_name() -> None:
    """The control: a file and a name that are gone, beside two that exist."""
    text = ("`src/rtconform/findings.py`, `src/rtconform/gone.py`, "
            "`rtconform.findings.Finding`, `rtconform.findings.Gone`, `rtconform.__main__`")
    problems = doc_problems(text)
    assert problems[0] == "no such file: src/rtconform/gone.py"
    assert problems[1].startswith("rtconform.findings.Gone does not import")
    assert len(problems) == 2


def test_resolve_fails_on_a_missing_name() -> None:
    assert resolve("rtconform.findings.Finding").__name__ == "Finding"
    with pytest.raises(AttributeError):
        resolve("rtconform.findings.NoSuchThing")
    with pytest.raises(AttributeError):  # rtconform imports; it has no such module
        resolve("rtconform.nosuchmodule.thing")

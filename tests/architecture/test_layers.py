"""Layers as a tested contract: rtconform's packages stand on one another
bottom → top, a module imports only from its own layer or below, and no two
modules (nor two packages) import each other in a loop. The walk is `ast`
over src/rtconform (every import counts, a lazy one inside a function too:
it is a dependency all the same; one under `if TYPE_CHECKING:` counts for the
layers, not for loops, since it is never run); a profile reached by entry point
(`importlib.import_module`) is not an import, which is how plugins stand on
top of the machinery that finds them.

To change the house, change LAYERS. A known violation is an explicit,
commented entry in UPWARD_EXCEPTIONS or CYCLE_EXCEPTIONS; the test fails
when an entry is no longer needed, so remove it when the fix lands.
docs/architecture.md explains the layers in words."""

from __future__ import annotations

import ast
import shutil
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from helpers import ROOT

PACKAGE = "rtconform"
SRC = ROOT / "src" / PACKAGE

# Bottom → top. A name is a package (all its modules) or a module; the most
# specific name a module falls under gives its layer ("rtconform" alone is the
# package's own __init__.py). Names in one layer may import each other, but
# never in a loop.
LAYERS: list[tuple[str, ...]] = [
    # what every layer uses: exit codes, console, XML text, YAML input, findings,
    # redaction, and the IHE-RO facts (the TRO actors and transactions)
    ("rtconform", "rtconform.usage", "rtconform.console", "rtconform.xmltext",
     "rtconform.yaml_config", "rtconform.findings", "rtconform.redact", "rtconform.ihe"),
    # DICOM: reading, instance index, object graph, UIDs, the synthetic patient, faults
    ("rtconform.dicom",),
    # checks: the standard engines, the rule machinery, export layouts, waivers
    ("rtconform.engines", "rtconform.rules", "rtconform.layout", "rtconform.waivers"),
    # the synthetic patient: the test stimulus, the reference actors' production engine, and
    # the faults that prove each profile's rules (it loads them through the profile finder)
    ("rtconform.phantom",),
    # validation: one file's checks, their executors, the whole pipeline, export diffs
    ("rtconform.filecheck", "rtconform.executors", "rtconform.validate",
     "rtconform.diff_export"),
    # the network: recorder, nodes, the IHE-RO actors
    ("rtconform.actors",),
    # what a run leaves and what is made of it; the drivers of real tools
    ("rtconform.run_folder", "rtconform.reconcile", "rtconform.report", "rtconform.statement",
     "rtconform.suts"),
    # the run: SUT file, context, steps, pytest plugin, runner
    ("rtconform.run",),
    # plugins on top of the run (found by entry point) and the interoperability matrix
    ("rtconform.profiles", "rtconform.matrix"),
    # commands
    ("rtconform.cli", "rtconform.__main__", "rtconform.suts.__main__"),
]

# Known upward imports: (importer, imported, why). Each name matches as in
# LAYERS (a package covers its modules). Remove an entry when its fix lands:
# the test fails while an entry matches no import.
UPWARD_EXCEPTIONS: list[tuple[str, str, str]] = [
    # none today: the File-set rules are found by their tag and the tppc report section
    # through its profile's registration (rules.profiles.file_set_rules, report_sections)
]

# Known import loops between modules (each as the exact set of its modules).
CYCLE_EXCEPTIONS: list[tuple[frozenset[str], str]] = [
    # none today: the rules/ circle (catalogue ↔ registry ↔ profiles) and the SUT driver
    # interface ↔ its kinds (run/drivers/base.py now) were untied in issue 24
]


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package under `src` by dotted name (a package by its
    own name, its __init__.py as the file)."""
    found = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(src: Path) -> dict[tuple[str, str], bool]:
    """(importer, imported) for every import between two modules of the package,
    absolute or relative, at any depth of the file → whether it is run (False:
    made only for type checkers, under `if TYPE_CHECKING:`)."""
    found = modules(src)
    edges: dict[tuple[str, str], bool] = {}
    for name, path in found.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block)
                       for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            for target in _targets(name, is_package, node, found):
                while target not in found:  # `import rtconform.x.y` of a name: its module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edge = (name, target)
                    edges[edge] = edges.get(edge, False) or id(node) not in typing_only
    return edges


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None) if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(name: str, is_package: bool, node: ast.AST, found: dict) -> Iterable[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = name.split(".") if is_package else name.split(".")[:-1]
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join(parts + ([node.module] if node.module else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in found else base
                 for a in node.names]
    else:
        return []
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


def matches(module: str, name: str) -> bool:
    return module == name or (name != PACKAGE and module.startswith(name + "."))


def unit_of(module: str, layers: list[tuple[str, ...]]) -> tuple[int, str] | None:
    """(layer index, layer name) of the most specific name covering `module`."""
    best = None
    for level, names in enumerate(layers):
        for name in names:
            if matches(module, name) and (best is None or len(name) > len(best[1])):
                best = (level, name)
    return best


def cycles(edges: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(src: Path, layers=LAYERS, upward=UPWARD_EXCEPTIONS,
          cycle_exceptions=CYCLE_EXCEPTIONS) -> list[str]:
    """What breaks the contract in the package at `src`, one line each ([] =
    the contract holds)."""
    problems = []
    found = modules(src)
    for names in layers:
        for name in names:
            if name not in found:
                problems.append(f"layer name {name} is no module or package of {src}")
    for module in found:
        if unit_of(module, layers) is None:
            problems.append(f"{module} is in no layer: add it (or its package) to LAYERS")
    edges = imports(src)
    used = set()
    kept = set()
    for a, b in sorted(edges):
        ua, ub = unit_of(a, layers), unit_of(b, layers)
        if ua is None or ub is None or ua[0] >= ub[0]:
            kept.add((a, b))
            continue
        excepted = [e for e in upward if matches(a, e[0]) and matches(b, e[1])]
        if excepted:
            used.update(e[:2] for e in excepted)
            continue
        problems.append(f"upward import: {a} (layer {ua[0]}, {ua[1]}) imports {b} "
                        f"(layer {ub[0]}, {ub[1]})")
    for importer, imported, why in upward:
        if (importer, imported) not in used:
            problems.append(f"upward exception no longer needed: {importer} -> {imported} "
                            f"({why}): remove it from UPWARD_EXCEPTIONS")
    # a loop made only by annotations (`if TYPE_CHECKING:`) is no import loop; its
    # imports still count for the layers above
    kept = {edge for edge in kept if edges[edge]}
    module_cycles = cycles(kept)
    declared = {members for members, _ in cycle_exceptions}
    for loop in module_cycles:
        if loop not in declared:
            problems.append("import cycle: " + " <-> ".join(sorted(loop)))
    for members, why in cycle_exceptions:
        if members not in module_cycles:
            problems.append(f"cycle exception no longer matches a cycle: {sorted(members)} "
                            f"({why}): remove or update it in CYCLE_EXCEPTIONS")
    excepted = [members for members in declared if members in module_cycles]
    units = {(unit_of(a, layers)[1], unit_of(b, layers)[1]) for a, b in kept
             if unit_of(a, layers) and unit_of(b, layers)
             and not any(a in members and b in members for members in excepted)}
    for loop in cycles((a, b) for a, b in units if a != b):
        problems.append("package cycle: " + " <-> ".join(sorted(loop)))
    return problems


def test_layers_hold() -> None:
    problems = check(SRC)
    assert not problems, "\n".join(problems)


def test_each_name_stands_in_one_layer() -> None:
    """Each name stands in one layer only (else its place is ambiguous)."""
    names = [name for layer in LAYERS for name in layer]
    assert len(names) == len(set(names))
    assert all(LAYERS)


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / PACKAGE
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_control_an_upward_import_fails(tmp_path: Path) -> None:
    """The control: the same tree with one deliberate upward import (the
    findings type importing the run layer, in a function as a lazy import)
    breaks the contract, and the problem names both ends."""
    copy = _copy(tmp_path)
    assert check(copy) == []  # the copy holds the contract like the tree
    _append(copy / "findings.py", "def _upward():\n    from rtconform.run.runner import main")
    problems = check(copy)
    assert len(problems) == 1, problems
    run_layer = unit_of("rtconform.run.runner", LAYERS)[0]
    assert problems[0].startswith("upward import: rtconform.findings (layer 0")
    assert f"imports rtconform.run.runner (layer {run_layer}, rtconform.run)" in problems[0]


def test_control_a_cycle_and_an_unplaced_package_fail(tmp_path: Path) -> None:
    """A loop inside one layer (no import runs upward) and a new package that
    no layer names are both caught; a relative import counts like an absolute one."""
    copy = _copy(tmp_path)
    _append(copy / "waivers.py", "from .layout import check_tree")  # layout stands beside it
    _append(copy / "layout.py", "import rtconform.waivers")
    (copy / "newpkg").mkdir()
    (copy / "newpkg" / "__init__.py").write_text("from rtconform.findings import Finding\n")
    problems = check(copy)
    assert "import cycle: rtconform.layout <-> rtconform.waivers" in problems
    assert "package cycle: rtconform.layout <-> rtconform.waivers" in problems
    assert "rtconform.newpkg is in no layer: add it (or its package) to LAYERS" in problems
    assert len(problems) == 3, problems


def test_type_only_imports_count_for_layers_not_for_loops(tmp_path: Path) -> None:
    """A session and its scenarios may name each other's types; a low layer may
    not name a high one's, even only for the type checker."""
    copy = _copy(tmp_path)
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    {}"
    _append(copy / "waivers.py", guarded.format("from rtconform.layout import Layout"))
    _append(copy / "layout.py", "import rtconform.waivers")
    assert check(copy) == []
    _append(copy / "usage.py", guarded.format("from rtconform.run.sut import SutConfig"))
    assert [p.split(" (layer")[0] for p in check(copy)] == [
        "upward import: rtconform.usage"]


def test_a_declared_cycle_is_excepted_and_a_stale_one_fails(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _append(copy / "waivers.py", "from .layout import check_tree")
    _append(copy / "layout.py", "import rtconform.waivers")
    loop = (frozenset({"rtconform.layout", "rtconform.waivers"}), "a known loop")
    assert check(copy, cycle_exceptions=[*CYCLE_EXCEPTIONS, loop]) == []
    assert check(SRC, cycle_exceptions=[*CYCLE_EXCEPTIONS, loop]) == [
        "cycle exception no longer matches a cycle: ['rtconform.layout', 'rtconform.waivers'] "
        "(a known loop): remove or update it in CYCLE_EXCEPTIONS"]


def test_control_an_exception_no_longer_needed_fails(tmp_path: Path) -> None:
    """An exception whose import is gone is reported, so the list cannot rot."""
    stale = [*UPWARD_EXCEPTIONS, ("rtconform.usage", "rtconform.cli", "never true")]
    problems = check(SRC, upward=stale)
    assert problems == ["upward exception no longer needed: rtconform.usage -> rtconform.cli "
                        "(never true): remove it from UPWARD_EXCEPTIONS"]

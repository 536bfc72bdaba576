"""A run split over several scenario processes (`rtconform run --parallel N`).

Scenarios whose data are disjoint can run at once: in the embedded default
each scenario has Archives of its own, and against a real SUT each scenario
sends UIDs of its own. Each process (pytest with `--rtconform-shard K/N`)
keeps every N-th scenario and writes its logs under `shards/K/`; scenario
stores and the objects folder are shared (unique by name, and by content
with atomic writes). When all are done, the logs are merged into the run
folder's usual files, so a reader never knows the run was split.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

from rtconform.run_folder import RunFolder

JSON_LINES = (RunFolder.ASSOCIATIONS, RunFolder.SUT_ASSOCIATIONS, RunFolder.FINDINGS_LOG,
              RunFolder.PROGRESS)


def exit_code(codes: list[int]) -> int:
    """One pytest exit code for the parts: an error wins, then a failure; a
    part with no scenario (more parts than scenarios) is not a failure."""
    real = [c for c in codes if c != pytest.ExitCode.NO_TESTS_COLLECTED]
    if not real:
        return int(pytest.ExitCode.NO_TESTS_COLLECTED)
    errors = [c for c in real if c not in (0, 1)]
    return errors[0] if errors else max(real)


def merge(folder: RunFolder, parts: int) -> None:
    """The parts' logs as one run's: JSON lines in time order, one JUnit
    suite, one cucumber list (a feature split over parts made whole)."""
    dirs = [folder.shard_dir(k) for k in range(parts)]
    for name in JSON_LINES:
        lines = [line for d in dirs if (d / name).is_file()
                 for line in (d / name).read_text(encoding="utf-8").splitlines() if line]
        if name in (RunFolder.ASSOCIATIONS, RunFolder.SUT_ASSOCIATIONS):
            lines.sort(key=lambda line: json.loads(line).get("t", 0))  # stable: same-time order
        if lines:
            folder.file(name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    logs = [(k, d / RunFolder.PYTEST_LOG) for k, d in enumerate(dirs)]
    if any(path.is_file() for _, path in logs):
        with folder.file(RunFolder.PYTEST_LOG).open("wb") as out:
            for k, path in logs:
                if path.is_file():
                    out.write(f"--- scenario process {k + 1} of {parts} ---\n".encode())
                    out.write(path.read_bytes())
    _merge_junit([d / RunFolder.JUNIT for d in dirs], folder.file(RunFolder.JUNIT))
    _merge_cucumber([d / RunFolder.CUCUMBER for d in dirs], folder.file(RunFolder.CUCUMBER))
    shutil.rmtree(folder.path / RunFolder.SHARDS, ignore_errors=True)


def _merge_junit(parts: list[Path], target: Path) -> None:
    suites = [ElementTree.parse(p).getroot().find(".//testsuite") for p in parts if p.is_file()]
    suites = [s for s in suites if s is not None]
    if not suites:
        return
    merged = suites[0]
    for suite in suites[1:]:
        for case in suite.iter("testcase"):
            merged.append(case)
    cases = list(merged.iter("testcase"))
    merged.set("tests", str(len(cases)))
    for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        merged.set(attribute, str(sum(1 for c in cases if c.find(tag) is not None)))
    merged.set("time", f"{max(float(s.get('time', 0)) for s in suites):.3f}")  # wall time
    root = ElementTree.Element("testsuites")
    root.append(merged)
    ElementTree.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)


def _merge_cucumber(parts: list[Path], target: Path) -> None:
    features: dict[str, dict] = {}
    for path in parts:
        if not path.is_file():
            continue
        for feature in json.loads(path.read_text(encoding="utf-8")):
            key = feature.get("uri", feature.get("name", ""))
            if key in features:
                features[key]["elements"] += feature.get("elements", [])
            else:
                features[key] = feature
    for feature in features.values():  # the feature file's order, as one process has it
        feature["elements"].sort(key=lambda element: element.get("line", 0))
    if features or any(p.is_file() for p in parts):
        target.write_text(json.dumps(list(features.values()), indent=1), encoding="utf-8")

"""The merge of a run split over scenario processes (`rtconform.run.shards`):
one exit code for the parts, and one run's logs (associations in time order,
one JUnit suite, one cucumber list) as if the run had never been split."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from rtconform.run.shards import exit_code, merge
from rtconform.run_folder import RunFolder


def test_one_exit_code_for_the_parts() -> None:
    no_tests = int(pytest.ExitCode.NO_TESTS_COLLECTED)
    assert exit_code([0, 0]) == 0
    assert exit_code([0, 1, 0]) == 1  # a failed scenario
    assert exit_code([1, 3, 0]) == 3  # an internal error wins over a failure
    assert exit_code([0, no_tests]) == 0  # more parts than scenarios
    assert exit_code([no_tests, no_tests]) == no_tests


def junit(cases: list[tuple[str, str | None]], time: float) -> str:
    suite = ElementTree.Element("testsuite", tests=str(len(cases)), time=str(time))
    for name, outcome in cases:
        case = ElementTree.SubElement(suite, "testcase", name=name)
        if outcome:
            ElementTree.SubElement(case, outcome)
    root = ElementTree.Element("testsuites")
    root.append(suite)
    return ElementTree.tostring(root, encoding="unicode")


def test_the_parts_merge_into_one_run(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    parts = [RunFolder(folder.path, shard=k) for k in range(2)]
    logs = [[{"t": 3, "id": "c"}, {"t": 1, "id": "a"}], [{"t": 2, "id": "b"}]]
    for part, lines in zip(parts, logs, strict=True):
        log = part.shard_dir(part.shard) / RunFolder.ASSOCIATIONS
        log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    dirs = [folder.shard_dir(k) for k in range(2)]
    (dirs[0] / RunFolder.JUNIT).write_text(junit([("RO-2 a", None), ("RO-2 b", "failure")], 4.0))
    (dirs[1] / RunFolder.JUNIT).write_text(junit([("RO-3 c", "skipped")], 6.5))
    feature = {"uri": "ro02.feature", "name": "RO-2"}
    (dirs[0] / RunFolder.CUCUMBER).write_text(json.dumps([
        {**feature, "elements": [{"line": 30}]}]))
    (dirs[1] / RunFolder.CUCUMBER).write_text(json.dumps([
        {**feature, "elements": [{"line": 10}]}, {"uri": "ro03.feature", "elements": []}]))
    merge(folder, 2)
    events = [json.loads(line) for line in folder.file(RunFolder.ASSOCIATIONS).read_text()
              .splitlines()]
    assert [e["id"] for e in events] == ["a", "b", "c"]  # in time order across the parts
    suite = ElementTree.parse(folder.file(RunFolder.JUNIT)).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"),
            suite.get("time")) == ("3", "1", "1", "6.500")  # the wall time is the longest part
    features = json.loads(folder.file(RunFolder.CUCUMBER).read_text())
    assert [f["uri"] for f in features] == ["ro02.feature", "ro03.feature"]
    assert [e["line"] for e in features[0]["elements"]] == [10, 30]  # one feature made whole
    assert not (folder.path / RunFolder.SHARDS).exists()


def test_how_many_scenario_processes(monkeypatch) -> None:
    """The embedded default: the cores and one more, at most 4; a real SUT:
    its SUT file's `parallel`, refused when the harness's ports are fixed."""
    from rtconform.run.runner import RunError, parallel_parts
    from rtconform.run.sut import SutConfig

    for cores, parts in ((1, 2), (2, 3), (3, 4), (16, 4), (None, 2)):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        assert parallel_parts(SutConfig(), None) == parts, cores
    assert parallel_parts(SutConfig(), 1) == 1
    real = SutConfig(embedded=False, parallel=2)
    assert parallel_parts(real, None) == 2
    with pytest.raises(RunError, match="fixes the harness's ports"):
        parallel_parts(SutConfig(embedded=False, parallel=2, receive_port=11112), None)

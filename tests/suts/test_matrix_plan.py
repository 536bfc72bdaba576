"""Who meets whom in `rtconform matrix` (`rtconform.matrix.plan`), from SUT
files alone, before anything runs: producers of each object kind are a
grid's rows, consumers (a participant and the actor it plays) its columns,
every Archive carries the chains, and the embedded reference actors join as
one more row and column. tests/suts/test_matrix.py runs a real matrix."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtconform.matrix.plan import KINDS, MatrixError, load_plan

STRUCTURE_SET, PLAN_AND_DOSE = KINDS


def sut(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def contourer(folder: Path, name: str) -> Path:
    return sut(folder, name, f"name: {name}\nactors: [Contourer]\n"
                             f"driver: {{tool: rt-utils, version: '1.2.7'}}\ntimeout: 30\n")


def archive(folder: Path, name: str = "orthanc") -> Path:
    return sut(folder, name, "name: an Archive\nactors: [Archive]\n"
                             "driver: {tool: orthanc, version: '1.10.1'}\n")


def test_rows_columns_and_the_reference_actors(tmp_path: Path) -> None:
    plan = load_plan([contourer(tmp_path, "tool-a"), archive(tmp_path)])
    assert [p.slug for p in plan.participants] == ["tool-a", "orthanc", "reference"]
    assert [p.slug for p in plan.archives] == ["orthanc", "reference"]
    assert [p.slug for p in plan.producers(STRUCTURE_SET)] == ["tool-a", "reference"]
    assert [p.slug for p in plan.producers(PLAN_AND_DOSE)] == ["reference"]
    # a Contourer reads back what it is given; the reference actors take a structure set
    # as the Geometric Planner and the Dose Displayer, plan and dose as the Dose Displayer
    assert [(p.slug, a) for p, a in plan.columns()] == [
        ("tool-a", "Contourer"), ("reference", "Geometric Planner"),
        ("reference", "Dose Displayer")]
    tool = plan.participants[0]
    assert (tool.tool, tool.profile, tool.stimulus) == ("rt-utils", "dicom-rt", "equidistant")
    assert plan.participants[2].profile == "brto"  # the reference actors claim BRTO


def test_without_the_reference_and_without_an_archive(tmp_path: Path) -> None:
    plan = load_plan([contourer(tmp_path, "tool-a"), archive(tmp_path)], with_reference=False)
    assert [p.slug for p in plan.participants] == ["tool-a", "orthanc"]
    with pytest.raises(MatrixError, match="no Archive among the SUT files: a chain needs one"):
        load_plan([contourer(tmp_path, "tool-a")], with_reference=False)


def test_two_files_of_one_name_and_a_bad_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    with pytest.raises(MatrixError, match="two SUT files with one name"):
        load_plan([contourer(tmp_path, "tool-a"), contourer(tmp_path / "other", "tool-a"),
                   archive(tmp_path)])
    bad = sut(tmp_path, "bad", "name: x\nactors: [Contourer]\ndriver: {tool: rt-utils}\n"
                               "timout: 30\n")
    with pytest.raises(MatrixError, match=r"bad.yaml:4: .*did you mean 'timeout'"):
        load_plan([bad, archive(tmp_path)])

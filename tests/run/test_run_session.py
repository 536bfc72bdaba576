"""The run context's parts: the phrase table, one SUT driver per kind, and a
run holding several drivers, one per actor (the seam for a second SUT)."""

from __future__ import annotations

import dataclasses

import pytest

from rtconform.phantom.sets import build_sample
from rtconform.run import checks, harness
from rtconform.run.drivers import SutDriver, driver_for
from rtconform.run.drivers.embedded import EmbeddedDriver
from rtconform.run.drivers.export import ExportFolderDriver
from rtconform.run.drivers.operator import OperatorDriver
from rtconform.run.drivers.trigger import TriggerDriver
from rtconform.run.phrases import object_names, select
from rtconform.run.scenario import Scenario, ScenarioFailure
from rtconform.run.session import RunContext
from rtconform.run.sut import SutConfig


def test_a_phrase_names_objects_of_the_synthetic_patient():
    sample = build_sample()
    assert object_names("CT series, structure set and plan dose") == [
        "CT series", "structure set", "plan dose"]
    chosen = select(sample, "structure set and plan dose")
    assert [str(ds.Modality) for ds in chosen] == ["RTSTRUCT", "RTDOSE"]
    with pytest.raises(ValueError, match="unknown objects \\['treatment record'\\]"):
        object_names("CT series and treatment record")


def test_the_sut_file_chooses_the_kind_of_driver(tmp_path):
    network = SutConfig(embedded=False)
    assert type(driver_for(SutConfig())) is EmbeddedDriver
    assert type(driver_for(dataclasses.replace(network, export_dir=tmp_path))) \
        is ExportFolderDriver
    assert type(driver_for(dataclasses.replace(network, trigger="true"))) is TriggerDriver
    assert type(driver_for(dataclasses.replace(network, interactive=True))) is OperatorDriver
    assert type(driver_for(network)) is SutDriver  # a node the harness only calls


def test_an_export_folder_is_read_by_modality_and_is_its_own_context(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    for name, ds in build_sample().datasets.items():
        if not name.startswith("CT_0") or name == "CT_001.dcm":
            ds.save_as(export / name, enforce_file_format=True)
    (export / "plan-report.pdf").write_bytes(b"%PDF-1.4 not DICOM")
    sut = SutConfig(embedded=False, export_dir=export, actors=("Contourer",))
    ctx = RunContext(tmp_path / "run", sut, engines=(), seed="x")
    scenario = Scenario(ctx, "export", tmp_path / "work")
    harness.sut_performs(scenario, "Contourer", "RO-2")
    assert scenario.outcome == {"export_dir": str(export)}
    scenario.received = checks.received(scenario, "RTSTRUCT")
    assert [p.name for p in scenario.received] == ["RS_structure_set.dcm"]
    given, context = checks.judging_context(scenario)
    assert given == [] and export / "CT_001.dcm" in context
    assert "plan-report.pdf not read" in ctx.recorder.path.read_text()  # said, not dropped


def test_a_node_that_cannot_be_made_to_act_says_so(tmp_path):
    sut = SutConfig(embedded=False, actors=("Contourer",))
    scenario = Scenario(RunContext(tmp_path / "run", sut, engines=()), "node", tmp_path / "w")
    try:
        with pytest.raises(ScenarioFailure, match="neither 'trigger' nor 'interactive'"):
            harness.sut_performs(scenario, "Contourer", "RO-2")
    finally:
        scenario.stop()


def test_a_run_holds_one_driver_per_actor(tmp_path):
    """Two actors of one run, two kinds of driver: the Contourer is the
    reference actor in-process, the Dose Displayer a command. Each performs
    RO-1 against the same harness Archive through its own driver."""
    sut = SutConfig(actors=("Contourer", "Dose Displayer"))
    command = dataclasses.replace(sut, embedded=False, trigger=(
        'echo "$RTCONFORM_ACTOR did $RTCONFORM_TRANSACTION"; exit 3'))
    ctx = RunContext(tmp_path / "run", sut, engines=(), seed="x",
                     drivers={"Contourer": EmbeddedDriver(sut),
                              "Dose Displayer": TriggerDriver(command)})
    scenario = Scenario(ctx, "two drivers", tmp_path / "work")
    scenario.workdir.mkdir(parents=True)
    try:
        harness.holds(scenario, "CT series")
        harness.sut_performs(scenario, "Contourer", "RO-1")
        assert scenario.outcome == {"result": "done"}
        assert scenario.sut_requested(), "the reference Contourer retrieved nothing"
        harness.sut_performs(scenario, "Dose Displayer", "RO-1")
        assert scenario.outcome["exit_code"] == 3
        assert "Dose Displayer did RO-1" in scenario.outcome["output"]
        assert scenario.driver is ctx.drivers["Dose Displayer"]
        checks.assert_refused(scenario, "Dose Displayer")  # a non-zero exit is a refusal
    finally:
        scenario.stop()

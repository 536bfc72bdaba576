"""The actor registry: one table says which actors exist, what each performs
(alone and chained) and how `rtconform simulate` starts it; every phrase
the scenarios use resolves through it; one result type for what an actor did."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT
from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import ServiceUser
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.registry import ACTORS, REGISTRY, NotPerformed, actor_of, simulators
from rtconform.actors.result import ActorResult
from rtconform.ihe.tro import TRANSACTIONS, transactions_in
from rtconform.phantom.sets import build_sample

FEATURES = ROOT / "features"


def test_every_actor_of_the_transaction_table_is_registered_once():
    named = {a for t in TRANSACTIONS.values() for a in (*t.senders, *t.receivers)}
    assert named <= set(ACTORS) and len(ACTORS) == len(set(ACTORS))
    assert REGISTRY["Dose Displayer"].transactions == ("RO-1", "RO-7", "RO-9", "RO-10")
    assert actor_of("geometric-planner") == "Geometric Planner"
    with pytest.raises(ValueError, match="unknown IHE-RO TRO actor"):
        actor_of("Radiologist")


def test_every_act_a_scenario_names_is_performed_by_its_actor():
    """A `When the X under test performs RO-…` phrase the registry cannot
    perform would fail the embedded default at run time: caught here."""
    phrases = re.findall(r"When the ([A-Za-z ]+?) under test performs (RO-\d+(?:(?:, | and )"
                         r"RO-\d+)*)", "".join(p.read_text() for p in FEATURES.glob("*.feature")))
    assert len(phrases) > 20
    for actor, text in phrases:
        assert callable(REGISTRY[actor].act(transactions_in(text))), (actor, text)


def test_an_act_outside_the_actor_is_refused_by_name():
    with pytest.raises(NotPerformed, match="Geometric Planner does not perform RO-9"):
        REGISTRY["Geometric Planner"].act(("RO-9",))
    with pytest.raises(NotPerformed, match="is a server"):
        REGISTRY["Archive"].start(None, Path("."))


def test_the_simulate_commands_come_from_the_registry():
    assert set(simulators()) == {"contourer", "geometric-planner", "dosimetric-planner",
                                 "dose-displayer", "storage-commitment-requester"}
    for entry in simulators().values():  # `simulate X run` performs one declared act
        assert entry.run in entry.acts


def test_one_result_type_says_what_any_actor_did():
    refused = ActorResult("Contourer", ("RO-7",), accepted=False)
    assert refused.outcome() == {"accepted": False} and refused.exit_code == 1
    checked = ActorResult("Dose Displayer", ("RO-1", "RO-7"), errors=2)
    assert checked.exit_code == 1 and "2 errors" in checked.summary()
    failed = ActorResult.failure(TimeoutError("no answer"))
    assert failed.outcome() == {"result": "failed", "reason": "TimeoutError: no answer"}
    assert ActorResult().outcome() == {"result": "done"} and ActorResult().exit_code == 0
    # a SUT made to act by a command or a person: the same type, its evidence kept as is
    command = ActorResult(how={"trigger": "./export.sh", "exit_code": 3, "output": ""})
    assert command.refused and command.outcome()["exit_code"] == 3
    assert ActorResult(how={"operator": "refused"}).refused
    assert not ActorResult(how={"operator": "done"}).refused and not ActorResult().refused


def test_simulate_run_performs_the_registry_s_act_against_a_real_archive(tmp_path):
    """`simulate dose-displayer run` (once special-cased) goes the registry's
    way, like any producer's act: one result line, its exit code."""
    sample = build_sample()
    recorder = AssociationRecorder(tmp_path / "archive.jsonl")
    with Archive(ArchiveConfig(store_dir=tmp_path / "archive", port=0), recorder) as archive:
        ServiceUser("MODALITY", recorder, "Image Source").store(
            archive.peer, list(sample.datasets.values()))
        study = str(sample.datasets["CT_001.dcm"].StudyInstanceUID)
        planner = REGISTRY["Geometric Planner"]
        ref = planner.start(recorder, tmp_path / "planner")
        made = planner.perform(ref, tuple(planner.run.split(",")), archive.peer, study)
        proc = subprocess.run(
            [sys.executable, "-m", "rtconform", "simulate", "dose-displayer", "run", "--aec",
             archive.peer.ae_title, "127.0.0.1", str(archive.peer.port), "--study", study,
             "--out", str(tmp_path / "displayer")], capture_output=True, text=True, timeout=120)
    assert made.summary() == "Geometric Planner performed RO-1, RO-7, RO-3: produced and " \
                             "stored 1 object(s)" and made.exit_code == 0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"Dose Displayer performed RO-1, RO-7, RO-9, RO-10: retrieved \d+ "
                     r"object\(s\), 0 errors in what it received", proc.stdout), proc.stdout

"""TPPC's scenarios on the harness, as the IHE-RO test tool runs them:

- producer (a planning system under test): the harness Archive holds the
  stimulus — CT, the structure set (with a bolus) and the reference plan of
  the beam type — the planner stores a plan of that type, and the harness
  judges it by `tppc`, beam by beam;
- consumer: the harness sends a plan of each beam type; an Archive must
  store it and give it back unchanged, a TMS or viewer shows it to an
  operator (`--interactive`), whose answer is the evidence;
- Archive over IHE-RO's own 14 reference plans, given back unchanged.

One scenario per beam type the system under test declares (`beam_types:` in
its SUT file; all 14 for the embedded default). The steps
(`rtconform.profiles.tppc.steps`) only call these functions.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from functools import cache
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import Peer, identifier
from rtconform.findings import Finding
from rtconform.phantom.sets import SampleSet
from rtconform.phantom.technique_plans import build_plan_sample
from rtconform.phantom.techniques import TECHNIQUES
from rtconform.profiles.tppc.actors import PlanningSystem
from rtconform.profiles.tppc.beams import detect
from rtconform.run import checks, harness
from rtconform.run.scenario import Scenario, ScenarioFailure, SutDidNotAct
from rtconform.run.sut import SutConfig
from rtconform.run_folder import SEED_AE

REFERENCE_ENV = "RTCONFORM_TPPC_REFERENCE"  # the IHE-RO TPPC reference data set's folder


@cache
def _stimulus(seed: str) -> SampleSet:
    return build_plan_sample(techniques=tuple(TECHNIQUES), seed=seed)


def stimulus(scenario: Scenario) -> SampleSet:
    """CT, structure set (with its bolus) and one plan per beam type, with
    the run's own UIDs; built once a run, never changed (the harness sends
    it as it is)."""
    return _stimulus(f"{scenario.ctx.seed}/tppc")


def declares(sut: SutConfig, beam_type: str) -> bool:
    if beam_type not in TECHNIQUES:
        raise ValueError(f"unknown beam type {beam_type!r}; known: {', '.join(TECHNIQUES)}")
    return not sut.beam_types or beam_type in sut.beam_types


def outline_row(item) -> dict:
    """The Examples row a scenario outline's test runs ({} for a scenario)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("_pytest_bdd_example") or {}


def not_applicable(sut: SutConfig, row: dict, tags: set[str]) -> str | None:
    """Why a TPPC scenario cannot apply to this SUT (None: it applies)."""
    beam_type = row.get("beam_type")
    if beam_type and not declares(sut, beam_type):
        return (f"the system under test declares no {beam_type} plans (beam_types: in its SUT "
                "file)")
    if "tppc_reference" in tags and not reference_plans():
        return (f"IHE-RO's TPPC reference data set not found: set {REFERENCE_ENV} or "
                "RTCONFORM_SHARED")
    if "sut_dose_displayer" in tags and not sut.embedded and not sut.interactive:
        return ("a TMS or viewer's import is judged by an operator: run with --interactive "
                "(the IHE-RO test tool has no verdict either)")
    return None


def harness_holds(scenario: Scenario, beam_type: str | None) -> None:
    """The producer's stimulus, preloaded into the harness's own Archive (as
    the tool sends it: CT, structure set, and the plan of the beam type)."""
    archive = harness.start_archive(scenario)
    sample = stimulus(scenario)
    names = [n for n in sample.datasets if n.startswith("CT_") or n == "RS_structure_set.dcm"]
    if beam_type:
        names.append(f"RP_{beam_type}.dcm")
    for name in names:
        ds = sample.datasets[name]
        archive.store.store(scenario.ctx.encoded(ds, "tppc"), ds, ExplicitVRLittleEndian,
                            SEED_AE)
        scenario.harness_seeded.add(str(ds.SOPInstanceUID))
        modality = str(ds.Modality)
        scenario.seeded_by_modality[modality] = scenario.seeded_by_modality.get(modality, 0) + 1


def study_uid(scenario: Scenario) -> str:
    return str(stimulus(scenario).datasets["RS_structure_set.dcm"].StudyInstanceUID)


def planner_plans(scenario: Scenario, beam_type: str) -> None:
    """Make the planning system under test store a plan of `beam_type` in the
    harness Archive: the reference planning system in the embedded default,
    else the SUT's trigger or an operator."""
    sut = scenario.ctx.sut
    archive = harness.start_archive(scenario)
    scenario.mark_log()
    if sut.embedded:
        planner = PlanningSystem(scenario.ctx.sut_recorder, scenario.workdir / "sut-tps",
                                 method="get", tls=sut.tls)
        try:
            planner.run(archive.peer, study_uid(scenario), beam_type, fault=sut.fault)
            scenario.outcome = {"result": "done"}
        except Exception as exc:  # recorded: what the planner did with its input
            scenario.outcome = {"result": "failed", "reason": f"{type(exc).__name__}: {exc}"}
        finally:
            planner.stop_receiver()
    elif sut.exports_files:
        scenario.outcome = {"export_dir": str(sut.export_dir)}
    else:
        scenario.outcome = ask_sut(scenario, archive.peer, {"RTCONFORM_BEAM_TYPE": beam_type},
                                   f"plan a {beam_type} plan ({TECHNIQUES[beam_type][1]}) on "
                                   f"study {study_uid(scenario)} and store it")
    scenario.ctx.recorder.note("harness", f"planning system under test planned {beam_type}",
                               outcome=scenario.outcome)


def ask_sut(scenario: Scenario, archive: Peer, env: dict[str, str], what: str) -> dict:
    """The SUT's trigger command, or an operator, makes it act."""
    sut = scenario.ctx.sut
    env = {**os.environ, **env, "RTCONFORM_ARCHIVE_AE": archive.ae_title,
           "RTCONFORM_ARCHIVE_HOST": archive.host, "RTCONFORM_ARCHIVE_PORT": str(archive.port),
           "RTCONFORM_STUDY_UID": study_uid(scenario)}
    if sut.trigger:
        try:  # the user's own SUT file: $RTCONFORM_* expand
            proc = subprocess.run(sut.trigger, shell=True, env=env, capture_output=True,
                                  text=True, timeout=sut.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SutDidNotAct(f"trigger {sut.trigger!r} did not finish within "
                               f"{sut.timeout:g} s") from exc
        return {"trigger": sut.trigger, "exit_code": proc.returncode,
                "output": (proc.stdout + proc.stderr)[-2000:]}
    if sut.interactive:
        return {"operator": operator(f"{what} to {archive}; press Enter when done",
                                     sut.timeout)}
    raise ScenarioFailure("the SUT file gives neither 'trigger' nor 'interactive': the harness "
                          "cannot make the SUT act")


def operator(question: str, timeout: float) -> str:
    """Ask the operator at the console; the answer (or its absence) is evidence."""
    print(f"\n>>> {question} (timeout {timeout:g} s)", flush=True)
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if not ready:
        raise SutDidNotAct(f"no operator answer within {timeout:g} s")
    return sys.stdin.readline().strip() or "done"


def wrong_beam_types(paths: list[Path], beam_type: str) -> list[str]:
    """Beams of the received plans that are not of `beam_type`, as detected."""
    out = []
    for path in paths:
        plan = pydicom.dcmread(path, stop_before_pixels=True)
        for beam in plan.get("BeamSequence", []):
            found = detect(beam)
            if found != beam_type:
                out.append(f"{path.name}: beam {beam.get('BeamNumber')} "
                           f"{str(beam.get('BeamName', ''))!r} is "
                           f"{'a ' + found if found else 'none of the 14 TPPC'} beam")
    return out


def judge(scenario: Scenario) -> list[Finding]:
    """The received plans by the tppc profile and the standard engines
    (against what the planner was given); the errors on them."""
    given, context = checks.judging_context(scenario)
    findings = scenario.ctx.validate(scenario.received, context, scenario.name, given,
                                     profile="tppc")
    mine = {str(p) for p in scenario.received}
    return [f for f in findings if f.severity == "error" and not f.waived
            and (f.file in mine or not f.file)]


# -- consumers --------------------------------------------------------------------------------
def _send(scenario: Scenario, peer: Peer, datasets: list[Dataset]) -> None:
    user = harness.actor(scenario, "Dosimetric Planner")
    with harness.needs_capability(scenario):
        result = user.store(peer, datasets)
    scenario.ctx.remember_sent(scenario.title or scenario.name, datasets)
    scenario.statuses += result.statuses
    for ds in datasets:
        scenario.sent.setdefault(str(ds.Modality), []).append(ds)


def send_to_archive(scenario: Scenario, beam_type: str) -> None:
    _send(scenario, harness.archive_under_test(scenario),
          [stimulus(scenario).datasets[f"RP_{beam_type}.dcm"]])


def consumer_peer(scenario: Scenario) -> Peer:
    """The plan consumer under test (a TMS or viewer, as a Storage SCP); in
    the embedded default a reference receiver of its own."""
    sut = scenario.ctx.sut
    if sut.peer is not None:
        return sut.peer
    receiver = getattr(scenario, "tppc_consumer", None)
    if receiver is None:
        receiver = Archive(ArchiveConfig(ae_title="SUT_CONSUMER",
                                         store_dir=scenario.workdir / "sut-consumer"),
                           scenario.ctx.sut_recorder)
        receiver.start()
        scenario.on_stop(receiver.stop)
        scenario.tppc_consumer = receiver
    return receiver.peer


def send_to_consumer(scenario: Scenario, beam_type: str) -> None:
    _send(scenario, consumer_peer(scenario),
          [stimulus(scenario).datasets[f"RP_{beam_type}.dcm"]])


def consumer_shows(scenario: Scenario, beam_type: str) -> tuple[bool, str]:
    """(verdict, evidence) of the consumer showing the plan as sent: the
    embedded receiver's store is read back; an operator answers for a real
    TMS or viewer (recorded in the run's log; without one the scenario does
    not apply: `not_applicable`)."""
    sent = scenario.sent.get("RTPLAN", [])
    sut = scenario.ctx.sut
    if sut.embedded:
        receiver = scenario.tppc_consumer
        held = {r["sop_instance_uid"]: Path(r["path"]) for r in receiver.store.rows()}
        missing = [str(ds.SOPInstanceUID) for ds in sent if str(ds.SOPInstanceUID) not in held]
        if missing:
            return False, f"the consumer holds no plan {missing[0]}"
        plans = [held[str(ds.SOPInstanceUID)] for ds in sent]
        wrong = wrong_beam_types(plans, beam_type)
        return not wrong, "; ".join(wrong) or f"{len(plans)} plan(s) imported as {beam_type}"
    labels = ", ".join(str(ds.RTPlanLabel) for ds in sent)
    answer = operator(f"does the plan consumer under test show the {beam_type} plan(s) "
                      f"{labels} with every beam, control point and modifier as sent? "
                      "yes/no", sut.timeout)
    scenario.ctx.recorder.note("operator", f"plan consumer shows {beam_type} plan(s) {labels}",
                               answer=answer)
    return answer.lower().startswith("y"), f"operator: {answer}"


# -- IHE-RO's reference plans ------------------------------------------------------------------
def reference_folder() -> Path | None:
    """IHE-RO's TPPC reference data set: $RTCONFORM_TPPC_REFERENCE, else
    data/ihe-ro-tppc-reference under $RTCONFORM_SHARED or the checkout's
    ../shared."""
    if os.environ.get(REFERENCE_ENV):
        return Path(os.environ[REFERENCE_ENV])
    shared = os.environ.get("RTCONFORM_SHARED")
    candidates = [Path(shared)] if shared else []
    candidates.append(Path(__file__).resolve().parents[5] / "shared")
    for base in candidates:
        folder = base / "data" / "ihe-ro-tppc-reference"
        if folder.is_dir():
            return folder
    return None


def reference_plans() -> list[Path]:
    folder = reference_folder()
    return sorted(folder.glob("*/RTPlan*.dcm")) if folder else []


def send_reference_plans(scenario: Scenario, paths: list[Path]) -> None:
    _send(scenario, harness.archive_under_test(scenario), [pydicom.dcmread(p) for p in paths])


def retrieve_sent(scenario: Scenario) -> list[tuple[Dataset, Dataset]]:
    """Every plan this scenario sent, retrieved by C-GET from the Archive
    under test, study by study (anything else the Archive holds of those
    studies is not counted): (sent, returned) pairs; missing ones fail."""
    sent = {str(ds.SOPInstanceUID): ds for ds in scenario.sent.get("RTPLAN", [])}
    user = harness.actor(scenario, "Dose Displayer", "get")
    peer = harness.archive_under_test(scenario)
    got: dict[str, Dataset] = {}
    for study in sorted({str(ds.StudyInstanceUID) for ds in sent.values()}):
        # one C-GET per study (the reference plans are a series each)
        with harness.needs_capability(scenario):
            got |= {str(ds.SOPInstanceUID): ds
                    for ds in user.retrieve(peer, identifier("STUDY", StudyInstanceUID=study))}
    missing = [str(sent[uid].get("RTPlanLabel", uid)) for uid in sent if uid not in got]
    if missing:
        raise ScenarioFailure(f"ARCHIVE-STORAGE-LEVEL-2: {len(missing)} of {len(sent)} plans "
                              f"were not returned: {', '.join(missing[:5])}")
    return [(sent[uid], got[uid]) for uid in sent]

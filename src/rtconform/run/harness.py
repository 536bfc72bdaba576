"""What the harness does in a scenario, each a function of the `Scenario`:
start its own Archive, give the Archive under test the synthetic patient,
store, retrieve, query and negotiate with it as an IHE-RO actor, and make
an actor of the SUT act (through that actor's driver). The Gherkin steps
call these; a new step adds a function here, not a method to a class.

Every association it opens calls from the SUT file's one harness AE title,
over TLS when the SUT has it, and is recorded in the run's log."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from rtconform.actors.actor import RetrieveFailed, TROActor
from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import ContextsRejected, Peer, PeerUnreachable, ServiceUser, identifier
from rtconform.actors.query import hierarchical_identifier, key_value
from rtconform.actors.registry import REGISTRY
from rtconform.ihe.tro import ARCHIVE, transactions_in
from rtconform.run.capabilities import capability_missing
from rtconform.run.scenario import Scenario, ScenarioFailure
from rtconform.run_folder import SEED_AE


def server_tls(scenario: Scenario):
    """TLS for the servers the harness runs, when the SUT file gives a certificate."""
    tls = scenario.ctx.sut.tls
    return tls if tls is not None and tls.cert else None


def start_archive(scenario: Scenario) -> Archive:
    """The harness Archive the SUT's actors work with (one per scenario)."""
    if scenario.harness_archive is None:
        sut = scenario.ctx.sut
        config = ArchiveConfig(ae_title=sut.harness_ae, port=sut.harness_port,
                               store_dir=scenario.workdir / "harness-archive",
                               tls=server_tls(scenario))
        if sut.peer is not None and not sut.plays(ARCHIVE):
            config.move_destinations[sut.peer.ae_title] = (sut.peer.host, sut.peer.port)
        scenario.harness_archive = Archive(config, scenario.ctx.recorder)
        scenario.harness_archive.start()
        scenario.on_stop(scenario.harness_archive.stop)
    return scenario.harness_archive


def archive_under_test(scenario: Scenario) -> Peer:
    """The Archive under test, as its driver reaches it."""
    if not scenario.ctx.sut.plays(ARCHIVE):
        raise ScenarioFailure("the system under test does not play the Archive")
    return scenario.ctx.driver(ARCHIVE).archive_peer(scenario)


# -- the harness gives ---------------------------------------------------------------
def holds(scenario: Scenario, phrase: str, sample_set: str | None = None) -> None:
    """Preload the harness's own Archive directly: it is ours, and what is
    under test is the SUT's traffic, not our seeding. What it holds is
    what the SUT is given (its stimulus)."""
    archive = start_archive(scenario)
    scenario.sample_set = sample_set or scenario.ctx.stimulus
    for ds in scenario.objects(phrase, sample_set=sample_set):
        archive.store.store(scenario.ctx.encoded(ds, scenario.sample_set), ds,
                            ExplicitVRLittleEndian, SEED_AE)
        scenario.harness_seeded.add(str(ds.SOPInstanceUID))
        modality = str(ds.Modality)
        scenario.seeded_by_modality[modality] = scenario.seeded_by_modality.get(modality, 0) + 1


def archive_holds(scenario: Scenario, phrase: str) -> None:
    """The Archive under test is given the objects (as the Image Source)."""
    datasets = scenario.objects(phrase, scoped=True)
    seed(scenario, archive_under_test(scenario), datasets)
    for ds in datasets:
        scenario.sent.setdefault(str(ds.Modality), []).append(ds)


def seed(scenario: Scenario, peer: Peer, datasets: list[Dataset]) -> None:
    with needs_capability(scenario):
        result = user(scenario, "Image Source").store(peer, datasets)
    scenario.ctx.remember_sent(scenario.label, datasets)
    if not result.ok:
        raise ScenarioFailure(f"seeding {peer} failed: {result.describe('C-STORE')}")


@contextlib.contextmanager
def needs_capability(scenario: Scenario):
    """A presentation context the SUT rejected is a capability its IHE-RO
    role lacks: one finding, named the same in every scenario that needs
    it, pointing to the scenario that found out first."""
    try:
        yield
    except ContextsRejected as exc:
        actor = ARCHIVE if scenario.ctx.sut.plays(ARCHIVE) else "system"
        text = capability_missing(exc, actor)
        first = scenario.ctx.missing_capabilities.setdefault(text, scenario.label)
        seen = "" if first == scenario.label else f" (first found in scenario {first!r})"
        raise ScenarioFailure(f"SUT-CAPABILITY-MISSING: {text}{seen}. {exc}") from exc


def check_answers(scenario: Scenario) -> None:
    """A SUT that answers wrongly fails, even when the harness could work
    around it (each distinct entity retrieved once)."""
    if problems := scenario.protocol_problems():
        scenario.ctx.record_problems(scenario.name, problems)
        raise ScenarioFailure("; ".join(problems))


# -- the harness as an IHE-RO actor --------------------------------------------------
def user(scenario: Scenario, actor: str = "harness") -> ServiceUser:
    """An SCU as the harness: its one calling AE title, TLS when the SUT has it."""
    sut = scenario.ctx.sut
    scu = ServiceUser(sut.harness_ae, scenario.ctx.recorder, actor, tls=sut.tls)
    scenario._users.append(scu)
    return scu


def actor(scenario: Scenario, name: str, method: str = "get") -> TROActor:
    """The harness playing one of the registry's actors against the SUT."""
    entry = REGISTRY[name]
    sut = scenario.ctx.sut
    scu = entry.start(scenario.ctx.recorder,
                      scenario.workdir / f"harness-{entry.default_ae.lower()}",
                      ae_title=sut.harness_ae, method=method, tls=sut.tls)
    scenario.on_stop(scu.stop_receiver)
    scenario._users.append(scu)
    return scu


def proposes(scenario: Scenario, sop_class: str, transfer_syntax: str) -> bool:
    """Whether the Archive under test accepts one presentation context
    (Verification is proposed beside it so the association itself is possible)."""
    peer = archive_under_test(scenario)
    try:
        return user(scenario).accepts(peer, sop_class, transfer_syntax)
    except PeerUnreachable as exc:
        raise ScenarioFailure(str(exc)) from exc


def stores(scenario: Scenario, name: str, phrase: str, fault: str | None = None) -> None:
    datasets = scenario.objects(phrase, fault, scoped=True)
    scu = actor(scenario, name)
    with needs_capability(scenario):
        result = scu.store(archive_under_test(scenario), datasets)
    scenario.ctx.remember_sent(scenario.label, datasets)
    scenario.statuses += result.statuses
    for ds in datasets:
        scenario.sent.setdefault(str(ds.Modality), []).append(ds)


def retrieves(scenario: Scenario, name: str, modality: str, method: str) -> list[Dataset]:
    """Retrieve one modality's series of the scenario's study by C-GET or C-MOVE."""
    method = {"C-GET": "get", "C-MOVE": "move"}[method]
    sut = scenario.ctx.sut
    scu = actor(scenario, name, method)
    peer = archive_under_test(scenario)
    if method == "move":  # calls as the harness AE, moves to its receive AE
        scu.move_destination = sut.receive_ae
        receiver = scu.start_receiver(scu.workdir / "received", port=sut.receive_port
                                      if scenario.sut_archive is None else 0)
        if scenario.sut_archive is not None:  # a real Archive knows it by configuration
            scenario.sut_archive.add_move_destination(sut.receive_ae, receiver.host,
                                                      receiver.port)
    with needs_capability(scenario):
        try:
            datasets = scu.retrieve_modality(peer, scenario.study_uid, modality)
        except RetrieveFailed:
            check_answers(scenario)  # a wrong C-FIND answer explains a failed retrieve
            raise
    check_answers(scenario)
    scenario.received = [Path(ds.filename) for ds in datasets]
    return datasets


def query_key(scenario: Scenario, level: str, keyword: str, matching: str) -> dict:
    """A conformance-table C-FIND: one key and its matching (a value taken
    from the structure set this scenario stored), in the hierarchy of the
    information model (the unique keys of the levels above)."""
    held = scenario.objects("structure set", scoped=True)[0]
    value = key_value(held, keyword, matching)
    if value is None:
        raise ScenarioFailure(f"the structure set has no {keyword} to query by {matching}")
    query, model = hierarchical_identifier(level, held, **{keyword: value})
    with needs_capability(scenario):
        result = user(scenario).find(archive_under_test(scenario), query, model)
    if not result.ok:
        raise ScenarioFailure(f"C-FIND at {level} level ({model} root) failed: "
                              f"{result.describe('C-FIND')}")
    check_answers(scenario)
    return {"held": held, "level": level, "keyword": keyword, "value": value,
            "answers": result.datasets}


def finds(scenario: Scenario, modality: str, level: str) -> list[Dataset]:
    """The Archive under test's C-FIND answer for the study's series (or study)."""
    keys = {"StudyInstanceUID": scenario.study_uid, "Modality": modality,
            "SeriesInstanceUID": ""} if level == "SERIES" else \
        {"StudyInstanceUID": scenario.study_uid, "ModalitiesInStudy": modality}
    with needs_capability(scenario):
        result = user(scenario).find(archive_under_test(scenario), identifier(level, **keys))
    if not result.ok:
        raise ScenarioFailure(f"C-FIND at {level} level failed: {result.describe('C-FIND')}")
    check_answers(scenario)
    return result.datasets


# -- the SUT acts --------------------------------------------------------------------
def sut_performs(scenario: Scenario, actor_name: str, phrase: str) -> None:
    """Make the SUT act as `actor_name` in a transaction (or several, in
    order: 'RO-6, RO-11 and RO-2') against the harness Archive, through that
    actor's driver; its outcome goes to the run's log."""
    if not scenario.ctx.sut.plays(actor_name):
        raise ScenarioFailure(f"the system under test does not play the {actor_name}")
    transactions = transactions_in(phrase)
    archive = start_archive(scenario)
    scenario.mark_log()
    scenario.acting = actor_name
    driver = scenario.ctx.driver(actor_name)
    result = driver.perform(scenario, actor_name, transactions, archive.peer)
    result.actor, result.transactions = actor_name, transactions
    scenario.result, scenario.outcome = result, result.outcome()
    scenario.ctx.recorder.note("harness", f"{actor_name} under test performed "
                                          f"{','.join(transactions)}", outcome=scenario.outcome)

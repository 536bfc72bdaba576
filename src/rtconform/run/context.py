"""RunContext: the only state scenarios share (run folder, SUT, recorder), and
Scenario: what one scenario started and saw. Every action a Gherkin step
names is a method here; the steps only call them.

The harness always records its own side of every association in
`associations.jsonl`. In the embedded default the reference actors playing
the SUT record theirs in `sut-associations.jsonl`, so the main log stays what
a real run would show: the harness's view of the SUT.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from rtconform.actors.actor import RetrieveFailed
from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import (
    ContextsRejected,
    Peer,
    PeerUnreachable,
    ServiceUser,
    identifier,
)
from rtconform.actors.query import answer_problems, hierarchical_identifier, key_value
from rtconform.actors.recorder import AssociationRecorder, log_size, read_associations
from rtconform.actors.registry import REGISTRY
from rtconform.actors.result import ActorResult
from rtconform.actors.storage import share_objects
from rtconform.dicom.compare import differences
from rtconform.dicom.faults import FAULTS, inject
from rtconform.dicom.index import Unreadable, read_instance
from rtconform.dicom.rt import is_dosimetric
from rtconform.dicom.sample import SampleSet, build_sample, resample_series
from rtconform.dicom.uids import DEFAULT_UID_ROOT
from rtconform.dicom.variants import UidScope, renew_changed
from rtconform.engines import make_engines
from rtconform.findings import Finding, merge_engines, sort_key
from rtconform.ihe.tro import ARCHIVE
from rtconform.redact import Redactor
from rtconform.rules.registry import RuleContext
from rtconform.run.capabilities import capability_missing
from rtconform.run.sut import SutConfig
from rtconform.run_folder import SEED_AE, RunFolder
from rtconform.validate import ValidationOptions, validate_paths

OBJECTS = {  # phrase in the scenarios → files of the synthetic patient
    "CT series": lambda name: name.startswith("CT_"),
    "structure set": lambda name: name == "RS_structure_set.dcm",
    "geometric plan": lambda name: name == "RP_geometric.dcm",
    "dosimetric plan": lambda name: name == "RP_dosimetric.dcm",
    "plan dose": lambda name: name == "RD_plan.dcm",
    "beam doses": lambda name: name.startswith("RD_beam_"),
    "resampled CT series": lambda name: name.startswith("resampled_"),
}


class ScenarioFailure(AssertionError):
    """What the SUT did differs from what the scenario expects."""


class SutDidNotAct(ScenarioFailure):
    """The SUT was asked to act and nothing arrived in time."""


@dataclass
class RunContext:
    out: Path
    sut: SutConfig
    # standard engines on what the SUT makes; "auto": those this machine has
    # (said once); an engine named explicitly must run, or the scenario fails
    engines: tuple[str, ...] = ("auto",)
    stimulus: str = "equidistant"  # the sample set the harness gives the SUT
    profile: str = "brto"  # the content profile what the SUT produces is judged by
    redact: bool = False  # keep patient identity out of the logs too (public artifacts)
    # the UIDs of everything the harness sends derive from it: a run gives the
    # SUT objects no earlier run used, and the same seed repeats a run exactly
    seed: str = ""
    shard: int | None = None  # this process's part of a run split over several
    recorder: AssociationRecorder = field(init=False)
    sut_recorder: AssociationRecorder = field(init=False)
    redactor: Redactor = field(init=False)  # learns identity from what the SUT makes
    _samples: dict[str, SampleSet] = field(default_factory=dict)
    _encoded: dict[tuple[str, str], bytes] = field(default_factory=dict)
    # what the harness sent under each SOP Instance UID, by scenario: an
    # object that comes back as an earlier copy is said to be one
    sent_versions: dict[str, list[tuple[str, Dataset]]] = field(default_factory=dict)
    # an IHE-RO capability the SUT lacks → the scenario that found out
    missing_capabilities: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.seed = self.seed or secrets.token_hex(4)
        self.out = Path(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.folder = RunFolder(self.out, self.shard)
        self.redactor = Redactor(enabled=self.redact)
        # every store of the run: one copy per object
        # a sharded run's objects/ is shared by its processes (the runner
        # started it empty): one process's files in flight are not leftovers
        share_objects(self.folder.file(RunFolder.OBJECTS), clean=self.shard is None)
        self.recorder = AssociationRecorder(self.folder.file(RunFolder.ASSOCIATIONS), self.redact)
        self.sut_recorder = AssociationRecorder(self.folder.file(RunFolder.SUT_ASSOCIATIONS),
                                                self.redact)
        names = list(self.engines)
        if names == ["auto"]:
            available = [e for e in make_engines(["dciodvfy"]) if not e.unavailable_reason()]
            self.note(f"standard engines on what the SUT makes: "
                      f"{', '.join(e.name for e in available) or 'none available'}")
            self._engine_objs = available
        else:
            self._engine_objs = make_engines(names)

    def sample(self, fault: str | None = None, sample_set: str | None = None) -> SampleSet:
        """The synthetic patient as the stimulus set (the run's unless one is
        named), plus a resampled CT series (RO-6, RO-11)."""
        sample_set = sample_set or self.stimulus
        key = sample_set if fault is None else f"{sample_set}/{fault}"
        if key in self._samples:  # deterministic: built once per run
            return self._samples[key]
        # beam doses too: an Archive must store them (legal DICOM), though a
        # BRTO Dosimetric Planner sends one plan dose; each set has UIDs of its own
        sample = build_sample(sample_set=sample_set, beam_doses=True,
                              seed=f"{self.seed}/{sample_set}")
        cts = [ds for name, ds in sample.datasets.items() if name.startswith("CT_")]
        for i, ds in enumerate(resample_series(cts), start=1):
            sample.datasets[f"resampled_{i:03d}.dcm"] = ds
        if fault is not None:  # a non-conformant variant is a new instance, never the same UID
            FAULTS[fault].apply(sample)
            renew_changed(self.sample(None, sample_set).datasets, sample.datasets,
                          sample.uid_root, f"{self.seed}/{sample_set}/{fault}")
        self._samples[key] = sample
        return sample

    def remember_sent(self, scenario: str, datasets: list[Dataset]) -> None:
        """What was sent under each UID, by scenario (see earlier_copy)."""
        for ds in datasets:
            versions = self.sent_versions.setdefault(str(ds.SOPInstanceUID), [])
            if not any(v is ds for _, v in versions):
                versions.append((scenario, ds))

    def earlier_copy(self, uid: str, back: Dataset, sent: Dataset) -> str | None:
        """The scenario that sent `back`'s content under `uid` before, when it
        is not what was sent last (an Archive keeping its first copy)."""
        for scenario, ds in self.sent_versions.get(uid, []):
            if ds is not sent and not differences(ds, back, limit=1):
                return scenario
        return None

    def encoded(self, ds: Dataset, sample_set: str = "") -> bytes:
        """Part 10 bytes of a synthetic object (cached: seeding is frequent;
        sets share UIDs, so the set is part of the key)."""
        key = (sample_set or self.stimulus, str(ds.SOPInstanceUID))
        if key not in self._encoded:
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            self._encoded[key] = buffer.getvalue()
        return self._encoded[key]

    def validate(self, produced: list[Path], context: list[Path], label: str,
                 given: list[Path] = (), profile: str | None = None) -> list[Finding]:
        """What the SUT produced, checked by the profile's rules (against what
        the SUT was `given`, with the other objects it made as context) and by
        the standard engines; findings appended to findings.jsonl with the
        scenario's label."""
        # what a SUT made from the harness's input must reference what it was
        # given (or made): a self-contained set; an exporter's folder may be partial
        rules = validate_paths(produced + context, ValidationOptions(
            profile=profile or self.profile, given=list(given), redactor=self.redactor,
            context=RuleContext(complete=not self.sut.exports_files)))
        engines = validate_paths(produced, ValidationOptions(engines=self._engine_objs,
                                                             use_tro_rules=False))
        if engines.engine_notes:  # asked for by name and did not run: no verdict without it
            raise ScenarioFailure("ENGINE-FAILED: " + "; ".join(
                f"standard engine {name} was asked for and did not run: {why}"
                for name, why in engines.engine_notes.items()))
        findings = merge_engines(sorted(rules.findings + engines.findings,
                                        key=lambda f: (f.engine != "tro", *sort_key(f))))
        self.folder.append_findings(label, self.redactor.scrub([f.to_dict() for f in findings]))
        return findings

    def record_problems(self, label: str, problems: list[str]) -> None:
        """Protocol findings (what the SUT answered, not what it made) go to
        findings.jsonl beside the objects' findings."""
        from rtconform.findings import Severity
        from rtconform.rules.profiles import all_rules
        from rtconform.rules.registry import RULES

        all_rules()
        findings = []
        for text in problems:
            rule_id, _, message = text.partition(": ")
            known = RULES.get(rule_id)
            findings.append(Finding(rule_id, Severity.ERROR, message,
                                    known.source if known else "").to_dict())
        self.folder.append_findings(label, self.redactor.scrub(findings))

    def note(self, message: str, **data) -> None:
        self.recorder.note("harness", message, **data)


@dataclass
class Scenario:
    """One scenario's servers, actors and observations; stopped at its end."""

    ctx: RunContext
    name: str
    workdir: Path
    title: str = ""  # the Gherkin scenario name, as a reviewer reads it
    harness_archive: Archive | None = None
    sut_archive: Archive | None = None  # embedded default only
    sent: dict[str, list[Dataset]] = field(default_factory=dict)  # modality → sent by harness
    received: list[Path] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    outcome: dict = field(default_factory=dict)
    harness_seeded: set[str] = field(default_factory=set)
    seeded_by_modality: dict[str, int] = field(default_factory=dict)
    sample_set: str | None = None  # the stimulus set this scenario gave
    _scope: UidScope | None = None
    _users: list[ServiceUser] = field(default_factory=list)  # the harness's SCUs, for problems
    _stoppers: list = field(default_factory=list)
    _log_mark: int = 0
    _start_mark: int = 0  # where the run's log ended when this scenario began (bytes)

    def __post_init__(self) -> None:
        self._start_mark = log_size(self.ctx.recorder.path)

    def own_associations(self):
        """The associations this scenario made (for the evidence of a failure)."""
        return read_associations(self.ctx.recorder.path, self._start_mark)

    # -- setup ---------------------------------------------------------------------
    def start_harness_archive(self) -> Archive:
        if self.harness_archive is None:
            sut = self.ctx.sut
            config = ArchiveConfig(ae_title=sut.harness_ae, port=sut.harness_port,
                                   store_dir=self.workdir / "harness-archive",
                                   tls=self._server_tls())
            if sut.peer is not None and not sut.plays(ARCHIVE):
                config.move_destinations[sut.peer.ae_title] = (sut.peer.host, sut.peer.port)
            self.harness_archive = Archive(config, self.ctx.recorder)
            self.harness_archive.start()
            self._stoppers.append(self.harness_archive.stop)
        return self.harness_archive

    def _server_tls(self):
        tls = self.ctx.sut.tls
        return tls if tls is not None and tls.cert else None

    def sut_archive_peer(self) -> Peer:
        """The Archive under test: the configured node, or in the embedded
        default a reference Archive of its own."""
        sut = self.ctx.sut
        if not sut.plays(ARCHIVE):
            raise ScenarioFailure("the system under test does not play the Archive")
        if sut.peer is not None:
            return sut.peer
        if self.sut_archive is None:
            drops = [self.ctx.sut.archive_drops] if self.ctx.sut.archive_drops else []
            self.sut_archive = Archive(ArchiveConfig(ae_title="SUT_ARCHIVE",
                                                     store_dir=self.workdir / "sut-archive",
                                                     drop_attributes=drops,
                                                     tls=self._server_tls()),
                                       self.ctx.sut_recorder)
            self.sut_archive.start()
            self._stoppers.append(self.sut_archive.stop)
        return self.sut_archive.peer

    @property
    def uid_scope(self) -> UidScope | None:
        """Against a real Archive each scenario sends the patient under UIDs of
        its own: its data is disjoint from every other scenario's, so its
        verdict does not depend on what the Archive already holds or on which
        scenarios ran before (the embedded default gives each scenario an
        Archive of its own instead, and shares objects in the run folder)."""
        if self.ctx.sut.embedded or self.ctx.sut.exports_files:
            return None
        if self._scope is None:
            self._scope = UidScope(DEFAULT_UID_ROOT, f"{self.ctx.seed}/{self.name}")
        return self._scope

    def objects(self, phrase: str, fault: str | None = None, sample_set: str | None = None,
                scoped: bool = False) -> list[Dataset]:
        """The objects a scenario phrase names; `scoped`: as this scenario
        gives them to the Archive under test."""
        names = [p.strip() for p in phrase.replace(" and ", ",").split(",") if p.strip()]
        unknown = [n for n in names if n not in OBJECTS]
        if unknown:
            raise ValueError(f"unknown objects {unknown}; known: {sorted(OBJECTS)}")
        sample = self.ctx.sample(fault, sample_set)
        chosen = [ds for n in names for name, ds in sample.datasets.items() if OBJECTS[n](name)]
        scope = self.uid_scope if scoped else None
        if scope is None:
            return chosen
        scope.learn(self.ctx.sample(None, sample_set).datasets.values())
        scope.learn(chosen)  # a variant's own new UIDs too
        return [scope.copy(ds) for ds in chosen]

    def seed(self, peer: Peer, datasets: list[Dataset]) -> None:
        with self.needs_capability():
            result = self.harness_user("Image Source").store(peer, datasets)
        self.ctx.remember_sent(self.title or self.name, datasets)
        if not result.ok:
            raise ScenarioFailure(f"seeding {peer} failed: {result.describe('C-STORE')}")

    @contextlib.contextmanager
    def needs_capability(self):
        """A presentation context the SUT rejected is a capability its IHE-RO
        role lacks: one finding, named the same in every scenario that needs
        it, pointing to the scenario that found out first."""
        try:
            yield
        except ContextsRejected as exc:
            actor = ARCHIVE if self.ctx.sut.plays(ARCHIVE) else "system"
            text = capability_missing(exc, actor)
            first = self.ctx.missing_capabilities.setdefault(text, self.title or self.name)
            seen = "" if first == (self.title or self.name) else \
                f" (first found in scenario {first!r})"
            raise ScenarioFailure(f"SUT-CAPABILITY-MISSING: {text}{seen}. {exc}") from exc

    def protocol_problems(self) -> list[str]:
        """The PS3.4 breaches the harness's SCUs saw in this scenario."""
        return list(dict.fromkeys(p for user in self._users for p in user.problems))

    def check_answers(self) -> None:
        """A SUT that answers wrongly fails, even when the harness could work
        around it (each distinct entity retrieved once)."""
        if problems := self.protocol_problems():
            self.ctx.record_problems(self.name, problems)
            raise ScenarioFailure("; ".join(problems))

    def harness_holds(self, phrase: str, sample_set: str | None = None) -> None:
        """Preload the harness's own Archive directly: it is ours, and what is
        under test is the SUT's traffic, not our seeding. What it holds is
        what the SUT is given (its stimulus)."""
        archive = self.start_harness_archive()
        self.sample_set = sample_set or self.ctx.stimulus
        for ds in self.objects(phrase, sample_set=sample_set):
            archive.store.store(self.ctx.encoded(ds, self.sample_set), ds, ExplicitVRLittleEndian,
                                SEED_AE)
            self.harness_seeded.add(str(ds.SOPInstanceUID))
            modality = str(ds.Modality)
            self.seeded_by_modality[modality] = self.seeded_by_modality.get(modality, 0) + 1

    def given_paths(self) -> list[Path]:
        """The harness Archive's copies of what the SUT was given."""
        if self.harness_archive is None:
            return []
        return [Path(r["path"]) for r in self.harness_archive.store.rows()
                if r["sop_instance_uid"] in self.harness_seeded]

    def sut_archive_holds(self, phrase: str) -> None:
        datasets = self.objects(phrase, scoped=True)
        self.seed(self.sut_archive_peer(), datasets)
        for ds in datasets:
            self.sent.setdefault(str(ds.Modality), []).append(ds)

    @property
    def study_uid(self) -> str:
        """The study this scenario works in: the stimulus's, or the study of
        what it gave the Archive under test."""
        if self.sent:
            return str(next(iter(self.sent.values()))[0].StudyInstanceUID)
        return str(self.ctx.sample(sample_set=self.sample_set).datasets["CT_001.dcm"]
                   .StudyInstanceUID)

    # -- the harness acts ------------------------------------------------------------
    def harness_user(self, actor: str = "harness") -> ServiceUser:
        """An SCU as the harness: its one calling AE title, TLS when the SUT has it."""
        user = ServiceUser(self.ctx.sut.harness_ae, self.ctx.recorder, actor,
                           tls=self.ctx.sut.tls)
        self._users.append(user)
        return user

    def proposes(self, sop_class: str, transfer_syntax: str) -> bool:
        """Whether the Archive under test accepts one presentation context
        (Verification is proposed beside it so the association itself is possible)."""
        peer = self.sut_archive_peer()
        user = self.harness_user()
        try:
            return user.accepts(peer, sop_class, transfer_syntax)
        except PeerUnreachable as exc:
            raise ScenarioFailure(str(exc)) from exc

    def harness_actor(self, actor: str, method: str = "get"):
        entry = REGISTRY[actor]
        user = entry.start(self.ctx.recorder, self.workdir / f"harness-{entry.default_ae.lower()}",
                           ae_title=self.ctx.sut.harness_ae, method=method, tls=self.ctx.sut.tls)
        self._stoppers.append(user.stop_receiver)
        self._users.append(user)
        return user

    def harness_stores(self, actor: str, phrase: str, fault: str | None = None) -> None:
        datasets = self.objects(phrase, fault, scoped=True)
        user = self.harness_actor(actor)
        with self.needs_capability():
            result = user.store(self.sut_archive_peer(), datasets)
        self.ctx.remember_sent(self.title or self.name, datasets)
        self.statuses += result.statuses
        for ds in datasets:
            self.sent.setdefault(str(ds.Modality), []).append(ds)

    def harness_retrieves(self, actor: str, modality: str, method: str) -> list[Dataset]:
        method = {"C-GET": "get", "C-MOVE": "move"}[method]
        sut = self.ctx.sut
        user = self.harness_actor(actor, method)
        peer = self.sut_archive_peer()
        if method == "move":  # calls as the harness AE, moves to its receive AE
            user.move_destination = sut.receive_ae
            receiver = user.start_receiver(user.workdir / "received", port=sut.receive_port
                                           if self.sut_archive is None else 0)
            if self.sut_archive is not None:  # a real Archive knows it by configuration
                self.sut_archive.add_move_destination(sut.receive_ae, receiver.host,
                                                      receiver.port)
        with self.needs_capability():
            try:
                datasets = user.retrieve_modality(peer, self.study_uid, modality)
            except RetrieveFailed:
                self.check_answers()  # a wrong C-FIND answer explains a failed retrieve
                raise
        self.check_answers()
        self.received = [Path(ds.filename) for ds in datasets]
        return datasets

    def query_key(self, level: str, keyword: str, matching: str) -> dict:
        """A conformance-table C-FIND: one key and its matching (a value taken
        from the structure set this scenario stored), in the hierarchy of the
        information model (the unique keys of the levels above)."""
        held = self.objects("structure set", scoped=True)[0]
        value = key_value(held, keyword, matching)
        if value is None:
            raise ScenarioFailure(f"the structure set has no {keyword} to query by {matching}")
        query, model = hierarchical_identifier(level, held, **{keyword: value})
        with self.needs_capability():
            result = self.harness_user().find(self.sut_archive_peer(), query, model)
        if not result.ok:
            raise ScenarioFailure(f"C-FIND at {level} level ({model} root) failed: "
                                  f"{result.describe('C-FIND')}")
        self.check_answers()
        return {"held": held, "level": level, "keyword": keyword, "value": value,
                "answers": result.datasets}

    def harness_finds(self, modality: str, level: str) -> list[Dataset]:
        user = self.harness_user()
        keys = {"StudyInstanceUID": self.study_uid, "Modality": modality,
                "SeriesInstanceUID": ""} if level == "SERIES" else \
            {"StudyInstanceUID": self.study_uid, "ModalitiesInStudy": modality}
        with self.needs_capability():
            result = user.find(self.sut_archive_peer(), identifier(level, **keys))
        if not result.ok:
            raise ScenarioFailure(f"C-FIND at {level} level failed: {result.describe('C-FIND')}")
        self.check_answers()
        return result.datasets

    def assert_unchanged(self, pairs: list[tuple[Dataset, Dataset]]) -> None:
        """Storage level 2: what the Archive returns is what it was sent. The
        evidence: each differing attribute with the value sent and the value
        returned, and whether the Archive returned a copy the harness stored
        earlier under that UID (one that keeps the first copy it got)."""
        changed = []
        for sent, back in pairs:
            diff = differences(sent, back, limit=5)
            if not diff:
                continue
            uid = str(sent.SOPInstanceUID)
            earlier = self.ctx.earlier_copy(uid, back, sent)
            why = (f" — it is the copy the harness stored earlier under this UID in scenario "
                   f"{earlier!r}" if earlier else "")
            changed.append(f"{sent.get('Modality', '')} {uid}{why}: "
                           + "; ".join(map(str, diff)))
        if changed:
            raise ScenarioFailure(
                f"ARCHIVE-STORAGE-LEVEL-2: {len(changed)} of {len(pairs)} objects came back "
                f"changed (IHE-RO test tool CompareRule, BRTO-RO1-06 …; PS3.4 B.4.1 storage "
                f"level 2): " + " | ".join(changed[:3])
                + (f" | … and {len(changed) - 3} more" if len(changed) > 3 else ""))

    def assert_found(self, query: dict) -> None:
        """The conformance-table C-FIND found the stored entity, and nothing
        that does not match its key."""
        problems = answer_problems(query["level"], query["keyword"], query["value"],
                                   query["held"], query["answers"])
        if problems:
            text = [f"ARCHIVE-FIND-MATCH: {p}" for p in problems[:5]]
            self.ctx.record_problems(self.name, text)
            raise ScenarioFailure("; ".join(text))

    # -- the SUT acts -----------------------------------------------------------------
    def mark_log(self) -> None:
        self._log_mark = log_size(self.ctx.recorder.path)

    def new_associations(self):
        return read_associations(self.ctx.recorder.path, self._log_mark)

    def sut_requested(self):
        """This scenario's associations the SUT opened with the harness Archive."""
        return [r for r in self.new_associations()
                if r.actor == ARCHIVE and r.direction == "inbound"]

    def sut_performs(self, actor: str, transaction: str) -> None:
        """Make the SUT act as `actor` in `transaction` (or several, in order:
        'RO-6, RO-11 and RO-2') against the harness Archive: in-process for
        the embedded default, else by the trigger command or an operator."""
        sut = self.ctx.sut
        if not sut.plays(actor):
            raise ScenarioFailure(f"the system under test does not play the {actor}")
        transaction = ",".join(re.findall(r"RO-\d+", transaction))
        archive = self.start_harness_archive()
        self.mark_log()
        if sut.embedded and set(transaction.split(",")) & set(sut.idle):
            self.outcome = {"result": "idle"}  # a deliberately lazy reference actor
        elif sut.embedded:
            self.outcome = self._embedded_act(actor, transaction, archive)
        elif sut.exports_files:
            self.outcome = {"export_dir": str(sut.export_dir)}
        else:
            self.outcome = self._ask_sut(actor, transaction, archive.peer)
        self.ctx.recorder.note("harness", f"{actor} under test performed {transaction}",
                               outcome=self.outcome)

    def _embedded_act(self, actor: str, transactions: str, archive: Archive) -> dict:
        """The reference actor performs the transaction (or chain) as its
        registry entry says."""
        entry = REGISTRY[actor]
        ref = entry.start(self.ctx.sut_recorder, self.workdir / f"sut-{entry.default_ae.lower()}",
                          method="get", tls=self.ctx.sut.tls)
        ref.lenient = self.ctx.sut.lenient
        self._make_faulty(ref)
        try:
            return entry.perform(ref, tuple(transactions.split(",")), archive.peer,
                                 self.study_uid).outcome()
        except Exception as exc:  # recorded: what the actor did with its input
            return ActorResult.failure(exc).outcome()
        finally:
            ref.stop_receiver()

    def _make_faulty(self, ref) -> None:
        if self.ctx.sut.fault:  # a deliberately broken producer
            fault, store_all = self.ctx.sut.fault, ref.store_all

            def faulty_store(peer, datasets):
                inject(datasets, fault, given=self.ctx.sample(sample_set=self.sample_set).uids)
                return store_all(peer, datasets)

            ref.store_all = faulty_store

    def _ask_sut(self, actor: str, transaction: str, archive_peer: Peer) -> dict:
        sut = self.ctx.sut
        env = {**os.environ, "RTCONFORM_TRANSACTION": transaction, "RTCONFORM_ACTOR": actor,
               "RTCONFORM_ARCHIVE_AE": archive_peer.ae_title,
               "RTCONFORM_ARCHIVE_HOST": archive_peer.host,
               "RTCONFORM_ARCHIVE_PORT": str(archive_peer.port),
               "RTCONFORM_STUDY_UID": self.study_uid}
        if sut.trigger:
            try:  # a shell command from the user's own SUT file: $RTCONFORM_* expand
                proc = subprocess.run(sut.trigger, shell=True, env=env, capture_output=True,
                                      text=True, timeout=sut.timeout, check=False)
            except subprocess.TimeoutExpired as exc:
                raise SutDidNotAct(f"trigger {sut.trigger!r} did not finish within "
                                   f"{sut.timeout:g} s") from exc
            return {"trigger": sut.trigger, "exit_code": proc.returncode,
                    "output": (proc.stdout + proc.stderr)[-2000:]}
        if sut.interactive:
            print(f"\n>>> {actor} under test: perform {transaction} now against "
                  f"{archive_peer} (study {self.study_uid}); press Enter when done, or type "
                  f"'refused' if it refused its input (timeout {sut.timeout:g} s)", flush=True)
            ready, _, _ = select.select([sys.stdin], [], [], sut.timeout)
            if not ready:
                raise SutDidNotAct(f"no operator answer within {sut.timeout:g} s")
            answer = sys.stdin.readline().strip().lower()
            return {"operator": "refused" if answer.startswith("refuse") else "done"}
        raise ScenarioFailure("the SUT file gives neither 'trigger' nor 'interactive': the "
                              "harness cannot make the SUT act")

    def plans_of_kind(self, kind: str) -> None:
        """What a planner sent in RO-3 (RO-4) is a geometric (dosimetric)
        plan. An export folder holds both kinds: each transaction judges its
        own, and there must be one."""
        kinds = dict(zip(self.received, plan_kinds(self.received), strict=True))
        if self.ctx.sut.exports_files:
            self.received = [p for p, k in kinds.items() if k == kind]
            if not self.received:
                raise ScenarioFailure(f"no {kind} plan in the export folder")
            return
        other = [p.name for p, k in kinds.items() if k != kind]
        if other:
            raise ScenarioFailure(f"expected {kind} plans only; {', '.join(other)} is not")

    def judging_context(self) -> tuple[list[Path], list[Path]]:
        """(what the SUT was given, the other objects its references may
        name). A file exporter was given nothing by the harness: its own
        export is the context of each object it exported."""
        if self.ctx.sut.exports_files:
            export = [p for p in self.ctx.sut.export_dir.rglob("*") if p.is_file()]
            return [], [p for p in export if p not in self.received]
        given = self.given_paths()
        return given, [p for p in self.all_harness_objects()
                       if p not in self.received and p not in given]

    def unreadable_exports(self) -> list[str]:
        """For a file exporter, what a C-STORE status says on the wire: the
        exported objects of this scenario that are not complete DICOM files."""
        out = []
        for path in self.received:
            read = read_instance(path)
            if isinstance(read, Unreadable):
                out.append(f"{path.name}: {read.reason}")
        return out

    def assert_refused(self, actor: str) -> None:
        """The SUT must show that it refused its input: the embedded actor's
        verdict, a trigger that exits non-zero, or an operator who says so."""
        outcome = self.outcome
        if outcome.get("accepted") is False or outcome.get("operator") == "refused":
            return
        if "exit_code" in outcome and outcome["exit_code"] != 0:
            return
        raise ScenarioFailure(f"the {actor} under test gave no sign of refusing its input "
                              f"(outcome {outcome}); a trigger should exit non-zero, an "
                              "operator answer 'refused'")

    # -- observations -----------------------------------------------------------------
    def received_by_harness(self, modality: str) -> list[Path]:
        """Objects of `modality` the SUT sent (or exported)."""
        sut = self.ctx.sut
        if sut.exports_files:
            paths = [p for p in sut.export_dir.rglob("*") if p.is_file()]
            return [p for p in paths if self._modality(p) == modality]
        deadline = time.monotonic() + (0 if sut.embedded else sut.timeout)
        while True:
            rows = self.harness_archive.store.rows() if self.harness_archive else []
            paths = [Path(r["path"]) for r in rows if r["modality"] == modality
                     and r["sop_instance_uid"] not in self.harness_seeded]
            if paths or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        reused = sorted({uid for r in self.sut_requested() for uid in r.stores_received()
                         if uid in self.harness_seeded})
        if reused:  # the harness keeps its own copy: say so rather than lose it silently
            raise ScenarioFailure(
                f"BRTO-NEW-SOP-INSTANCE: the system under test stored {len(reused)} object(s) "
                f"under SOP Instance UIDs of objects it was given (e.g. {reused[0]}); what an "
                "actor produces needs new UIDs (IHE-RO test tool BRTO-RO2-50, BRTO-RO3-52, "
                "BRTO-RO4-37, BRTO-RO5-39, BRTO-RO11-20)")
        return paths

    def _modality(self, path: Path) -> str:
        """An exported file's Modality; a file that is not DICOM is said in
        the run's log (an export folder may hold other files), not dropped."""
        try:
            return str(pydicom.dcmread(path, stop_before_pixels=True).get("Modality", ""))
        except Exception as exc:  # pydicom raises many types on non-DICOM input
            self.ctx.note(f"export file {path} not read: {type(exc).__name__}: {exc}")
            return ""

    def all_harness_objects(self) -> list[Path]:
        return self.harness_archive.store.paths() if self.harness_archive else []

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception as exc:  # stopping must not hide the scenario's result
                self.ctx.note(f"stopping failed: {exc}")


def plan_kinds(paths: list[Path]) -> list[str]:
    return ["dosimetric" if is_dosimetric(pydicom.dcmread(p)) else "geometric" for p in paths]


def find_problems(answers: list[Dataset], sent: list[Dataset], modality: str,
                  level: str) -> list[str]:
    """What is wrong with a C-FIND answer for what this scenario stored: every
    series (or study) it stored must be found, and a SERIES answer must carry
    the Modality asked for."""
    if not answers:
        return [f"no {modality} match at {level} level"]
    key = "SeriesInstanceUID" if level == "SERIES" else "StudyInstanceUID"
    found = {str(ds.get(key, "")) for ds in answers}
    missing = sorted({str(ds.get(key, "")) for ds in sent} - found)
    problems = [f"{key} {uid} stored but not found at {level} level" for uid in missing]
    if level == "SERIES":
        problems += [f"series {ds.get('SeriesInstanceUID', '?')} answered with Modality "
                     f"{ds.get('Modality', '(none)')!s}, asked {modality}"
                     for ds in answers if str(ds.get("Modality", "")) != modality]
    return problems

"""One scenario's state: the servers and actors it started (stopped at its
end), what the harness sent and received, what the SUT did, and where the
run's log stood when it began. What the harness *does* in a scenario is
`run.harness`; how the SUT is made to act, `run.drivers`; the judgement of
what came back, `run.checks`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from rtconform.actors.archive import Archive
from rtconform.actors.node import ServiceUser
from rtconform.actors.recorder import log_size, read_associations
from rtconform.actors.result import ActorResult
from rtconform.dicom.uids import DEFAULT_UID_ROOT
from rtconform.ihe.tro import ARCHIVE
from rtconform.phantom.variants import UidScope
from rtconform.run.phrases import select

if TYPE_CHECKING:
    from rtconform.run.drivers import SutDriver
    from rtconform.run.session import RunContext


class ScenarioFailure(AssertionError):
    """What the SUT did differs from what the scenario expects."""


class SutDidNotAct(ScenarioFailure):
    """The SUT was asked to act and nothing arrived in time."""


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
    outcome: dict = field(default_factory=dict)  # what the SUT did, as the log records it
    result: ActorResult | None = None  # what the actor under test did
    harness_seeded: set[str] = field(default_factory=set)
    seeded_by_modality: dict[str, int] = field(default_factory=dict)
    sample_set: str | None = None  # the stimulus set this scenario gave
    acting: str | None = None  # the actor under test that acted in this scenario
    _scope: UidScope | None = None
    _users: list[ServiceUser] = field(default_factory=list)  # the harness's SCUs, for problems
    _stoppers: list = field(default_factory=list)
    _log_mark: int = 0
    _start_mark: int = 0  # where the run's log ended when this scenario began (bytes)

    def __post_init__(self) -> None:
        self._start_mark = log_size(self.ctx.recorder.path)

    @property
    def label(self) -> str:
        """How other scenarios refer to this one."""
        return self.title or self.name

    @property
    def driver(self) -> SutDriver:
        """The driver of the actor under test that acted, else of the Archive
        under test (what the harness calls), else the SUT's."""
        return self.ctx.driver(self.acting or (ARCHIVE if self.ctx.sut.plays(ARCHIVE)
                                               else None))

    def on_stop(self, stop: Callable[[], None]) -> None:
        """Stop a server or receiver this scenario started when it ends."""
        self._stoppers.append(stop)

    def own_associations(self):
        """The associations this scenario made (for the evidence of a failure)."""
        return read_associations(self.ctx.recorder.path, self._start_mark)

    def mark_log(self) -> None:
        self._log_mark = log_size(self.ctx.recorder.path)

    def new_associations(self):
        return read_associations(self.ctx.recorder.path, self._log_mark)

    def sut_requested(self):
        """This scenario's associations the SUT opened with the harness Archive."""
        return [r for r in self.new_associations()
                if r.actor == ARCHIVE and r.direction == "inbound"]

    @property
    def uid_scope(self) -> UidScope | None:
        """Against a real Archive each scenario sends the patient under UIDs of
        its own: its data is disjoint from every other scenario's, so its
        verdict does not depend on what the Archive already holds or on which
        scenarios ran before (the embedded default gives each scenario an
        Archive of its own instead, and shares objects in the run folder)."""
        if not self.ctx.driver(ARCHIVE).scoped_uids:
            return None
        if self._scope is None:
            self._scope = UidScope(DEFAULT_UID_ROOT, f"{self.ctx.seed}/{self.name}")
        return self._scope

    def objects(self, phrase: str, fault: str | None = None, sample_set: str | None = None,
                scoped: bool = False) -> list[Dataset]:
        """The objects a scenario phrase names; `scoped`: as this scenario
        gives them to the Archive under test."""
        chosen = select(self.ctx.sample(fault, sample_set), phrase)
        scope = self.uid_scope if scoped else None
        if scope is None:
            return chosen
        scope.learn(self.ctx.sample(None, sample_set).datasets.values())
        scope.learn(chosen)  # a variant's own new UIDs too
        return [scope.copy(ds) for ds in chosen]

    @property
    def study_uid(self) -> str:
        """The study this scenario works in: the stimulus's, or the study of
        what it gave the Archive under test."""
        if self.sent:
            return str(next(iter(self.sent.values()))[0].StudyInstanceUID)
        return str(self.ctx.sample(sample_set=self.sample_set).datasets["CT_001.dcm"]
                   .StudyInstanceUID)

    def given_paths(self) -> list[Path]:
        """The harness Archive's copies of what the SUT was given."""
        if self.harness_archive is None:
            return []
        return [Path(r["path"]) for r in self.harness_archive.store.rows()
                if r["sop_instance_uid"] in self.harness_seeded]

    def all_harness_objects(self) -> list[Path]:
        return self.harness_archive.store.paths() if self.harness_archive else []

    def protocol_problems(self) -> list[str]:
        """The PS3.4 breaches the harness's SCUs saw in this scenario."""
        return list(dict.fromkeys(p for user in self._users for p in user.problems))

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception as exc:  # stopping must not hide the scenario's result
                self.ctx.note(f"stopping failed: {exc}")

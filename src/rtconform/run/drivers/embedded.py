"""The embedded default: the harness's reference actors play the SUT
in-process, over real associations, each act as the actor registry says; a
SUT file's `embedded:` block makes one misbehave (a fault in what it
stores, a transaction it skips, a structure set it accepts anyway)."""

from __future__ import annotations

from rtconform.actors.node import Peer
from rtconform.actors.registry import REGISTRY
from rtconform.actors.result import IDLE, ActorResult
from rtconform.phantom.faults import inject
from rtconform.run.drivers.base import SutDriver, reference_archive
from rtconform.run.scenario import Scenario


class EmbeddedDriver(SutDriver):
    kind = "embedded"
    embedded = True
    scoped_uids = False  # each scenario has an Archive of its own

    @property
    def wait(self) -> float:
        return 0  # it acted in-process: what it sent is there

    def archive_peer(self, scenario: Scenario) -> Peer:
        return reference_archive(scenario)

    def perform(self, scenario: Scenario, actor: str, transactions: tuple[str, ...],
                archive: Peer) -> ActorResult:
        if set(transactions) & set(self.sut.idle):
            return ActorResult(status=IDLE)  # a deliberately lazy reference actor
        entry = REGISTRY[actor]
        ref = entry.start(scenario.ctx.sut_recorder,
                          scenario.workdir / f"sut-{entry.default_ae.lower()}", method="get",
                          tls=self.sut.tls)
        ref.lenient = self.sut.lenient
        if self.sut.fault:
            self._make_faulty(scenario, ref)
        try:
            return entry.perform(ref, transactions, archive, scenario.study_uid)
        except Exception as exc:  # recorded: what the actor did with its input
            return ActorResult.failure(exc)
        finally:
            ref.stop_receiver()

    def _make_faulty(self, scenario: Scenario, ref) -> None:
        """A deliberately broken producer: what it stores carries the fault."""
        fault, store_all = self.sut.fault, ref.store_all

        def faulty_store(peer, datasets):
            inject(datasets, fault,
                   given=scenario.ctx.sample(sample_set=scenario.sample_set).uids)
            return store_all(peer, datasets)

        ref.store_all = faulty_store

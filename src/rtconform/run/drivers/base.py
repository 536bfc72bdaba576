"""The SUT driver interface (and the plain network node, which the harness
only calls), apart from the kinds that implement it, so that each kind
imports this module and the package's `driver_for` imports the kinds:
the dependency runs one way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import Peer
from rtconform.actors.result import ActorResult
from rtconform.run.scenario import ScenarioFailure

if TYPE_CHECKING:
    from rtconform.run.scenario import Scenario
    from rtconform.run.sut import SutConfig


class SutDriver:
    """A network node the harness calls (an Archive under test); asked to
    make an actor act it cannot, and says so."""

    kind = "node"
    embedded = False  # the reference actors play the SUT in-process
    exports_files = False  # what it makes is a folder of files, not C-STOREs
    scoped_uids = True  # each scenario gives it the patient under UIDs of its own

    def __init__(self, sut: SutConfig) -> None:
        self.sut = sut

    @property
    def wait(self) -> float:
        """Seconds to wait for what the actor sends after it was made to act."""
        return self.sut.timeout

    def perform(self, scenario: Scenario, actor: str, transactions: tuple[str, ...],
                archive: Peer) -> ActorResult:
        """Make `actor` perform `transactions` against the harness Archive:
        what it did."""
        raise ScenarioFailure("the SUT file gives neither 'trigger' nor 'interactive': the "
                              "harness cannot make the SUT act")

    def archive_peer(self, scenario: Scenario) -> Peer:
        """The Archive under test: the configured node, else a reference
        Archive of the scenario's own."""
        if self.sut.peer is not None:
            return self.sut.peer
        return reference_archive(scenario)

    def received(self, scenario: Scenario, modality: str) -> list[Path]:
        """What the actor sent the harness Archive of `modality` (not what the
        harness seeded), waiting up to `wait` for the first."""
        deadline = time.monotonic() + self.wait
        while True:
            archive = scenario.harness_archive
            rows = archive.store.rows() if archive else []
            paths = [Path(r["path"]) for r in rows if r["modality"] == modality
                     and r["sop_instance_uid"] not in scenario.harness_seeded]
            if paths or time.monotonic() >= deadline:
                return paths
            time.sleep(0.5)

    def judging_context(self, scenario: Scenario) -> tuple[list[Path], list[Path]]:
        """(what the SUT was given, the other objects its references may name)."""
        given = scenario.given_paths()
        return given, [p for p in scenario.all_harness_objects()
                       if p not in scenario.received and p not in given]


def reference_archive(scenario: Scenario) -> Peer:
    """A reference Archive playing the Archive under test, one per scenario."""
    if scenario.sut_archive is None:
        sut = scenario.ctx.sut
        tls = sut.tls if sut.tls is not None and sut.tls.cert else None
        drops = [sut.archive_drops] if sut.archive_drops else []
        scenario.sut_archive = Archive(ArchiveConfig(ae_title="SUT_ARCHIVE",
                                                     store_dir=scenario.workdir / "sut-archive",
                                                     drop_attributes=drops, tls=tls),
                                       scenario.ctx.sut_recorder)
        scenario.sut_archive.start()
        scenario.on_stop(scenario.sut_archive.stop)
    return scenario.sut_archive.peer

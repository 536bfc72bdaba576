"""The one table of the harness's actors: for each, its IHE-RO name and
profile, its DICOM role(s), the transactions it performs (alone, or chained
as one act, as the IHE-RO test tool's scenarios ask), the reference actor
that plays it and how `rtconform simulate` starts it.

`rtconform simulate`, the run (SUT files, scenario markers, the embedded
default's actors), the report's columns and the statements' flows read this
table; nothing else lists actors. Adding an actor: its module (a `TROActor`
subclass and its acts) and one `ActorEntry` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from rtconform.actors.actor import TROActor
from rtconform.actors.commitment import StorageCommitter, request_commitment
from rtconform.actors.contourer import Contourer
from rtconform.actors.dose_displayer import DoseDisplayer
from rtconform.actors.planners import DosimetricPlanner, GeometricPlanner
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.result import Act, ActorResult, retrieves, stores, takes
from rtconform.ihe.tro import (
    ARCHIVE,
    CONTOURER,
    DOSE_DISPLAYER,
    DOSIMETRIC_PLANNER,
    GEOMETRIC_PLANNER,
    PROFILE,
    TRANSACTIONS,
)


class NotPerformed(ValueError):
    """An actor asked for a transaction (or chain) it does not perform."""


@dataclass(frozen=True)
class ActorEntry:
    name: str  # the IHE-RO actor name, as SUT files and scenarios spell it
    profile: str  # the IHE-RO profile that defines it
    roles: tuple[str, ...]  # its DICOM roles; an SCU that retrieves by C-MOVE is a Storage SCP too
    # how `rtconform simulate <command>` starts it: a server listens until
    # Ctrl-C; a client echoes, sends, retrieves or runs against a peer
    cli: Literal["server", "client"]
    simulator: type[TROActor] | None = None  # the reference actor (None: a server of its own)
    # transaction → act, and chains performed as one act ("RO-6,RO-11,RO-2");
    # a transaction of its profile it receives and has no act for is a retrieve
    acts: Mapping[str, Act] = field(default_factory=dict)
    run: str = ""  # the act `rtconform simulate <command> run` performs

    @property
    def command(self) -> str:
        """'Geometric Planner' → 'geometric-planner' (the simulate sub-command)."""
        return self.name.lower().replace(" ", "-")

    @property
    def tag(self) -> str:
        """'Geometric Planner' → 'geometric_planner' (pytest marker names)."""
        return tag_of(self.name)

    @property
    def default_ae(self) -> str:
        return self.simulator.default_ae if self.simulator else self.name.upper()[:16]

    @property
    def transactions(self) -> tuple[str, ...]:
        """The transactions of its profile it takes part in, sending or receiving."""
        return tuple(t.id for t in TRANSACTIONS.values()
                     if self.name in t.senders or self.name in t.receivers)

    @property
    def chains(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(key.split(",")) for key in self.acts if "," in key)

    def act(self, transactions: tuple[str, ...]) -> Act:
        """What the reference actor does for one transaction or a chain."""
        key = ",".join(transactions)
        if key in self.acts:
            return self.acts[key]
        one = TRANSACTIONS.get(key)
        if one is not None and self.name in one.receivers and one.modalities:
            return retrieves(one.modalities[0])
        raise NotPerformed(f"the reference {self.name} does not perform {key}; it performs "
                           f"{', '.join(sorted({*self.transactions, *self.acts}))}")

    def start(self, recorder: AssociationRecorder, workdir: Path, **options) -> TROActor:
        """Its reference actor, recording into `recorder`, working in `workdir`."""
        if self.simulator is None:
            raise NotPerformed(f"the {self.name} is a server: `rtconform simulate "
                               f"{self.command}` starts it")
        return self.simulator(recorder, workdir, **options)

    def perform(self, actor: TROActor, transactions: tuple[str, ...], peer,
                study_uid: str) -> ActorResult:
        """The act for `transactions`, against the Archive `peer`, on one study."""
        result = self.act(transactions)(actor, peer, study_uid)
        return replace(result, actor=self.name, transactions=tuple(transactions))


ENTRIES = (
    ActorEntry(ARCHIVE, PROFILE, ("SCP",), "server"),
    ActorEntry(CONTOURER, PROFILE, ("SCU", "SCP"), "client", Contourer, run="RO-1,RO-2", acts={
        "RO-1,RO-2": stores(Contourer.run),
        "RO-2": stores(Contourer.run),
        "RO-6": takes(Contourer.retrieve_images),
        "RO-7": Contourer.take_structure_set,
        "RO-11": stores(Contourer.resample_and_store),
        # the IHE-RO test tool's Contourer scenarios 2 and 3
        "RO-6,RO-11,RO-2": stores(Contourer.combine_and_contour),
        "RO-1,RO-7,RO-2": stores(Contourer.edit)}),
    ActorEntry(GEOMETRIC_PLANNER, PROFILE, ("SCU", "SCP"), "client", GeometricPlanner,
               run="RO-1,RO-7,RO-3", acts={
                   "RO-1,RO-7,RO-3": stores(GeometricPlanner.run),
                   "RO-3": stores(GeometricPlanner.run)}),
    ActorEntry(DOSIMETRIC_PLANNER, PROFILE, ("SCU", "SCP"), "client", DosimetricPlanner,
               run="RO-1,RO-7,RO-8,RO-4,RO-5", acts={
                   "RO-1,RO-7,RO-8,RO-4,RO-5": stores(DosimetricPlanner.run),
                   "RO-4": stores(DosimetricPlanner.run),
                   "RO-5": stores(DosimetricPlanner.run),
                   "RO-4,RO-5": stores(DosimetricPlanner.run)}),
    ActorEntry(DOSE_DISPLAYER, PROFILE, ("SCU", "SCP"), "client", DoseDisplayer,
               run="RO-1,RO-7,RO-9,RO-10", acts={
                   "RO-1,RO-7,RO-9,RO-10": DoseDisplayer.display}),
    ActorEntry(StorageCommitter.actor, "IHE RAD SWF", ("SCU", "SCP"), "client", StorageCommitter,
               run="RAD-10", acts={"RAD-10": request_commitment}),
)
REGISTRY: dict[str, ActorEntry] = {entry.name: entry for entry in ENTRIES}
# the TRO actor names, in the table's order: what SUT files, scenarios and the report name
ACTORS: tuple[str, ...] = tuple(e.name for e in ENTRIES if e.profile == PROFILE)


def tag_of(actor: str) -> str:
    """'Geometric Planner' → 'geometric_planner' (pytest marker names)."""
    return actor.lower().replace(" ", "_")


def actor_of(text: str) -> str:
    """Accept 'geometric-planner', 'Geometric Planner', 'geometric_planner'."""
    key = text.strip().lower().replace("-", " ").replace("_", " ")
    for actor in ACTORS:
        if actor.lower() == key:
            return actor
    raise ValueError(f"unknown IHE-RO TRO actor {text!r}; one of {', '.join(ACTORS)}")


def simulators() -> dict[str, ActorEntry]:
    """The entries with a reference actor, by simulate sub-command."""
    return {e.command: e for e in ENTRIES if e.simulator is not None}

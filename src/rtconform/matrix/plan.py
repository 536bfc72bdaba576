"""Who takes part in a matrix and in which chains: each SUT file is a
participant (a tool driver, a server Archive, a node with a trigger, or the
embedded reference actors); producers of an object type form a grid's rows,
consumers its columns, and every Archive carries each chain.

Object kinds and the transactions that make and take them (IHE-RO TRO):
- structure set (RTSTRUCT): a Contourer makes it from the CT (RO-2); a
  Contourer reads it back with its images (RO-1, RO-7), a Geometric Planner
  plans on it (RO-1, RO-7), a Dose Displayer shows it over a dose (RO-1,
  RO-7, RO-10).
- plan and dose (RTPLAN, RTDOSE): a Dosimetric Planner makes them from the
  CT, structure set and geometric plan (RO-4, RO-5); a Dose Displayer shows
  them (RO-1, RO-7, RO-9, RO-10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rtconform.ihe.tro import (
    ARCHIVE,
    CONTOURER,
    DOSE_DISPLAYER,
    DOSIMETRIC_PLANNER,
    GEOMETRIC_PLANNER,
)
from rtconform.run.sut import SutConfig, SutError, load_sut


@dataclass(frozen=True)
class Kind:
    """One production: what the harness seeds, who makes what from it."""

    name: str  # structure-set | plan-and-dose
    seed: str  # objects of the stimulus the Archive holds first (scenario phrase)
    producer: str  # the actor that makes it
    transactions: str  # what the producer performs
    modalities: tuple[str, ...]  # what it makes (each one grid)


KINDS = (
    Kind("structure-set", "CT series and plan dose", CONTOURER, "RO-2", ("RTSTRUCT",)),
    Kind("plan-and-dose", "CT series, structure set and geometric plan", DOSIMETRIC_PLANNER,
         "RO-4,RO-5", ("RTPLAN", "RTDOSE")),
)
KIND_OF = {m: k for k in KINDS for m in k.modalities}

# the consumer actor → the transactions it performs to take an object of a kind
CONSUMES = {
    "structure-set": {CONTOURER: "RO-1,RO-7", GEOMETRIC_PLANNER: "RO-1,RO-7",
                      DOSE_DISPLAYER: "RO-1,RO-7,RO-10"},
    "plan-and-dose": {DOSE_DISPLAYER: "RO-1,RO-7,RO-9,RO-10"},
}
# the embedded reference actors take part with these (the others add nothing
# a real tool's column does not show)
REFERENCE_CONSUMERS = {"structure-set": (GEOMETRIC_PLANNER, DOSE_DISPLAYER),
                       "plan-and-dose": (DOSE_DISPLAYER,)}


class MatrixError(ValueError):
    """A matrix that cannot be run as asked (exit 2)."""


@dataclass
class Participant:
    file: Path
    config: SutConfig

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def slug(self) -> str:
        """A folder name from the SUT file's name (never from its content)."""
        return self.file.stem

    @property
    def tool(self) -> str:
        return (self.config.driver or {}).get("tool", "")

    @property
    def archive_driver(self) -> str:
        from rtconform.suts.archives import ARCHIVES

        return self.tool if self.tool in ARCHIVES else ""

    @property
    def can_act(self) -> bool:
        """The harness can make it act: in-process, or by its trigger."""
        return self.config.embedded or bool(self.config.trigger)

    @property
    def profile(self) -> str:
        """What a consumer's input is judged by: the reference actors claim
        IHE-RO BRTO; a tool, what its SUT file says (dicom-rt by default)."""
        if self.config.embedded:
            return "brto"
        return (self.config.driver or {}).get("profile", "dicom-rt")

    @property
    def stimulus(self) -> str:
        return (self.config.driver or {}).get("stimulus", "equidistant")

    def plays(self, actor: str) -> bool:
        return self.config.plays(actor)

    def is_archive(self) -> bool:
        return self.plays(ARCHIVE) and (self.config.embedded or bool(self.archive_driver)
                                        or self.config.peer is not None)

    def produces(self, kind: Kind) -> bool:
        return self.can_act and self.plays(kind.producer) and not (
            self.config.embedded and self.config.idle)

    def consumer_actors(self, kind: Kind) -> list[str]:
        if not self.can_act:
            return []
        actors = [a for a in CONSUMES[kind.name] if self.plays(a)]
        if self.config.embedded:
            if self.config.fault:  # a faulty reference produces; its consumers are the plain one's
                return []
            actors = [a for a in actors if a in REFERENCE_CONSUMERS[kind.name]]
        return actors


@dataclass
class MatrixPlan:
    participants: list[Participant]
    archives: list[Participant] = field(default_factory=list)

    def producers(self, kind: Kind) -> list[Participant]:
        return [p for p in self.participants if p.produces(kind)]

    def consumers(self, kind: Kind) -> list[tuple[Participant, str]]:
        return [(p, a) for p in self.participants for a in p.consumer_actors(kind)]

    def columns(self) -> list[tuple[Participant, str]]:
        """Every consumer (participant, actor), in the order of the files."""
        out: list[tuple[Participant, str]] = []
        for kind in KINDS:
            for pair in self.consumers(kind):
                if pair not in out:
                    out.append(pair)
        return out


def load_plan(files: list[Path], with_reference: bool = True) -> MatrixPlan:
    """The participants of the SUT files (each checked as `rtconform run`
    would), plus the embedded reference actors as one more row and column."""
    participants = []
    for path in files:
        try:
            config = load_sut(path)
        except SutError as exc:
            if "is a server started for a run" not in str(exc):
                raise MatrixError(str(exc)) from exc
            config = _archive_config(path)
        participants.append(Participant(Path(path), config))
    if with_reference and not any(p.config.embedded and not p.config.fault
                                  for p in participants):
        participants.append(Participant(Path("reference.yaml"), SutConfig(
            name="rtconform reference actors")))
    names = [p.slug for p in participants]
    if len(set(names)) != len(names):
        raise MatrixError(f"two SUT files with one name: {sorted(names)}")
    plan = MatrixPlan(participants)
    plan.archives = [p for p in participants if p.is_archive()]
    if not plan.archives:
        raise MatrixError("no Archive among the SUT files: a chain needs one")
    return plan


def _archive_config(path: Path) -> SutConfig:
    """An Archive driver's SUT file, read without a network block (the matrix
    starts the server and gives it one)."""
    from rtconform.actors.registry import actor_of
    from rtconform.run.sut import _tls, sut_schema
    from rtconform.yaml_config import ConfigError, load_checked

    try:
        data = load_checked(Path(path), sut_schema())
    except ConfigError as exc:
        raise MatrixError(str(exc)) from exc
    statement = data.get("statement")
    statement = (Path(path).parent / statement).resolve() if statement else None
    return SutConfig(name=str(data.get("name") or path),
                     actors=tuple(actor_of(a) for a in data["actors"]),
                     timeout=float(data.get("timeout", 60)), statement=statement,
                     embedded=False, driver=data.get("driver"), tls=_tls(path, data.get("tls")))

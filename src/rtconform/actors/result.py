"""What an actor did, one type for every actor: the simulate command prints
it and exits with its code, the run records its outcome in the association
log, and an actor registry entry's acts return it. Which actor it was changes
the values, never the shape (no per-actor special case downstream)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

DONE, FAILED, IDLE = "done", "failed", "idle"


@dataclass
class ActorResult:
    actor: str = ""
    transactions: tuple[str, ...] = ()
    status: str = DONE  # done | failed (an exception, `reason`) | idle (did not act)
    produced: list[Dataset] = field(default_factory=list)  # what it made and stored
    received: list[Dataset] = field(default_factory=list)  # what it retrieved
    # a receiver's verdict on its input (None: it gives none); a refusal is
    # what the negative scenarios expect of a Contourer given a broken set
    accepted: bool | None = None
    errors: int | None = None  # errors it found in what it received (None: it checks nothing)
    reason: str = ""
    # how a system under test was made to act when not in-process, as evidence:
    # {"trigger", "exit_code", "output"}, {"operator"} or {"export_dir"}
    how: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 done and content; 1 failed, refused or found errors."""
        return 0 if self.status == DONE and not self.errors and self.accepted is not False \
            else 1

    @property
    def refused(self) -> bool:
        """It showed that it refused its input: its own verdict, a command's
        non-zero exit, or an operator who says so."""
        return self.accepted is False or self.how.get("operator") == "refused" \
            or self.how.get("exit_code", 0) != 0

    def outcome(self) -> dict:
        """As the run's association log records what the actor under test did."""
        if self.how:
            return dict(self.how)
        if self.accepted is not None:
            return {"accepted": self.accepted}
        return {"result": self.status, **({"reason": self.reason} if self.reason else {})}

    def summary(self) -> str:
        """One line for the console."""
        done = ", ".join(self.transactions) or "nothing"
        if self.status != DONE:
            return f"{self.actor} {self.status} in {done}" + \
                (f": {self.reason}" if self.reason else "")
        parts = []
        if self.received:
            parts.append(f"retrieved {len(self.received)} object(s)")
        if self.produced:
            parts.append(f"produced and stored {len(self.produced)} object(s)")
        if self.accepted is not None:
            parts.append("accepted its input" if self.accepted else "refused its input")
        if self.errors is not None:
            parts.append(f"{self.errors} errors in what it received")
        if self.reason:  # what an act reports of itself (e.g. what was committed)
            parts.append(self.reason)
        return f"{self.actor} performed {done}: {', '.join(parts) or 'nothing to report'}"

    @classmethod
    def failure(cls, exc: BaseException) -> ActorResult:
        return cls(status=FAILED, reason=f"{type(exc).__name__}: {exc}")


# what an actor does for one transaction or one chain of them: given the
# actor object, the Archive it works with and the study, what it did
Act = Callable[[Any, Any, str], ActorResult]


def _listed(value) -> list[Dataset]:
    return list(value) if isinstance(value, list | tuple) else [value]


def stores(method: Callable) -> Act:
    """An act that makes objects and stores them: `method(peer, study)`
    returns what it stored."""
    return lambda actor, peer, study: ActorResult(produced=_listed(method(actor, peer, study)))


def takes(method: Callable) -> Act:
    """An act that retrieves: `method(peer, study)` returns what it received."""
    return lambda actor, peer, study: ActorResult(received=_listed(method(actor, peer, study)))


def retrieves(modality: str) -> Act:
    """An act that retrieves the study's series of one modality."""
    return lambda actor, peer, study: ActorResult(
        received=actor.retrieve_modality(peer, study, modality))

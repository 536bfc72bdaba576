"""The one table of the harness's TRO actor simulators, by IHE-RO actor name
(the Archive, a server, is apart: `actors.archive`). The simulate command,
the run context and the scenario markers are all driven by it."""

from __future__ import annotations

from rtconform.actors.actor import TROActor
from rtconform.actors.contourer import Contourer
from rtconform.actors.dose_displayer import DoseDisplayer
from rtconform.actors.planners import DosimetricPlanner, GeometricPlanner

SIMULATORS: dict[str, type[TROActor]] = {
    cls.actor: cls for cls in (Contourer, GeometricPlanner, DosimetricPlanner, DoseDisplayer)}


def command_name(actor: str) -> str:
    """'Geometric Planner' → 'geometric-planner' (the simulate sub-command)."""
    return actor.lower().replace(" ", "-")

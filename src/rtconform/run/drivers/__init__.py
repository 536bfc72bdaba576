"""How the harness makes an actor of the SUT act, and where it finds what
that actor made: one driver per kind of SUT. `SutDriver` is the interface
(and the plain network node, which the harness only calls); the kinds are
`embedded` (the reference actors in-process), `trigger` (a command),
`operator` (a person at the console) and `export` (a folder a file exporter
wrote). A run holds one driver per actor (`RunContext.drivers`): a SUT file
gives all its actors the same kind; another kind implements this class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtconform.run.drivers.base import SutDriver, reference_archive

if TYPE_CHECKING:
    from rtconform.run.sut import SutConfig

__all__ = ["SutDriver", "driver_for", "reference_archive"]


def driver_for(sut: SutConfig) -> SutDriver:
    """The driver a SUT file describes."""
    from rtconform.run.drivers.embedded import EmbeddedDriver
    from rtconform.run.drivers.export import ExportFolderDriver
    from rtconform.run.drivers.operator import OperatorDriver
    from rtconform.run.drivers.trigger import TriggerDriver

    if sut.embedded:
        return EmbeddedDriver(sut)
    if sut.exports_files:
        return ExportFolderDriver(sut)
    if sut.trigger:
        return TriggerDriver(sut)
    if sut.interactive:
        return OperatorDriver(sut)
    return SutDriver(sut)

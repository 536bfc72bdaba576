"""SUT drivers: real open-source RT software made IHE-RO TRO actors, so
`rtconform run --sut suts/TOOL.yaml` judges it like any system under test and
`rtconform matrix` pairs it with every other.

A driver is started by the harness's `trigger:` with the RTCONFORM_*
variables (the transactions, the Archive to use, the study): it retrieves
what the transactions give its actor, runs the tool the way the tool's
documentation says, stores what the tool wrote as it wrote it, and exits 0
(done), 1 (the tool refused its input), 4 (the tool cannot perform that
transaction). `python -m rtconform.suts TOOL` serves one request;
`python -m rtconform.suts install TOOL` makes the tool's virtual environment.
"""

from __future__ import annotations

from rtconform.suts.driver import Driver


def drivers() -> dict[str, Driver]:
    """Every tool driver, by tool name."""
    from rtconform.suts.dicompyler_core import DicompylerCore
    from rtconform.suts.dicomrttool import DicomRTTool
    from rtconform.suts.plastimatch import Plastimatch
    from rtconform.suts.rt_utils import RtUtils

    return {d.name: d for d in (RtUtils(), DicomRTTool(), Plastimatch(), DicompylerCore())}

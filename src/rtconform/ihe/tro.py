"""The eleven transactions of the IHE-RO Radiation Therapy Objects profile
(2007), with who sends and who receives (IHE-RO Technical Framework, TRO 2007),
and the names of the profile's five actors. The harness's own actors (what
each performs, how it starts) are registered in `rtconform.actors.registry`."""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCHIVE = "Archive"
CONTOURER = "Contourer"
GEOMETRIC_PLANNER = "Geometric Planner"
DOSIMETRIC_PLANNER = "Dosimetric Planner"
DOSE_DISPLAYER = "Dose Displayer"
PROFILE = "IHE-RO TRO"  # as an actor registry entry names its profile


@dataclass(frozen=True)
class Transaction:
    id: str
    name: str
    senders: tuple[str, ...]
    receivers: tuple[str, ...]
    modalities: tuple[str, ...]  # what crosses the wire

    @property
    def tag(self) -> str:
        return self.id.replace("-", "").lower()  # RO-2 → ro2


PLANNERS = (GEOMETRIC_PLANNER, DOSIMETRIC_PLANNER)
TRANSACTIONS = {t.id: t for t in (
    Transaction("RO-1", "Single/Contoured Image Series Retrieve", (ARCHIVE,),
                (CONTOURER, *PLANNERS, DOSE_DISPLAYER), ("CT",)),
    Transaction("RO-2", "Structure Set Storage", (CONTOURER,), (ARCHIVE,), ("RTSTRUCT",)),
    Transaction("RO-3", "Geometric Plan Storage", (GEOMETRIC_PLANNER,), (ARCHIVE,), ("RTPLAN",)),
    Transaction("RO-4", "Dosimetric Plan Storage", (DOSIMETRIC_PLANNER,), (ARCHIVE,),
                ("RTPLAN",)),
    Transaction("RO-5", "Dose Storage", (DOSIMETRIC_PLANNER,), (ARCHIVE,), ("RTDOSE",)),
    Transaction("RO-6", "Multi-Series Image Retrieve", (ARCHIVE,), (CONTOURER,), ("CT",)),
    Transaction("RO-7", "Structure Set Retrieve", (ARCHIVE,),
                (CONTOURER, *PLANNERS, DOSE_DISPLAYER), ("RTSTRUCT",)),
    Transaction("RO-8", "Geometric Plan Retrieve", (ARCHIVE,), (DOSIMETRIC_PLANNER,),
                ("RTPLAN",)),
    Transaction("RO-9", "Dosimetric Plan Retrieve", (ARCHIVE,), (DOSE_DISPLAYER,), ("RTPLAN",)),
    Transaction("RO-10", "Dose Retrieve", (ARCHIVE,), (DOSE_DISPLAYER,), ("RTDOSE",)),
    Transaction("RO-11", "Resampled/Combined CT Series Storage", (CONTOURER,), (ARCHIVE,),
                ("CT",)),
)}


def order(transaction: str) -> tuple[int, str]:
    """Sort key: RO-2 before RO-10, the conformance tables after RO-11."""
    match = re.fullmatch(r"RO-(\d+)", transaction)
    return (int(match.group(1)), "") if match else (99, transaction)


def transactions_in(text: str) -> tuple[str, ...]:
    """'RO-6, RO-11 and RO-2' → ('RO-6', 'RO-11', 'RO-2'): a chain, in order."""
    return tuple(re.findall(r"RO-\d+", text))

"""DIMSE statuses as a reviewer reads them: the code in hex with its meaning
from the standard (PS3.4 per service class, PS3.7 Annex C for the statuses
every service shares), and what one SCU operation achieved."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset

N_SERVICES = ("N-EVENT-REPORT", "N-GET", "N-SET", "N-ACTION", "N-CREATE", "N-DELETE")

# PS3.3 C.14.1.1: Failure Reason (0008,1197) of a Storage Commitment failed item
FAILURE_REASONS = {
    0x0110: "Processing failure: a general failure in processing the operation",
    0x0112: "No such object instance: the SOP Instance is not available to the SCP",
    0x0213: "Resource limitation: not enough resources to store the SOP Instance",
    0x0122: "Referenced SOP Class not supported by the SCP",
    0x0119: "Class/Instance conflict: the SOP Class is not the one registered for the "
            "SOP Instance at the SCP",
    0x0131: "Duplicate transaction UID: the Transaction UID is already in use",
}


def _tables() -> dict[str, dict]:
    """Per DIMSE service, the statuses it may answer with (pynetdicom's
    transcription of PS3.4 and PS3.7 C). An N-service's own statuses are
    those of PS3.7 C plus, for the UPS (PS3.4 CC.2), its 0xB3xx/0xC3xx codes:
    no other N-service class uses them, so a UPS actor's statuses print
    with their meaning without knowing the SOP class."""
    from pynetdicom import status as statuses

    ups = {code: meaning for code, meaning in
           statuses.UNIFIED_PROCEDURE_STEP_SERVICE_CLASS_STATUS.items()
           if 0xB300 <= code <= 0xC3FF and meaning[1]}
    normalised = {**statuses.GENERAL_STATUS, **ups}
    return {"C-FIND": statuses.QR_FIND_SERVICE_CLASS_STATUS,
            "C-MOVE": statuses.QR_MOVE_SERVICE_CLASS_STATUS,
            "C-GET": statuses.QR_GET_SERVICE_CLASS_STATUS,
            "C-STORE": statuses.STORAGE_SERVICE_CLASS_STATUS,
            **{service: normalised for service in N_SERVICES}}


_TABLES: dict[str, dict] = {}


def status_text(code: int, service: str = "") -> str:
    """'0xC000 Failure: Unable to Process' (PS3.4 status tables, via pynetdicom)."""
    from pynetdicom import status as statuses

    if not _TABLES:
        _TABLES.update(_tables())
    meaning = _TABLES.get(service, {}).get(code) or statuses.GENERAL_STATUS.get(code)
    if code == 0xFFFF:
        return "no status (association lost or refused)"
    if not meaning:
        return f"0x{code:04X}"
    return f"0x{code:04X} {meaning[0]}" + (f": {meaning[1]}" if meaning[1] else "")


@dataclass
class OperationResult:
    """What an SCU operation achieved, for steps and reports."""

    ok: bool
    statuses: list[int] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    message: str = ""
    problems: list[str] = field(default_factory=list)  # the peer broke PS3.4 in its answers

    def describe(self, service: str = "") -> str:
        """The statuses as a reviewer reads them: hex with their PS3.4 meaning."""
        text = ", ".join(status_text(code, service) for code in self.statuses) or "no response"
        return f"{text}{f' ({self.message})' if self.message else ''}"

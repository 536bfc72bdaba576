"""What an IHE-RO TRO actor must accept, named as a reviewer would say it:
a rejected presentation context becomes "no Study Root Query/Retrieve FIND
accepted", with the transactions that need it (IHE-RO TRO 2007: the Archive
is the Storage SCP of RO-2 … RO-5 and RO-11 and the Query/Retrieve SCP of
RO-1 and RO-6 … RO-10)."""

from __future__ import annotations

from rtconform.actors.node import QR_MODELS, ContextsRejected
from rtconform.dicom.uids import SOP_CLASS_BY_MODALITY, uid_name
from rtconform.ihe.tro import ARCHIVE, TRANSACTIONS

RETRIEVES = tuple(t.id for t in TRANSACTIONS.values() if t.senders == (ARCHIVE,))


def capability_name(sop_class: str) -> str:
    """'Study Root Query/Retrieve Information Model - FIND' → 'Study Root
    Query/Retrieve FIND'; storage classes keep their name."""
    return uid_name(sop_class).replace(" Information Model - ", " ")


def needed_by(sop_class: str, actor: str) -> tuple[str, ...]:
    """The TRO transactions in which `actor` needs `sop_class`."""
    if sop_class in {str(uid) for uid in QR_MODELS.values()}:
        return RETRIEVES if actor == ARCHIVE else ()
    modality = next((m for m, uid in SOP_CLASS_BY_MODALITY.items() if uid == sop_class), None)
    return tuple(t.id for t in TRANSACTIONS.values() if modality in t.modalities
                 and (actor in t.senders or actor in t.receivers))


def capability_missing(exc: ContextsRejected, actor: str) -> str:
    """One sentence: what the actor did not accept, and what needs it."""
    names = [capability_name(uid) for uid, _ in exc.rejected]
    needs = sorted({t for uid, _ in exc.rejected for t in needed_by(uid, actor)},
                   key=lambda t: int(t.split("-")[1]))
    text = f"no {' / '.join(names)} accepted by the {actor} under test"
    if needs:
        text += f"; IHE-RO TRO needs it of the {actor} in {', '.join(needs)}"
    return text

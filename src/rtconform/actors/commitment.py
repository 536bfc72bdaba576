"""A Storage Commitment SCU (PS3.4 J, the Push Model; IHE RAD-10): after a
producer stored its objects in an Archive, it asks the Archive to take
responsibility for them (N-ACTION, action type 1) and learns, from the
N-EVENT-REPORT that follows, which instances the Archive committed and which
failed, each with its reason (PS3.3 C.14.1.1).

The Archive may send the report on the request's association or on one it
opens to this actor later (PS3.4 J.3.3.1: it must be able to do the latter,
so it must know this AE's address: Orthanc's `DicomModalities`): the actor
listens for it on its own port and waits on both, with a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from rtconform.actors.actor import TROActor
from rtconform.actors.association import Peer
from rtconform.actors.node import identifier
from rtconform.actors.nservices import EventReport, EventReports
from rtconform.actors.result import DONE, FAILED, ActorResult
from rtconform.actors.status import FAILURE_REASONS, OperationResult

STORAGE_COMMITMENT_PUSH_MODEL = "1.2.840.10008.1.20.1"
STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"  # its well-known SOP instance
REQUEST_STORAGE_COMMITMENT = 1  # N-ACTION Action Type ID (PS3.4 J.3.2)
# N-EVENT-REPORT Event Type IDs (PS3.4 J.3.3)
EVENT_TYPES = {1: "storage commitment request successful",
               2: "storage commitment request complete - failure exists"}
SOURCE = "DICOM PS3.4 J.3.3.1.2"

Reference = tuple[str, str]  # (SOP Class UID, SOP Instance UID)


def references(items: Iterable[Path | Dataset]) -> list[Reference]:
    """The (SOP class, SOP instance) of each file or data set, headers only."""
    out = []
    for item in items:
        ds = pydicom.dcmread(item, stop_before_pixels=True) if isinstance(item, str | Path) \
            else item
        out.append((str(ds.SOPClassUID), str(ds.SOPInstanceUID)))
    return out


def request_information(transaction_uid: str, refs: list[Reference]) -> Dataset:
    """The N-ACTION's Action Information (PS3.4 Table J.3-1)."""
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    ds.ReferencedSOPSequence = [_item(sop_class, sop_instance) for sop_class, sop_instance in refs]
    return ds


def _item(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    return item


@dataclass
class Commitment:
    """What the Archive answered to one storage commitment request."""

    archive: str
    transaction_uid: str
    requested: list[Reference]
    action: OperationResult
    report: EventReport | None = None
    committed: list[Reference] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)  # SOP Instance UID → Failure Reason
    problems: list[str] = field(default_factory=list)  # where the report breaks PS3.4 J.3.3

    @property
    def ok(self) -> bool:
        """Everything requested committed, as PS3.4 J.3.3 says to report it."""
        return self.report is not None and not self.failed and not self.problems \
            and {uid for _, uid in self.committed} == {uid for _, uid in self.requested}

    def describe(self) -> str:
        """One line for the console and the evidence."""
        if not self.action.ok:
            return (f"{self.archive} refused the storage commitment request: N-ACTION "
                    f"{self.action.describe('N-ACTION')}")
        if self.report is None:
            return f"{self.archive}: {'; '.join(self.problems)}"
        where = "on the request's association" if self.report.own else \
            f"on an association {self.report.calling_ae} opened"
        text = (f"{self.archive} committed {len(self.committed)} of {len(self.requested)} "
                f"instance(s) (N-EVENT-REPORT event type {self.report.event_type}, {where})")
        if self.failed:
            text += "; failed: " + "; ".join(
                f"{uid} (0x{reason:04X} {FAILURE_REASONS.get(reason, 'unknown reason')})"
                for uid, reason in self.failed.items())
        return text + "".join(f"; {p}" for p in self.problems)


def read_report(commitment: Commitment, report: EventReport) -> None:
    """Fold the N-EVENT-REPORT into `commitment`, noting each breach of PS3.4
    J.3.3.1.2: another Transaction UID, an event type that contradicts the
    failed list, a requested instance in neither list, one never requested."""
    info = report.information
    commitment.report = report
    commitment.committed = [(str(i.get("ReferencedSOPClassUID", "")),
                             str(i.get("ReferencedSOPInstanceUID", "")))
                            for i in info.get("ReferencedSOPSequence", [])]
    commitment.failed = {str(i.get("ReferencedSOPInstanceUID", "")):
                         int(i.get("FailureReason", 0x0110))
                         for i in info.get("FailedSOPSequence", [])}
    problems = commitment.problems
    if str(info.get("TransactionUID", "")) != commitment.transaction_uid:
        problems.append(f"the report's Transaction UID {info.get('TransactionUID', '(none)')} "
                        f"is not the request's ({SOURCE})")
    if report.event_type not in EVENT_TYPES or \
            (report.event_type == 2) != bool(commitment.failed):
        problems.append(f"event type {report.event_type} with {len(commitment.failed)} failed "
                        f"instance(s) ({SOURCE}: 1 when all are committed, 2 when one failed)")
    answered = {uid for _, uid in commitment.committed} | set(commitment.failed)
    wanted = {uid for _, uid in commitment.requested}
    if missing := sorted(wanted - answered):
        problems.append(f"{len(missing)} requested instance(s) in neither list, e.g. "
                        f"{missing[0]} ({SOURCE}: the report lists every one)")
    if extra := sorted(answered - wanted):
        problems.append(f"{len(extra)} instance(s) reported that were not requested, e.g. "
                        f"{extra[0]}")


class StorageCommitter(TROActor):
    """The Storage Commitment SCU a TRO producer uses after storing. Its
    reports arrive at its one listening AE (the C-MOVE receiver's): the
    Archive must know that AE's title, host and port (`report_port`)."""

    actor = "Storage Commitment Requester"
    default_ae = "COMMITTER"

    def __init__(self, *args, report_port: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.report_port = report_port
        self.events = EventReports(self.recorder, self.actor)
        self.listen_for_reports(self.events, [STORAGE_COMMITMENT_PUSH_MODEL])

    def listen(self) -> Peer:
        """Start (once) the AE the Archive sends its reports to; `stop_receiver` ends it."""
        return self.start_receiver(self.workdir / "received", port=self.report_port)

    def commit(self, archive: Peer, items: Iterable[Path | Dataset],
               wait: float | None = None) -> Commitment:
        """Ask `archive` to commit `items` (files or data sets it was sent) and
        wait up to `wait` seconds (the DIMSE timeout by default) for its report."""
        return self.commit_references(archive, references(items), wait)

    def store_and_commit(self, archive: Peer, items: list[Path | Dataset],
                         wait: float | None = None) -> tuple[OperationResult, Commitment]:
        """What a producer does: C-STORE its objects, then ask for commitment."""
        return self.store(archive, items), self.commit(archive, items, wait)

    def commit_study(self, archive: Peer, study_uid: str,
                     wait: float | None = None) -> Commitment:
        """Ask `archive` to commit every instance it lists for a study
        (C-FIND at SERIES, then IMAGE level)."""
        refs = []
        for series_uid in self.series_of(archive, study_uid):
            found = self.find(archive, identifier("IMAGE", StudyInstanceUID=study_uid,
                                                  SeriesInstanceUID=series_uid,
                                                  SOPClassUID="", SOPInstanceUID=""))
            refs += [(str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", "")))
                     for ds in found.datasets if ds.get("SOPInstanceUID")]
        return self.commit_references(archive, refs, wait)

    def series_of(self, archive: Peer, study_uid: str) -> list[str]:
        found = self.find(archive, identifier("SERIES", StudyInstanceUID=study_uid,
                                              SeriesInstanceUID=""))
        return list(dict.fromkeys(str(ds.SeriesInstanceUID) for ds in found.datasets
                                  if ds.get("SeriesInstanceUID")))

    def commit_references(self, archive: Peer, refs: list[Reference],
                          wait: float | None = None) -> Commitment:
        self.listen()
        transaction = generate_uid()
        timeout = self.timeouts.dimse if wait is None else wait
        deadline = time.monotonic() + timeout

        def ours(report: EventReport) -> bool:
            return str(report.information.get("TransactionUID", "")) == transaction

        action = self.n_action(archive, STORAGE_COMMITMENT_PUSH_MODEL,
                               STORAGE_COMMITMENT_INSTANCE, REQUEST_STORAGE_COMMITMENT,
                               request_information(transaction, refs), events=self.events,
                               until=ours, linger=timeout)
        commitment = Commitment(str(archive), transaction, refs, action)
        if action.ok:
            report = self.events.wait(ours, max(0.0, deadline - time.monotonic()))
            if report is None:
                commitment.problems.append(f"no N-EVENT-REPORT for transaction {transaction} "
                                           f"within {timeout:g} s ({SOURCE})")
            else:
                read_report(commitment, report)
        self.recorder.note(self.actor, commitment.describe(), transaction=transaction,
                           committed=[uid for _, uid in commitment.committed],
                           failed={uid: f"0x{r:04X}" for uid, r in commitment.failed.items()})
        return commitment


def request_commitment(actor: StorageCommitter, archive: Peer, study_uid: str) -> ActorResult:
    """The act its registry entry names (IHE RAD-10): the Archive is asked to
    commit the study; done when it committed every instance it listed."""
    commitment = actor.commit_study(archive, study_uid)
    return ActorResult(status=DONE if commitment.ok else FAILED, reason=commitment.describe())

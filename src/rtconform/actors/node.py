"""The C-services of an actor's SCU side (echo, store, find, move, get) and
its C-MOVE receiver, on top of association.py (associations, failures),
receiver.py (the Storage SCP handler), status.py (statuses) and nservices.py
(DIMSE-N): `ServiceUser` is an actor's whole SCU side. The names other
modules import from here stay importable from here.

Every network wait has a timeout; every listening port comes from the OS
unless the user names one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom import build_role, evt
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from rtconform.actors.association import (  # noqa: F401 - re-exported for the actors
    ABORT_SOURCES,
    CONTEXT_RESULTS,
    AssociationAborted,
    AssociationRejected,
    ContextsRejected,
    NoAnswer,
    Peer,
    PeerUnreachable,
    Timeouts,
    make_ae,
    no_association,
    stop_server,
)
from rtconform.actors.guard import ConnectionLimits, start_guarded_server
from rtconform.actors.nservices import NormalisedUser
from rtconform.actors.query import response_problems
from rtconform.actors.receiver import StorageReceiver
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.status import OperationResult, status_text  # noqa: F401 - re-exported
from rtconform.actors.storage import InstanceStore
from rtconform.actors.tls import TLSConfig
from rtconform.dicom.uids import STORAGE_SOP_CLASSES

DEFAULT_TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                             DeflatedExplicitVRLittleEndian]

QR_MODELS = {
    ("patient", "find"): PatientRootQueryRetrieveInformationModelFind,
    ("patient", "move"): PatientRootQueryRetrieveInformationModelMove,
    ("patient", "get"): PatientRootQueryRetrieveInformationModelGet,
    ("study", "find"): StudyRootQueryRetrieveInformationModelFind,
    ("study", "move"): StudyRootQueryRetrieveInformationModelMove,
    ("study", "get"): StudyRootQueryRetrieveInformationModelGet,
}


def transfer_syntax_of(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return str(meta.TransferSyntaxUID)
    implicit = ds.original_encoding[0] if hasattr(ds, "original_encoding") else True
    return ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


class ServiceUser(NormalisedUser):
    """An actor's SCU side: each operation opens one recorded association
    (the N-services come from NormalisedUser)."""

    def __init__(self, ae_title: str, recorder: AssociationRecorder, actor: str,
                 timeouts: Timeouts | None = None,
                 transfer_syntaxes: list[str] | None = None,
                 tls: TLSConfig | None = None) -> None:
        super().__init__(ae_title, recorder, actor, timeouts, tls)
        self.transfer_syntaxes = transfer_syntaxes or DEFAULT_TRANSFER_SYNTAXES
        self._receiver_server = None
        self.receiver_store: InstanceStore | None = None
        self.problems: list[str] = []  # every PS3.4 breach seen in the peer's answers

    def echo(self, peer: Peer) -> OperationResult:
        ae = make_ae(self.ae_title, self.timeouts)
        ae.add_requested_context(Verification)
        assoc = self._associate(ae, peer)
        try:
            status = assoc.send_c_echo()
            code = int(status.Status) if status else 0xFFFF
            return OperationResult(code == 0, [code])
        finally:
            assoc.release()

    def accepts(self, peer: Peer, sop_class: str, transfer_syntax: str) -> bool:
        """Propose one context (and Verification): did the peer accept it?"""
        ae = make_ae(self.ae_title, self.timeouts)
        ae.add_requested_context(sop_class, [transfer_syntax])
        ae.add_requested_context(Verification)
        assoc = self._associate(ae, peer)
        accepted = any(c.abstract_syntax == sop_class for c in assoc.accepted_contexts)
        assoc.release()
        return accepted

    def store(self, peer: Peer, items: Iterable[Path | Dataset]) -> OperationResult:
        """C-STORE files or datasets: one context per (SOP class, transfer
        syntax) actually needed, in one association."""
        # A file is sent in the transfer syntax it has on disk, one context per
        # (SOP class, transfer syntax); pynetdicom reads it whole to send it
        # (its chunked send is off), here only its header is read.
        items = list(items)
        headers = [pydicom.dcmread(i, stop_before_pixels=True) if isinstance(i, str | Path)
                   else i for i in items]
        ae = make_ae(self.ae_title, self.timeouts)
        pairs = sorted({(str(ds.SOPClassUID), transfer_syntax_of(ds)) for ds in headers})
        for sop_class, syntax in pairs:
            ae.add_requested_context(sop_class, [syntax])
        assoc = self._associate(ae, peer)
        result = OperationResult(True)
        try:
            for item, ds in zip(items, headers, strict=True):
                try:
                    status = assoc.send_c_store(item)
                except (ValueError, AttributeError) as exc:  # e.g. a UID pynetdicom refuses
                    self.recorder.note(self.actor, f"not sent: {exc}",
                                       sop_instance=str(ds.get("SOPInstanceUID", "")))
                    result.statuses.append(0xFFFF)
                    result.ok = False
                    result.message = str(exc)
                    continue
                code = int(status.Status) if status else 0xFFFF
                result.statuses.append(code)
                if code not in (0x0000, 0xB000, 0xB007, 0xB006):
                    result.ok = False
            return result
        finally:
            if assoc.is_established:
                assoc.release()

    def find(self, peer: Peer, identifier: Dataset, model: str = "study") -> OperationResult:
        ae = make_ae(self.ae_title, self.timeouts)
        uid = QR_MODELS[(model, "find")]
        ae.add_requested_context(uid, self.transfer_syntaxes[:2])
        assoc = self._associate(ae, peer)
        self._require(assoc, uid, peer)
        result = OperationResult(True)
        self.recorder.identifier(assoc, self.actor, "C-FIND-RQ", identifier)
        try:
            for status, rsp in assoc.send_c_find(identifier, uid):
                code = int(status.Status) if status else 0xFFFF
                result.statuses.append(code)
                if code in (0xFF00, 0xFF01) and rsp is not None:
                    self.recorder.identifier(assoc, self.actor, "C-FIND-RSP", rsp)
                    result.datasets.append(rsp)
                elif code != 0:
                    result.ok = False
            result.problems = response_problems(identifier, result.datasets)
            for problem in result.problems:
                self.recorder.note(self.actor, problem, assoc=self.recorder.assoc_id(assoc))
            self.problems += result.problems
            return result
        finally:
            if assoc.is_established:
                assoc.release()

    # -- retrieval ------------------------------------------------------------------
    def start_receiver(self, store_dir: Path, port: int = 0, host: str = "127.0.0.1") -> Peer:
        """The actor's one listening AE, on an OS-chosen port by default: a
        Storage SCP for C-MOVE results and, when the actor listens for
        reports (`listen_for_reports`), the N-EVENT-REPORTs a peer sends on
        associations it opens, as a modality's single AE takes both."""
        if self._receiver_server is not None:
            host, port = self._receiver_server.server_address[:2]
            return Peer(self.ae_title, host, port)
        self.receiver_store = InstanceStore(store_dir)
        # called as the C-MOVE destination the actor names (the harness's receive AE)
        ae = make_ae(getattr(self, "move_destination", None) or self.ae_title, self.timeouts)
        for uid in STORAGE_SOP_CLASSES.values():
            ae.add_supported_context(uid, self.transfer_syntaxes)
        receiver = StorageReceiver(self.receiver_store, self.recorder, self.actor)
        limits = ConnectionLimits(artim=self.timeouts.acse, idle=self.timeouts.network)
        self._receiver_server = start_guarded_server(
            ae, (host, port), [(evt.EVT_C_STORE, receiver), *self._report_handlers(ae),
                               *self._handlers()], limits,
            self.recorder, self.actor, self.tls.server_context() if self.tls else None)
        host, port = self._receiver_server.server_address[:2]
        return Peer(self.ae_title, host, port)

    def stop_receiver(self) -> None:
        if self._receiver_server is not None:
            stop_server(self._receiver_server)
            self._receiver_server = None
        if self.receiver_store is not None:
            self.receiver_store.close()

    def move(self, peer: Peer, identifier: Dataset, destination: str | None = None,
             model: str = "study") -> OperationResult:
        ae = make_ae(self.ae_title, self.timeouts)
        uid = QR_MODELS[(model, "move")]
        ae.add_requested_context(uid, self.transfer_syntaxes[:2])
        assoc = self._associate(ae, peer)
        self._require(assoc, uid, peer)
        self.recorder.identifier(assoc, self.actor, "C-MOVE-RQ", identifier)
        try:
            return _retrieve_result(assoc.send_c_move(identifier, destination or self.ae_title,
                                                      uid))
        finally:
            if assoc.is_established:
                assoc.release()

    def get(self, peer: Peer, identifier: Dataset, store_dir: Path,
            model: str = "study") -> OperationResult:
        """C-GET: the peer sends the objects back on the same association."""
        ae = make_ae(self.ae_title, self.timeouts)
        uid = QR_MODELS[(model, "get")]
        ae.add_requested_context(uid, self.transfer_syntaxes[:2])
        roles = []
        for sop_class in STORAGE_SOP_CLASSES.values():  # stays well under 128 contexts
            ae.add_requested_context(sop_class, self.transfer_syntaxes)
            roles.append(build_role(sop_class, scp_role=True))
        store = InstanceStore(store_dir)
        receiver = StorageReceiver(store, self.recorder, self.actor)
        try:
            assoc = self._associate(ae, peer, ext_neg=roles, evt_handlers=[
                (evt.EVT_C_STORE, receiver), *self._handlers()])
            self._require(assoc, uid, peer)
        except PeerUnreachable:
            store.close()
            raise
        self.recorder.identifier(assoc, self.actor, "C-GET-RQ", identifier)
        try:
            return _retrieve_result(assoc.send_c_get(identifier, uid))
        finally:
            if assoc.is_established:
                assoc.release()
            store.close()


def _retrieve_result(responses) -> OperationResult:
    """C-MOVE/C-GET responses: pending until a final status; anything but
    Success (or Pending) fails, with the sub-operation counts as the message —
    a retrieve whose sub-operations all failed is not reported as success."""
    result = OperationResult(True)
    for status, _ in responses:
        code = int(status.Status) if status else 0xFFFF
        result.statuses.append(code)
        if code not in (0x0000, 0xFF00):
            result.ok = False
            result.message = _sub_operations(status)
    return result


def _sub_operations(status: Dataset | None) -> str:
    if not status:
        return "no response (timeout or abort)"
    parts = [f"status 0x{int(status.Status):04X}"]
    for keyword in ("NumberOfCompletedSuboperations", "NumberOfFailedSuboperations",
                    "NumberOfWarningSuboperations"):
        if keyword in status:
            parts.append(f"{keyword}={status.get(keyword)}")
    return ", ".join(parts)


def identifier(level: str, **keys) -> Dataset:
    """A query/retrieve identifier, e.g. identifier('STUDY', PatientID='X',
    StudyInstanceUID='')."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


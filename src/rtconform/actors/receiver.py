"""The Storage SCP handler every receiving actor shares: the Archive's, each
retrieving actor's C-MOVE receiver and its C-GET association. A data set is
streamed to disk as it arrives, checked, and copied into an InstanceStore
atomically; every outcome is recorded."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import _config

from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.storage import InstanceStore, StoreError
from rtconform.dicom.read import DEFAULT_MAX_OBJECT_BYTES, check_bytes, check_structure


def _encode(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# A received C-STORE data set goes to a temporary file as its fragments arrive
# (pynetdicom's chunked receive), never whole into memory: with the guard's
# per-message bound, what one C-STORE costs the receiver is disk, not RAM.
_config.STORE_RECV_CHUNKED_DATASET = True


def discard_received(event) -> None:
    """Remove the temporary file a chunked receive wrote. pynetdicom removes it
    after a C-STORE received by an SCP, but not after one received on the SCU's
    own C-GET association (`Association._c_store_scp`, pynetdicom 3.0): every
    retrieved instance was left in the temporary folder (185,000 files on this
    machine after some days of tests). The store has its own copy by now."""
    file = getattr(event.request, "_dataset_file", None)
    if file is None:
        return
    file.close()
    with contextlib.suppress(OSError):
        os.unlink(file.name)


class StorageReceiver:
    """A C-STORE SCP handler writing into an InstanceStore and recording every
    dataset: the Archive's and every retrieving actor's. The data set arrives
    as a file (pynetdicom writes it as it is received); its element stream is
    walked there, its header decoded, and the file copied into the store
    atomically — memory does not grow with the size of what is sent."""

    def __init__(self, store: InstanceStore, recorder: AssociationRecorder, actor: str,
                 drop: list[str] | None = None,
                 max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> None:
        self.store = store
        self.recorder = recorder
        self.actor = actor
        self.drop = drop or []
        self.max_object_bytes = max_object_bytes

    def _without(self, received: Path | bytes) -> bytes:
        ds = pydicom.dcmread(received if isinstance(received, Path) else io.BytesIO(received))
        for keyword in self.drop:
            if keyword in ds:
                del ds[keyword]
        return _encode(ds)

    def _received(self, event) -> tuple[Path | bytes, Dataset]:
        """The received data set (its file, or bytes without chunked receive)
        and its header, both checked; raises on what cannot be decoded."""
        try:
            path = Path(event.dataset_path)
        except AttributeError:  # chunked receive off (another pynetdicom user)
            received: Path | bytes = event.encoded_dataset(include_meta=True)
            check_bytes(received)
            ds = pydicom.dcmread(io.BytesIO(received), stop_before_pixels=True)
        else:
            if path.stat().st_size > self.max_object_bytes + (1 << 16):
                raise StoreError(0xA700, f"data set larger than the "
                                         f"{self.max_object_bytes >> 20} MB allowed")
            # pydicom decodes a truncated element quietly: walk the stream first
            check_structure(path, self.max_object_bytes)
            received = path
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        ds.file_meta = event.file_meta
        for _ in ds.iterall():  # a dataset that cannot be decoded fails now
            pass
        return received, ds

    def __call__(self, event) -> int:
        try:
            return self._handle(event)
        finally:
            discard_received(event)

    def _handle(self, event) -> int:
        calling = str(event.assoc.requestor.ae_title).strip()
        sop_uid = str(event.request.AffectedSOPInstanceUID or "")
        try:
            received, ds = self._received(event)
        except StoreError as exc:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid,
                                 status=f"0x{exc.status:04X}", reason=exc.reason)
            return exc.status
        except Exception as exc:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid, status="0xC210",
                                 reason=f"cannot decode dataset: {type(exc).__name__}: {exc}")
            return 0xC210
        if str(ds.get("SOPInstanceUID", "")) != sop_uid:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid, status="0xA900",
                                 reason="dataset SOP Instance UID differs from the C-STORE "
                                        "request's Affected SOP Instance UID")
            return 0xA900
        if self.drop:
            received = self._without(received)
        try:
            outcome = self.store.store(received, ds, str(event.context.transfer_syntax),
                                       calling)
        except StoreError as exc:
            self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid,
                                 status=f"0x{exc.status:04X}", reason=exc.reason)
            return exc.status
        self.recorder.stored(event.assoc, self.actor, sop_instance=sop_uid,
                             sop_class=str(ds.get("SOPClassUID", "")), status="0x0000",
                             dropped=self.drop or None,
                             path=str(outcome.path), duplicate=outcome.duplicate)
        return 0x0000

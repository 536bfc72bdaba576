"""The IHE-RO Archive actor: Storage SCP for RT objects and the images they
use, Query/Retrieve SCP (Patient Root and Study Root FIND, MOVE, GET) over a
persistent store.

It answers RO-2/3/4/5/11 storage and RO-1/6/7/8/9/10 retrieval, stores at
level 2 (every attribute kept: the received bytes are written as they came)
and records every association.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pynetdicom import evt

from rtconform.actors.association import Peer, Timeouts, _nodelay, make_ae, stop_server
from rtconform.actors.guard import ConnectionLimits, start_guarded_server
from rtconform.actors.node import DEFAULT_TRANSFER_SYNTAXES, QR_MODELS
from rtconform.actors.query import QueryError, find_responses, level_of, matching_rows
from rtconform.actors.receiver import StorageReceiver
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.storage import InstanceStore
from rtconform.actors.tls import TLSConfig
from rtconform.dicom.read import DEFAULT_MAX_OBJECT_BYTES
from rtconform.dicom.uids import STORAGE_SOP_CLASSES

ACTOR = "Archive"


@dataclass
class ArchiveConfig:
    ae_title: str = "ARCHIVE"
    host: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks a free port
    store_dir: Path = Path("archive")
    allow: list[str] = field(default_factory=list)  # calling AE titles; empty: anyone
    move_destinations: dict[str, tuple[str, int]] = field(default_factory=dict)
    max_associations: int = 10
    max_pending: int = 64  # connections not yet associated, counted apart
    max_pending_per_address: int = 0  # of them from one address; 0: a quarter
    check_called_ae: bool = True
    tls: TLSConfig | None = None  # DICOM TLS, listening and for C-MOVE sub-associations
    transfer_syntaxes: list[str] = field(default_factory=lambda: list(DEFAULT_TRANSFER_SYNTAXES))
    duplicate_policy: str = "keep"
    timeouts: Timeouts = field(default_factory=Timeouts)
    # A misbehaving archive on purpose: these attributes are dropped on storage,
    # to see what a receiver (or a scenario) makes of it.
    drop_attributes: list[str] = field(default_factory=list)
    # one data set larger than this is refused (0xA700) and the association
    # aborted while it arrives; what is received goes to disk, not memory
    max_object_mb: int = DEFAULT_MAX_OBJECT_BYTES >> 20


class Archive:
    def __init__(self, config: ArchiveConfig, recorder: AssociationRecorder) -> None:
        self.config = config
        self.recorder = recorder
        self.store = InstanceStore(config.store_dir, config.duplicate_policy)
        self._server = None

    @property
    def peer(self) -> Peer:
        host, port = self._server.server_address[:2]
        return Peer(self.config.ae_title, host, port)

    def add_move_destination(self, ae_title: str, host: str, port: int) -> None:
        self.config.move_destinations[ae_title] = (host, port)

    def start(self) -> Peer:
        cfg = self.config
        ae = make_ae(cfg.ae_title, cfg.timeouts)
        if cfg.allow:
            ae.require_calling_aet = list(cfg.allow)
        ae.add_supported_context("1.2.840.10008.1.1", cfg.transfer_syntaxes)
        for uid in QR_MODELS.values():
            ae.add_supported_context(uid, cfg.transfer_syntaxes)
        for uid in STORAGE_SOP_CLASSES.values():
            # Roles accepted as proposed: a C-GET requestor asks to be the SCP.
            ae.add_supported_context(uid, cfg.transfer_syntaxes, scu_role=True, scp_role=True)
            # C-MOVE sub-operations: the Archive proposes storage as an SCU.
            ae.add_requested_context(uid, cfg.transfer_syntaxes[:2])
        handlers = [
            (evt.EVT_CONN_OPEN, _nodelay),
            (evt.EVT_C_ECHO, lambda event: 0x0000),
            (evt.EVT_C_STORE, StorageReceiver(self.store, self.recorder, ACTOR,
                                              drop=cfg.drop_attributes,
                                              max_object_bytes=cfg.max_object_mb << 20)),
            (evt.EVT_C_FIND, self._on_find),
            (evt.EVT_C_MOVE, self._on_move),
            (evt.EVT_C_GET, self._on_get),
            *self.recorder.handlers(ACTOR),
        ]
        limits = ConnectionLimits(max_associations=cfg.max_associations,
                                  max_pending=cfg.max_pending,
                                  max_pending_per_address=cfg.max_pending_per_address,
                                  artim=cfg.timeouts.acse,
                                  max_object_bytes=cfg.max_object_mb << 20,
                                  idle=cfg.timeouts.network, check_called_ae=cfg.check_called_ae)
        self._server = start_guarded_server(ae, (cfg.host, cfg.port), handlers, limits,
                                            self.recorder, ACTOR,
                                            cfg.tls.server_context() if cfg.tls else None)
        for path in self.store.removed_partials:
            self.recorder.note(ACTOR, f"removed {path}: half-written by an earlier run")
        return self.peer

    def stop(self) -> None:
        if self._server is not None:
            stop_server(self._server)
            self._server = None
        self.store.close()

    def __enter__(self) -> Archive:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- query / retrieve --------------------------------------------------------
    def _on_find(self, event):
        try:
            responses = find_responses(self.store.rows(), event.identifier)
        except QueryError as exc:
            self.recorder.note(ACTOR, f"C-FIND refused: {exc}")
            yield 0xA900, None  # Identifier does not match SOP Class
            return
        except Exception as exc:  # an identifier we cannot decode
            self.recorder.note(ACTOR, f"C-FIND failed: {type(exc).__name__}: {exc}")
            yield 0xC000, None
            return
        for rsp in responses:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, rsp

    def _matched_paths(self, event) -> list[Path]:
        identifier = event.identifier
        level = level_of(identifier)
        return [Path(r["path"]) for r in matching_rows(self.store.rows(), identifier, level)]

    def _retrieve(self, event, destination=None):
        """Yield what pynetdicom expects of a C-MOVE/C-GET handler. An identifier
        we cannot process raises after the destination: pynetdicom then
        answers with its 0xC5xx/0xC4xx 'unable to process' status."""
        if destination is not None:
            yield destination
        try:
            paths = self._matched_paths(event)
        except Exception as exc:
            self.recorder.note(ACTOR, f"retrieve refused: {type(exc).__name__}: {exc}")
            raise
        yield len(paths)
        for path in paths:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            try:
                ds = pydicom.dcmread(path)
            except Exception as exc:
                self.recorder.note(ACTOR, f"cannot read {path}: {exc}")
                yield 0xA702, None  # this sub-operation fails; the others go on
                continue
            yield 0xFF00, ds

    def _on_move(self, event):
        dest = str(event.move_destination).strip()
        if dest not in self.config.move_destinations:
            self.recorder.note(ACTOR, f"C-MOVE destination {dest!r} is not configured")
            yield None, None  # pynetdicom answers 0xA801 Move Destination unknown
            return
        host, port = self.config.move_destinations[dest]
        # the sub-association is recorded too, and gets TCP_NODELAY
        kwargs = {"evt_handlers": [(evt.EVT_CONN_OPEN, _nodelay),
                                   *self.recorder.handlers(ACTOR)]}
        if self.config.tls is not None:
            kwargs["tls_args"] = (self.config.tls.client_context(), host)
        yield from self._retrieve(event, destination=(host, port, kwargs))

    def _on_get(self, event):
        yield from self._retrieve(event)


def parse_move_destinations(values: list[str]) -> dict[str, tuple[str, int]]:
    out = {}
    for value in values:
        peer = Peer.parse(value)
        out[peer.ae_title] = (peer.host, peer.port)
    return out


def check_ae_title(title: str) -> str:
    """AE titles: 1-16 characters, no backslash or control characters."""
    if not 0 < len(title) <= 16 or "\\" in title or any(ord(c) < 32 for c in title):
        raise ValueError(f"invalid AE title {title!r}")
    return title


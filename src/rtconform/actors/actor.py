"""What the four retrieving/producing TRO actors share: find the series of a
study by modality, retrieve them (C-MOVE to themselves or C-GET), and store
what they produce."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from rtconform.actors.node import OperationResult, Peer, ServiceUser, identifier
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.storage import InstanceStore
from rtconform.dicom.uids import DEFAULT_UID_ROOT


class RetrieveFailed(Exception):
    """A retrieval the actor needs did not deliver."""


class TROActor(ServiceUser):
    actor = "Actor"
    default_ae = "RTCONFORM"

    def __init__(self, recorder: AssociationRecorder, workdir: Path, ae_title: str | None = None,
                 method: str = "get", uid_root: str = DEFAULT_UID_ROOT, **kwargs) -> None:
        super().__init__(ae_title or self.default_ae, recorder, self.actor, **kwargs)
        if method not in ("get", "move"):
            raise ValueError("retrieve method must be 'get' or 'move'")
        self.workdir = Path(workdir)
        self.method = method
        self.uid_root = uid_root
        # where C-MOVE sends: this AE by default; the harness names its receive AE
        self.move_destination: str | None = None
        # a deliberately careless receiver: accepts input it would refuse
        self.lenient = False

    def series(self, peer: Peer, study_uid: str, modality: str) -> list[str]:
        """Series Instance UIDs of one modality in a study (C-FIND, SERIES level)."""
        found = self.find(peer, identifier("SERIES", StudyInstanceUID=study_uid,
                                           Modality=modality, SeriesInstanceUID=""))
        if not found.ok:
            raise RetrieveFailed(f"C-FIND of {modality} series failed: "
                                 f"{found.describe('C-FIND')}")
        # each series once, whatever the peer answered (a duplicate answer is a
        # finding of its own, kept in self.problems; retrieving it twice is not)
        return list(dict.fromkeys(str(ds.get("SeriesInstanceUID", "")) for ds in found.datasets
                                  if str(ds.get("SeriesInstanceUID", ""))))

    def retrieve(self, peer: Peer, query: Dataset) -> list[Dataset]:
        """Retrieve by C-GET or C-MOVE-to-self; return the datasets received."""
        target = self.workdir / "received"
        if self.method == "get":
            before = _paths(target)
            result = self.get(peer, query, target)
        else:
            self.start_receiver(target)
            before = _paths(target)
            result = self.move(peer, query, self.move_destination)
        _check(result, query)
        new = sorted(_paths(target) - before)
        return [pydicom.dcmread(p) for p in new] or self._already_held(target, query)

    @staticmethod
    def _already_held(target: Path, query: Dataset) -> list[Dataset]:
        """A second retrieval of the same objects (kept as duplicates)."""
        store = InstanceStore(target)
        try:
            key = "SeriesInstanceUID" if "SeriesInstanceUID" in query else "StudyInstanceUID"
            col = "series_uid" if key == "SeriesInstanceUID" else "study_uid"
            return [pydicom.dcmread(r["path"]) for r in store.rows()
                    if r[col] == str(query.get(key))]
        finally:
            store.close()

    def retrieve_modality(self, peer: Peer, study_uid: str, modality: str) -> list[Dataset]:
        out = []
        for series_uid in self.series(peer, study_uid, modality):
            out += self.retrieve(peer, identifier("SERIES", StudyInstanceUID=study_uid,
                                                  SeriesInstanceUID=series_uid))
        if not out:
            raise RetrieveFailed(f"no {modality} objects in study {study_uid}")
        return out

    def store_all(self, peer: Peer, datasets: list[Dataset]) -> OperationResult:
        result = self.store(peer, datasets)
        if not result.ok:
            self.recorder.note(self.actor, "C-STORE not accepted",
                               statuses=[f"0x{s:04X}" for s in result.statuses])
        return result


def _paths(folder: Path) -> set[Path]:
    """What a store folder holds, by its index (files may live in a run's
    shared, content-addressed objects folder)."""
    if not (folder / "index.sqlite").is_file():
        return set()
    store = InstanceStore(folder)
    try:
        return set(store.paths())
    finally:
        store.close()


def _check(result: OperationResult, query: Dataset) -> None:
    if not result.ok:
        raise RetrieveFailed(f"retrieve of {query.QueryRetrieveLevel} failed: "
                             f"{result.message or result.statuses}")

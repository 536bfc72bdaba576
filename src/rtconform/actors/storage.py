"""The Archive's (and every receiving actor's) instance store: files in a
folder, an SQLite index beside them, so a restarted Archive still answers
queries for what it holds.

What was acknowledged with Success is on disk: the bytes go to a temporary
name, are fsynced, renamed into place, and only then indexed. File names are
built from UIDs that pass the PS3.5 grammar, never from anything else a peer
sent; an invalid UID gets a hash-derived name instead.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from rtconform.dicom.uids import safe_file_stem
from rtconform.dicom.writer import atomic_write as _atomic_write

# Index columns: (column, DICOM keyword, query level the attribute belongs to)
COLUMNS = (
    ("patient_id", "PatientID", "PATIENT"),
    ("patient_name", "PatientName", "PATIENT"),
    ("patient_birth_date", "PatientBirthDate", "PATIENT"),
    ("patient_sex", "PatientSex", "PATIENT"),
    ("study_uid", "StudyInstanceUID", "STUDY"),
    ("study_date", "StudyDate", "STUDY"),
    ("study_time", "StudyTime", "STUDY"),
    ("accession_number", "AccessionNumber", "STUDY"),
    ("study_id", "StudyID", "STUDY"),
    ("study_description", "StudyDescription", "STUDY"),
    ("referring_physician", "ReferringPhysicianName", "STUDY"),
    ("series_uid", "SeriesInstanceUID", "SERIES"),
    ("modality", "Modality", "SERIES"),
    ("series_number", "SeriesNumber", "SERIES"),
    ("series_description", "SeriesDescription", "SERIES"),
    ("sop_instance_uid", "SOPInstanceUID", "IMAGE"),
    ("sop_class_uid", "SOPClassUID", "IMAGE"),
    ("instance_number", "InstanceNumber", "IMAGE"),
)
KEYWORD_TO_COLUMN = {kw: col for col, kw, _ in COLUMNS}
LEVEL_OF = {kw: level for _, kw, level in COLUMNS}
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
UNIQUE_KEY = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID",
              "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}

DUPLICATE_POLICIES = ("keep", "overwrite", "reject")


class StoreError(Exception):
    """The object could not be stored; `status` is the C-STORE status to return."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class StoreOutcome:
    path: Path
    duplicate: str = ""  # "", "kept", "overwritten"


_SHARED_OBJECTS: Path | None = None


def share_objects(folder: Path | None, clean: bool = True) -> None:
    """Let every store opened from now on keep its bytes in one content-
    addressed folder (a run's `objects/`): the same object received by ten
    scenarios is on disk once, each store's index pointing at it. `clean`
    removes what a killed writer left; never when other processes of the
    same run write there now (their files in flight are not leftovers)."""
    global _SHARED_OBJECTS
    _SHARED_OBJECTS = Path(folder) if folder is not None else None
    if _SHARED_OBJECTS is not None and clean:
        remove_partials(_SHARED_OBJECTS)


def remove_partials(folder: Path) -> list[Path]:
    """Delete the temporary files a killed writer left (`.incoming-*.part`):
    nothing was acknowledged for them, and a restart must start clean."""
    removed = []
    for path in sorted(Path(folder).rglob(".incoming-*.part")) if Path(folder).is_dir() else []:
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


class InstanceStore:
    def __init__(self, folder: Path, duplicate_policy: str = "keep",
                 objects: Path | None = None) -> None:
        if duplicate_policy not in DUPLICATE_POLICIES:
            raise ValueError(f"duplicate policy must be one of {DUPLICATE_POLICIES}")
        self.objects = objects or _SHARED_OBJECTS  # None: files under `folder` by UID
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.removed_partials = remove_partials(self.folder)
        self.duplicate_policy = duplicate_policy
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.folder / "index.sqlite", check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA page_size=1024")  # small indexes: a run holds a hundred
        self._db.execute("PRAGMA journal_mode=WAL")
        cols = ", ".join(f"{c} TEXT" for c, _, _ in COLUMNS if c != "sop_instance_uid")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS instances (sop_instance_uid TEXT PRIMARY "
                         f"KEY, {cols}, transfer_syntax TEXT, path TEXT, received_at REAL, "
                         f"calling_ae TEXT)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing ------------------------------------------------------------
    def _path_for(self, ds: Dataset, encoded: bytes | Path) -> Path:
        if self.objects is not None:  # by content: immutable, written once for the run
            digest = _sha256(encoded)
            return self.objects / digest[:2] / f"{digest}.dcm"
        study = safe_file_stem(ds.get("StudyInstanceUID"), "study-" + _digest(
            ds.get("StudyInstanceUID")))
        series = safe_file_stem(ds.get("SeriesInstanceUID"), "series-" + _digest(
            ds.get("SeriesInstanceUID")))
        sop = safe_file_stem(ds.get("SOPInstanceUID"), "instance-" + _digest(
            ds.get("SOPInstanceUID")))
        return self.folder / study / series / f"{sop}.dcm"

    def store(self, encoded: bytes | Path, ds: Dataset, transfer_syntax: str,
              calling_ae: str = "") -> StoreOutcome:
        """Write the received bytes (preamble, file meta, dataset as received;
        or the file they were streamed into as they arrived) and index them.
        Raises StoreError with the status to answer."""
        sop_uid = str(ds.get("SOPInstanceUID", ""))
        if not sop_uid:
            raise StoreError(0xA900, "dataset has no SOP Instance UID")
        path = self._path_for(ds, encoded)
        with self._lock:
            existing = self._db.execute("SELECT path FROM instances WHERE sop_instance_uid=?",
                                        (sop_uid,)).fetchone()
            duplicate = ""
            if existing:
                if self.duplicate_policy == "reject":
                    raise StoreError(0x0111, f"duplicate SOP Instance UID {sop_uid} (policy "
                                             "reject)")
                if self.duplicate_policy == "keep":
                    return StoreOutcome(Path(existing[0]), "kept")
                duplicate = "overwritten"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if self.objects is None or not path.is_file():
                    _atomic_write(path, encoded)
            except OSError as exc:
                raise StoreError(0xA700, f"cannot write {path}: {exc}") from exc
            row = {c: _text(ds.get(kw)) for c, kw, _ in COLUMNS}
            row.update(transfer_syntax=transfer_syntax, path=str(path), received_at=time.time(),
                       calling_ae=calling_ae)
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            self._db.execute(f"INSERT OR REPLACE INTO instances ({names}) VALUES ({marks})",
                             tuple(row.values()))
        return StoreOutcome(path, duplicate)

    # -- reading --------------------------------------------------------------
    def rows(self) -> list[dict]:
        with self._lock:
            cur = self._db.execute("SELECT * FROM instances ORDER BY study_uid, series_uid, "
                                   "CAST(instance_number AS INTEGER), sop_instance_uid")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM instances").fetchone()[0]

    def paths(self) -> list[Path]:
        return [Path(r["path"]) for r in self.rows()]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _digest(value: object) -> str:
    return hashlib.sha1(str(value).encode("utf-8", "replace")).hexdigest()[:16]


def _sha256(data: bytes | Path) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with open(data, "rb") as fp:
        while chunk := fp.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

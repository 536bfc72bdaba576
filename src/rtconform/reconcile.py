"""Nothing lost: an export tree against what a receiver holds after the push.

The receiver is an Archive store folder (its SQLite index, as `rtconform
simulate archive` keeps it) or an association log (`stored` events with
status 0x0000). Every SOP instance of the tree must have been received; a
received data set must equal the file it came from (file meta aside, since
a receiver writes its own); a received instance the tree does not hold is
reported as extra.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from rtconform.actors.recorder import read_events
from rtconform.dicom.index import iter_files
from rtconform.findings import Finding, Severity, sort_key

SOURCE = "rtconform reconcile (every exported instance received, unchanged)"


@dataclass
class Reconciliation:
    found: int = 0
    received: int = 0
    missing: int = 0
    differ: int = 0
    extra: int = 0
    findings: list[Finding] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.found} found, {self.received} received, {self.missing} missing, "
                f"{self.differ} differ, {self.extra} extra")


def received_instances(source: Path) -> dict[str, Path | None]:
    """SOP Instance UID → the received file (None when only the log says so)."""
    source = Path(source)
    index = source / "index.sqlite" if source.is_dir() else None
    if index is not None and index.is_file():
        with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
            return {uid: Path(path) for uid, path in
                    db.execute("SELECT sop_instance_uid, path FROM instances")}
    log = source / "associations.jsonl" if source.is_dir() else source
    if not log.is_file():
        raise FileNotFoundError(f"{source}: neither an Archive store (index.sqlite) nor an "
                                "association log")
    return {e["sop_instance"]: Path(e["path"]) if e.get("path") else None
            for e in read_events(log)
            if e.get("event") == "stored" and e.get("status") == "0x0000"
            and e.get("sop_instance")}


def _same_data_set(a: Path, b: Path) -> bool:
    x, y = pydicom.dcmread(a, force=True), pydicom.dcmread(b, force=True)
    return x == y  # every element, pixel data included; the file meta is not compared


def reconcile(tree: Path, source: Path) -> Reconciliation:
    result = Reconciliation()
    received = received_instances(source)
    in_tree: dict[str, Path] = {}
    for path in iter_files([tree]):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True,
                                 specific_tags=["SOPInstanceUID"])
            uid = str(ds.SOPInstanceUID)
        except Exception as exc:  # a document beside the DICOM: not an instance to push
            if path.suffix.lower() == ".dcm":
                result.findings.append(Finding("FILE-UNREADABLE", Severity.WARNING,
                                               f"not reconciled: {type(exc).__name__}: {exc}",
                                               SOURCE, str(path)))
            continue
        in_tree[uid] = path
    result.found = len(in_tree)
    for uid, path in sorted(in_tree.items()):
        if uid not in received:
            result.missing += 1
            result.findings.append(Finding("RECONCILE-MISSING", Severity.ERROR,
                                           "exported, never received", SOURCE, str(path), uid))
            continue
        result.received += 1
        copy = received[uid]
        if copy is not None and copy.is_file() and not _same_data_set(path, copy):
            result.differ += 1
            result.findings.append(Finding("RECONCILE-DIFFERS", Severity.ERROR,
                                           f"received as {copy}, with another content",
                                           SOURCE, str(path), uid))
    for uid in sorted(set(received) - set(in_tree)):
        result.extra += 1
        result.findings.append(Finding("RECONCILE-EXTRA", Severity.WARNING,
                                       "received, but not in the export tree", SOURCE,
                                       str(received[uid] or ""), uid))
    result.findings.sort(key=sort_key)
    return result

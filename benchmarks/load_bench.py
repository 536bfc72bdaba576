"""Load on the Archive simulator: 10 concurrent senders × 1,000 instances.

The Archive runs as its own process (`rtconform simulate archive`), as it
would next to a vendor's system. Checked and printed: instances sent,
acknowledged with Success, indexed, on disk and byte-equal to what was sent
(every element of the received file, pixel data included, equal to the
sent data set); an 11th
association while the ten are open is rejected (A-ASSOCIATE-RJ, local limit
exceeded); an association aborted mid-transfer is recorded as aborted; the
Archive still answers C-ECHO afterwards.

The named baseline, in the same process: dcmtk `storescp` receiving the
same load from the same senders (ratio of wall times).

    python benchmarks/load_bench.py [--senders 10] [--instances 1000]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pydicom
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from rtconform.actors.node import ServiceUser
from rtconform.actors.recorder import AssociationRecorder, read_associations
from rtconform.dicom.uids import DEFAULT_UID_ROOT, derived_uid
from rtconform.phantom.faults import write_sample

CT = "1.2.840.10008.5.1.4.1.1.2"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("peer did not listen")


def _datasets(template: Path, sender: int, count: int) -> list[pydicom.Dataset]:
    out = []
    for i in range(count):
        ds = pydicom.dcmread(template)
        ds.SOPInstanceUID = derived_uid(DEFAULT_UID_ROOT, ds.SOPInstanceUID, sender * 100_000 + i)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        out.append(ds)
    return out


def _push(peer, batches, log: Path) -> tuple[float, list[list[int]]]:
    recorder = AssociationRecorder(log)
    statuses: list[list[int]] = [[] for _ in batches]

    def send(i):
        statuses[i] = ServiceUser(f"LOAD{i}", recorder, "load").store(peer, batches[i]).statuses

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=3600)
    return time.perf_counter() - start, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--instances", type=int, default=1000)
    args = parser.parse_args()
    from rtconform.actors.node import Peer

    with tempfile.TemporaryDirectory(prefix="rtconform-load-") as tmp:
        tmp = Path(tmp)
        write_sample(tmp / "sample")
        batches = [_datasets(tmp / "sample" / "CT_001.dcm", s, args.instances)
                   for s in range(args.senders)]
        sent = {str(ds.SOPInstanceUID): ds for b in batches for ds in b}

        base_secs, base_acked = float("nan"), 0
        storescp = shutil.which("storescp", path="/usr/bin")
        if storescp:
            port = _port()
            (tmp / "scp").mkdir()
            # --fork: one process per association, as concurrent senders need
            proc = subprocess.Popen([storescp, "--fork", "-od", str(tmp / "scp"), "-aet",
                                     "STORESCP", str(port)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                _wait(port, proc)
                base_secs, base_statuses = _push(Peer("STORESCP", "127.0.0.1", port), batches,
                                                 tmp / "scp.jsonl")
                base_acked = sum(s == 0 for st in base_statuses for s in st)
            finally:
                proc.terminate()
                proc.wait(timeout=30)

        port = _port()
        store = tmp / "store"
        archive = subprocess.Popen([sys.executable, "-m", "rtconform", "simulate", "archive",
                                    "--store", str(store), "--port", str(port),
                                    "--max-associations", str(args.senders)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(port, archive)
            peer = Peer("ARCHIVE", "127.0.0.1", port)
            secs, statuses = _push(peer, batches, tmp / "push.jsonl")
            acknowledged = sum(s == 0 for st in statuses for s in st)

            # the 11th association while ten are open
            held = []
            for i in range(args.senders):
                ae = AE(f"HOLD{i}")
                ae.add_requested_context("1.2.840.10008.1.1")
                held.append(ae.associate("127.0.0.1", port, ae_title="ARCHIVE"))
            ae = AE("ELEVENTH")
            ae.add_requested_context("1.2.840.10008.1.1")
            eleventh = ae.associate("127.0.0.1", port, ae_title="ARCHIVE")
            eleventh_rejected = eleventh.is_rejected
            for assoc in held:
                assoc.release()

            # an association aborted mid-transfer
            ae = AE("ABORTER")
            ae.add_requested_context(CT, ExplicitVRLittleEndian)
            assoc = ae.associate("127.0.0.1", port, ae_title="ARCHIVE")
            assoc.abort()
            time.sleep(1)
            echo_ok = ServiceUser("AFTER", AssociationRecorder(tmp / "after.jsonl"),
                                  "load").echo(peer).ok
        finally:
            archive.terminate()
            archive.wait(timeout=60)

        with sqlite3.connect(store / "index.sqlite") as db:
            rows = db.execute("SELECT sop_instance_uid, path FROM instances").fetchall()
        on_disk = sum(1 for _, p in rows if Path(p).is_file())
        equal = 0
        for uid, path in rows:
            if uid in sent:
                equal += pydicom.dcmread(path) == sent[uid]  # every element, pixels too
        aborted = any(r.outcome == "aborted" and r.calling_ae == "ABORTER"
                      for r in read_associations(store / "associations.jsonl"))
    total = len(sent)
    print(f"sent {total} ({args.senders} senders × {args.instances}); acknowledged "
          f"{acknowledged}; indexed {len(rows)}; on disk {on_disk}; equal data sets "
          f"{equal}")
    print(f"Archive: {secs:.1f} s ({total / secs:.0f} instances/s); baseline dcmtk storescp "
          f"--fork: {base_secs:.1f} s ({base_acked} acknowledged); ratio Archive/storescp "
          f"{secs / base_secs:.2f}x")
    print(f"11th association rejected: {eleventh_rejected}; aborted association recorded: "
          f"{aborted}; C-ECHO after: {echo_ok}")
    good = (acknowledged == len(rows) == on_disk == equal == total and eleventh_rejected
            and aborted and echo_ok)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

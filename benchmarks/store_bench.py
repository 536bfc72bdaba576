"""C-STORE throughput of the Archive, against dcmtk's storescp as the named
baseline, in one run on this machine.

  (a) dcmtk storescu -> our Archive      vs  storescu -> dcmtk storescp
  (b) our Storage SCU -> our Archive     vs  storescu -> dcmtk storescp
  (c) 10 concurrent senders x 100 instances -> our Archive: stored == sent

Each DIMSE exchange costs ~80 ms on loopback here when Nagle's algorithm meets
delayed ACKs; the harness sets TCP_NODELAY on its own sockets. Targets: (a) >= 1.0x,
(b) >= 2.0x.

    python benchmarks/store_bench.py [--files 200]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pydicom

from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import ServiceUser
from rtconform.actors.recorder import AssociationRecorder
from rtconform.dicom.uids import derived_uid
from rtconform.phantom.sets import build_sample
from rtconform.suts.archives import find_dcmtk, free_port

ROOT = "1.2.826.0.1.3680043.8.498."


def dcmtk(name: str) -> str:
    return find_dcmtk(name) or sys.exit(
        f"dcmtk's {name} is not installed (apt-get install dcmtk): no baseline")


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(port)


def make_cts(folder: Path, count: int, tag: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cts = [ds for name, ds in sorted(build_sample().datasets.items()) if name.startswith("CT_")]
    paths = []
    for i in range(count):
        ds = cts[i % len(cts)]
        ds.SOPInstanceUID = derived_uid(ROOT, "store-bench", tag, i)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / f"CT_{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def storescu(port: int, aec: str, folder: Path) -> None:
    out = subprocess.run([dcmtk("storescu"), "-aec", aec, "+sd", "127.0.0.1", str(port),
                          str(folder)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    n = args.files
    tmp = Path(tempfile.mkdtemp(prefix="rtconform-store-bench-"))
    try:
        # baseline: storescu -> storescp
        files = make_cts(tmp / "baseline", n, "baseline")
        port = free_port()
        (tmp / "storescp").mkdir()
        scp = subprocess.Popen([dcmtk("storescp"), "-aet", "STORESCP", "-od",
                                str(tmp / "storescp"), str(port)])
        try:
            wait_port(port)
            base = n / timed(lambda: storescu(port, "STORESCP", tmp / "baseline"))
        finally:
            scp.terminate()
            scp.wait(10)
        assert len(list((tmp / "storescp").iterdir())) == len(files)
        print(f"baseline  storescu -> dcmtk storescp:   {base:7.1f} files/s")

        recorder = AssociationRecorder(tmp / "associations.jsonl")
        with Archive(ArchiveConfig(store_dir=tmp / "archive-a"), recorder) as archive:
            make_cts(tmp / "a", n, "a")
            rate_a = n / timed(lambda: storescu(archive.peer.port, "ARCHIVE", tmp / "a"))
            assert archive.store.count() == n
        print(f"(a) storescu -> rtconform Archive:      {rate_a:7.1f} files/s  "
              f"ratio {rate_a / base:.2f}x (target >= 1.0x)")

        with Archive(ArchiveConfig(store_dir=tmp / "archive-b"), recorder) as archive:
            paths = make_cts(tmp / "b", n, "b")
            user = ServiceUser("BENCH", recorder, "bench")
            datasets = [pydicom.dcmread(p) for p in paths]
            rate_b = n / timed(lambda: user.store(archive.peer, datasets))
            assert archive.store.count() == n
        print(f"(b) rtconform SCU -> rtconform Archive: {rate_b:7.1f} files/s  "
              f"ratio {rate_b / base:.2f}x (target >= 2.0x)")

        senders, each = 10, 100
        with Archive(ArchiveConfig(store_dir=tmp / "archive-c", max_associations=senders),
                     recorder) as archive:
            batches = [[pydicom.dcmread(p) for p in make_cts(tmp / f"c{i}", each, f"c{i}")]
                       for i in range(senders)]
            results = [None] * senders

            def send(i: int) -> None:
                results[i] = ServiceUser(f"SENDER{i}", recorder, "bench").store(
                    archive.peer, batches[i])

            def all_senders() -> None:
                threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(600)

            secs = timed(all_senders)
            sent = sum(len(r.statuses) for r in results if r)
            ok = sum(s == 0 for r in results if r for s in r.statuses)
            stored = archive.store.count()
        print(f"(c) {senders} senders x {each}: sent {sent}, acknowledged {ok}, stored {stored}"
              f" in {secs:.1f} s ({stored / secs:.1f} files/s) -> "
              f"{'OK' if stored == ok == senders * each else 'MISMATCH'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

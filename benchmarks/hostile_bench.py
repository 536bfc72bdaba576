"""A hostile sender against the Archive process (`rtconform simulate
archive`), as issue 23 measured it:

1. one C-STORE of a 1 GB data set in legal 16 KB P-DATA-TF PDUs, with the
   default --max-object-mb (512): the Archive's peak resident memory
   (VmHWM, its own process), the status the sender got (0xA700, or the
   A-ABORT that follows it), bytes sent before the refusal, temporary files
   left, and whether the Archive still stores afterwards (dcmtk storescu);
2. 70 silent connections held open from one loopback address (127.0.0.3):
   does dcmtk storescu from another address (127.0.0.1) store at once, and
   from the same address (70 more from 127.0.0.1) after that address's
   oldest silent connection is closed for it.

3. `rtconform validate --engines tro` (and `--profile brto`) of a structure
   set whose one contour holds 1,000,000 points (about 25 MB): peak memory of
   the validate process against the file's size (issue 23: 1.64 GB, 82x).

Baseline: the Archive's own peak memory after start-up and one stored CT
(printed as the ratio of the peak to it); for 3, the file's size.

    python benchmarks/hostile_bench.py [--gigabytes 1] [--max-object-mb 512] [--points N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

from rtconform.actors.rawpeer import RawPeer, pixel_data_stream
from rtconform.phantom.faults import write_sample

CT = "1.2.840.10008.5.1.4.1.1.2"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _storescu(port: int, path: Path) -> tuple[bool, float]:
    exe = "/usr/bin/storescu" if Path("/usr/bin/storescu").exists() else shutil.which("storescu")
    start = time.monotonic()
    proc = subprocess.run([exe, "-aec", "ARCHIVE", "-aet", "BENCH", "127.0.0.1", str(port),
                           str(path)], capture_output=True, text=True, timeout=120)
    return proc.returncode == 0, time.monotonic() - start


def _archive(tmp: Path, port: int, max_object_mb: int) -> subprocess.Popen:
    temp = tmp / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtconform", "simulate", "archive", "--store", str(tmp / "store"),
         "--port", str(port), "--max-object-mb", str(max_object_mb), "--artim", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "TMPDIR": str(temp)})
    line = proc.stdout.readline()
    if "storing in" not in line:
        raise RuntimeError(line)
    return proc


def big_store(tmp: Path, sample: Path, gigabytes: float, max_object_mb: int) -> dict:
    port = _port()
    proc = _archive(tmp, port, max_object_mb)
    try:
        ok, _ = _storescu(port, sample / "CT_001.dcm")
        baseline = _peak_mb(proc.pid)
        header = pydicom.dcmread(sample / "CT_002.dcm", stop_before_pixels=True)
        header.file_meta = None
        start = time.monotonic()
        with RawPeer("127.0.0.1", port, timeout=300) as peer:
            peer.associate("ARCHIVE", "BIG", CT)
            status = peer.store(CT, header.SOPInstanceUID,
                                pixel_data_stream(header, int(gigabytes * (1 << 30))),
                                pdu_data=16372)
            sent = peer.sent
        took = time.monotonic() - start
        time.sleep(1)
        peak = _peak_mb(proc.pid)
        after, _ = _storescu(port, sample / "CT_003.dcm")
        left = sorted(p.name for p in (tmp / "tmp").iterdir())
        notes = [json.loads(line).get("message", "") for line in
                 (tmp / "store" / "associations.jsonl").read_text().splitlines()]
        return {"warm store": ok, "baseline MB": round(baseline), "peak MB": round(peak),
                "peak / baseline": round(peak / baseline, 2),
                "status": "none (A-ABORT)" if status is None else f"0x{status:04X}",
                "sent MB before refusal": round(sent / (1 << 20)), "seconds": round(took, 1),
                "temporary files left": len(left), "stores afterwards": after,
                "logged": next((n for n in notes if "C-STORE refused" in n), "")}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def silent_flood(tmp: Path, sample: Path, count: int = 70) -> dict:
    port = _port()
    proc = _archive(tmp, port, 512)
    held: list[socket.socket] = []
    try:
        held += [socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.3", 0))
                 for _ in range(count)]
        other_ok, other_s = _storescu(port, sample / "CT_001.dcm")
        held += [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        same_ok, same_s = _storescu(port, sample / "CT_002.dcm")
        notes = [json.loads(line).get("message", "") for line in
                 (tmp / "store" / "associations.jsonl").read_text().splitlines()]
        return {"silent held": count * 2,
                "storescu from 127.0.0.1 (flood from 127.0.0.3)": other_ok,
                "its seconds": round(other_s, 2),
                "storescu from 127.0.0.1 (flood from 127.0.0.1 too)": same_ok,
                "its seconds ": round(same_s, 2),
                "closed to make room": sum("to make room" in n for n in notes)}
    finally:
        for sock in held:
            sock.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def long_contour(tmp: Path, points: int) -> dict:
    from rtconform.dicom.mutations import long_contour as make

    folder = tmp / "contour"
    write_sample(folder)
    for path in folder.glob("*.dcm"):
        if not path.name.startswith(("RS", "CT_001", "CT_002")):
            path.unlink()
    rs = folder / "RS_structure_set.dcm"
    rs.write_bytes(make(rs.read_bytes(), points).data)
    size = rs.stat().st_size / (1 << 20)
    out = {"file MB": round(size, 1)}
    for profile in ("dicom-rt", "brto"):
        start = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "rtconform",
                               "validate", str(folder), "--engines", "tro", "--jobs", "1",
                               "--profile", profile, "-q"], capture_output=True, text=True,
                              timeout=600)
        peak = int(proc.stderr.strip().splitlines()[-1]) / 1024
        out[f"{profile}: exit, seconds"] = (proc.returncode, round(time.monotonic() - start, 1))
        out[f"{profile}: peak MB, x file"] = (round(peak), round(peak / size, 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--max-object-mb", type=int, default=512)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_sample(tmp / "sample")
        print(f"1. one C-STORE of {args.gigabytes:g} GB in 16 KB PDUs "
              f"(--max-object-mb {args.max_object_mb})")
        for key, value in big_store(tmp / "big", tmp / "sample", args.gigabytes,
                                    args.max_object_mb).items():
            print(f"   {key:28} {value}")
        print("2. 70 silent connections from 127.0.0.3, then 70 from 127.0.0.1")
        for key, value in silent_flood(tmp / "flood", tmp / "sample").items():
            print(f"   {key:50} {value}")
        print(f"3. validate a structure set with one contour of {args.points:,} points")
        for key, value in long_contour(tmp, args.points).items():
            print(f"   {key:28} {value}")


if __name__ == "__main__":
    main()

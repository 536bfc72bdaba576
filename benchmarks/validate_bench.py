"""Throughput and memory of `rtconform validate` against dciodvfy, in one run.

Builds a 1,000-file tree (CT copies with new UIDs in several series, plus the
RT objects of the synthetic patient), then times
  (a) `rtconform validate --engines tro` over the tree (one process), and
  (b) the baseline: `dciodvfy` over the same files (one process per file, as a
      shell loop would run it),
and prints files/s for both, their ratio, and the peak RSS of `validate` at
250, 500 and 1,000 files (flat = streaming works).

    python benchmarks/validate_bench.py [--files 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

from rtconform.dicom.uids import derived_uid
from rtconform.phantom.faults import write_sample


def build_tree(root: Path, total: int) -> list[Path]:
    patient = root / "patient"
    write_sample(patient)
    files = sorted(patient.glob("*.dcm"))
    cts = [p for p in files if p.name.startswith("CT_")]
    copies, series = len(files), 0
    while copies < total:
        series += 1
        folder = root / f"copy{series:03d}"
        folder.mkdir()
        series_uid = derived_uid("1.2.826.0.1.3680043.8.498.", "bench-series", series)
        for ct in cts:
            if copies >= total:
                break
            ds = pydicom.dcmread(ct)
            ds.SeriesInstanceUID = series_uid
            ds.SOPInstanceUID = derived_uid("1.2.826.0.1.3680043.8.498.", "bench", series,
                                            ct.name)
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.save_as(folder / ct.name)
            copies += 1
    return sorted(p for p in root.rglob("*.dcm"))


def run_measured(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit code and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="build the tree here and keep it")
    args = parser.parse_args()
    dciodvfy = shutil.which("dciodvfy")
    if not dciodvfy:
        print("dciodvfy is not installed (apt-get install dicom3tools): no baseline")
        return 2
    root = args.keep or Path(tempfile.mkdtemp(prefix="rtconform-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    files = build_tree(root, args.files)
    n = len(files)
    print(f"tree: {n} files in {root}")

    validate = [sys.executable, "-m", "rtconform", "validate", "--engines", "tro", "-q"]
    secs, code, rss = run_measured([*validate, str(root)])
    ours = n / secs
    print(f"rtconform validate --engines tro: {secs:6.2f} s  {ours:7.1f} files/s  "
          f"peak RSS {rss / 1024:6.1f} MiB  (exit {code})")

    start = time.perf_counter()
    for path in files:
        subprocess.run([dciodvfy, "-new", str(path)], capture_output=True, check=False)
    base_secs = time.perf_counter() - start
    base = n / base_secs
    print(f"dciodvfy, one process per file:   {base_secs:6.2f} s  {base:7.1f} files/s")
    print(f"ratio rtconform/dciodvfy files/s: {ours / base:.2f}x")

    print("peak RSS of validate by tree size (flat means streaming):")
    for size in (n // 4, n // 2, n):
        subset = root / f"subset{size}"
        subset.mkdir()
        for path in files[:size]:
            (subset / f"{path.parent.name}_{path.name}").symlink_to(path)
        _, _, rss = run_measured([*validate, str(subset)])
        print(f"  {size:5d} files: {rss / 1024:6.1f} MiB")
        shutil.rmtree(subset)
    if not args.keep:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())

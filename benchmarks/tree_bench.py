"""`rtconform validate` on an exporter's tree of 10,000 files: one job, two
jobs, a Dask cluster of two workers, and the named baseline, dciodvfy run
file by file (one process per file, as a shell loop runs it), in one run.

The tree: P patients, each the planning-system export of the synthetic
patient (CT, structure set with bolus, plans, plan dose and beam doses, all
consistent) plus more CT series (copies with new UIDs, same Frame of
Reference) until the tree holds N files. Every rtconform run uses the TRO
rules and dciodvfy (`--engines tro,dciodvfy`); their findings must be equal.

Printed: files/s of each, ratios (--jobs 2 against --jobs 1; each against
dciodvfy alone), the peak memory of the validating processes (the command
and its workers, sampled every 0.1 s from /proc), and whether the findings
agree. Targets (issue 14): --jobs 2 ≥ 1.6 × --jobs 1; peak < 500 MB.

    python benchmarks/tree_bench.py [--files 10000] [--patients 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pydicom

from rtconform.dicom.uids import derived_uid
from rtconform.phantom.faults import write_sample

ROOT_UID = "1.2.826.0.1.3680043.10.545."


def build_tree(root: Path, total: int, patients: int) -> int:
    per_patient = total // patients
    for p in range(patients):
        folder = root / f"patient{p:03d}"
        uid_root = f"{ROOT_UID}{p + 1}."
        written = write_sample(folder, uid_root=uid_root, export="planning-system")
        cts = sorted(x for x in written if x.name.startswith("CT_"))
        count, series = len(written), 0
        while count < per_patient:
            series += 1
            copy = folder / f"CT{series:02d}"
            copy.mkdir()
            series_uid = derived_uid(uid_root, "tree-bench-series", series)
            for ct in cts:
                if count >= per_patient:
                    break
                ds = pydicom.dcmread(ct)
                ds.SeriesInstanceUID = series_uid
                ds.SeriesNumber = 10 + series
                ds.SOPInstanceUID = derived_uid(uid_root, "tree-bench", series, ct.name)
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                ds.save_as(copy / ct.name)
                count += 1
    return sum(1 for p in root.rglob("*") if p.is_file())


def _tree_rss_kib(pid: int) -> int:
    """RSS of a process and all its descendants (KiB), from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as fp:
                total += next((int(line.split()[1]) for line in fp
                               if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fp:
                    stack += [int(c) for c in fp.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measured(cmd: list[str], extra_pids: list[int] = ()) -> tuple[float, int, int, int]:
    """Wall seconds, exit code, peak RSS (KiB) of the command's process tree
    (its worker processes included) and of `extra_pids` (a Dask cluster's
    workers, which hold Dask's own runtime too), sampled every 0.1 s."""
    peak = [0, 0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            peak[1] = max(peak[1], sum(_tree_rss_kib(p) for p in extra_pids))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    sampler.join()
    if proc.returncode not in (0, 1):
        print(err[-2000:])
    return seconds, proc.returncode, peak[0], peak[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the tree here (reused when present)")
    args = parser.parse_args()
    dciodvfy = shutil.which("dciodvfy")
    if not dciodvfy:
        print("dciodvfy is not installed (apt-get install dicom3tools): no baseline")
        return 2
    work = Path(tempfile.mkdtemp(prefix="rtconform-tree-bench-"))
    root = args.keep or work / "tree"
    started = time.perf_counter()
    if not (root.is_dir() and any(root.iterdir())):
        root.mkdir(parents=True, exist_ok=True)
        n = build_tree(root, args.files, args.patients)
        print(f"tree: {n} files, {args.patients} patients, built in "
              f"{time.perf_counter() - started:.0f} s ({root})")
    files = sorted(str(p) for p in root.rglob("*") if p.is_file())
    n = len(files)
    print(f"tree: {n} files; {os.cpu_count()} cores")

    base = [sys.executable, "-m", "rtconform", "validate", str(root), "--engines",
            "tro,dciodvfy", "-q"]
    results = {}
    for label, extra in (("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"])):
        out = work / f"{label.split()[-1]}.json"
        results[label] = (*measured([*base, *extra, "--json", str(out)]), out)

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        workers = list(client.run(os.getpid).values())
        out = work / "dask.json"
        results["Dask, 2 workers"] = (*measured(
            [*base, "--scheduler", cluster.scheduler_address, "--json", str(out)], workers), out)

    start = time.perf_counter()
    for path in files:  # the baseline: dciodvfy alone, one process per file
        subprocess.run([dciodvfy, "-new", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    baseline = time.perf_counter() - start

    reference = json.loads(results["--jobs 1"][4].read_text())
    print(f"\n{'run':<18}{'seconds':>9}{'files/s':>10}{'vs --jobs 1':>13}"
          f"{'vs dciodvfy':>13}{'peak MB':>9}{'+ Dask MB':>10}  exit  same findings")
    for label, (secs, code, peak, cluster, out) in results.items():
        data = json.loads(out.read_text())
        same = data["findings"] == reference["findings"] and data["files"] == n
        print(f"{label:<18}{secs:>9.1f}{n / secs:>10.1f}{results['--jobs 1'][0] / secs:>12.2f}×"
              f"{baseline / secs:>12.2f}×{peak / 1024:>9.0f}"
              f"{(f'{cluster / 1024:.0f}' if cluster else '-'):>10}  {code:>4}  {same}")
    print(f"{'dciodvfy per file':<18}{baseline:>9.1f}{n / baseline:>10.1f}"
          f"{results['--jobs 1'][0] / baseline:>12.2f}×{1:>12.2f}×")
    print(f"\nfindings of --jobs 1: {reference['counts']} over {reference['files']} files")
    print("peak MB: the validate command and its worker processes; + Dask MB: the cluster's "
          "two workers (Dask's runtime and the per-file checks)")
    speedup = results["--jobs 1"][0] / results["--jobs 2"][0]
    peak = max(r[2] for r in results.values()) / 1024
    print(f"targets: --jobs 2 ≥ 1.6× --jobs 1: {speedup:.2f}× "
          f"({'met' if speedup >= 1.6 else 'NOT met'}); peak memory < 500 MB: {peak:.0f} MB "
          f"({'met' if peak < 500 else 'NOT met'})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

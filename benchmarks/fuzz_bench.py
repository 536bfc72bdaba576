"""Fuzz `rtconform validate` with ten thousand broken files.

Cases come from rtconform.dicom.mutations (truncations, VR and length
corruption, byte flips, 4 GB declared lengths, sequences nested up to 10,000
deep, deflate bombs, non-DICOM junk, empty files) drawn with a fixed seed
from the synthetic patient's CT, structure set and plan, in folders of 200.
Each folder also holds the structure set with a two-valued Patient Name (a
pydicom dataset that cannot be pickled). Each folder is one `rtconform
validate --json --jobs 2` process (dciodvfy included; two worker processes, so
every result crosses a process boundary; `--validate-jobs`), `--jobs` folders
at a time, with a timeout and a 4 GB address-space cap. Printed: cases, tracebacks
(exit 3 or a traceback on stderr), hangs (timeouts), folders without JSON,
certainly-broken files not named in a finding, peak memory of one validate
process.

The named baseline, in the same process: `dciodvfy` over the unbroken
sample, per file, against rtconform's per-file cost on the fuzz.

    python benchmarks/fuzz_bench.py [--cases 10000] [--jobs 2] [--validate-jobs 2]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rtconform.dicom import mutations as m
from rtconform.phantom.faults import write_sample

FOLDER = 200
TIMEOUT = 900
MEMORY_CAP = 4 << 30  # address space of one validate process: a blow-up fails, not the machine


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _folder(root: Path, index: int, rng: random.Random, bases: list[bytes]) -> tuple[Path, set]:
    folder = root / f"f{index:03d}"
    folder.mkdir()
    broken = set()
    legal = m.multi_valued_name(bases[1])
    (folder / f"000_{legal.kind}.dcm").write_bytes(legal.data)
    for i in range(1, FOLDER):
        case = m.random_case(rng, bases[i % len(bases)])
        path = folder / f"{i:03d}_{case.kind}.dcm"
        path.write_bytes(case.data)
        if case.broken:
            broken.add(str(path))
    return folder, broken


def _validate(folder: Path, jobs: int) -> dict:
    out = folder.with_suffix(".json")
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "rtconform", "validate", str(folder),
                               "--json", str(out), "--max-object-mb",
                               str(m.FUZZ_MAX_OBJECT_MB), "--jobs", str(jobs), "-q"],
                              capture_output=True, text=True, timeout=TIMEOUT,
                              preexec_fn=_cap)
    except subprocess.TimeoutExpired:
        return {"hang": True, "secs": time.perf_counter() - start}
    named = set()
    if out.is_file():
        named = {f["file"] for f in json.loads(out.read_text())["findings"]}
    return {"hang": False, "secs": time.perf_counter() - start, "code": proc.returncode,
            "folder": folder.name,
            "traceback": proc.returncode == 3 or "Traceback" in proc.stderr,
            "json": out.is_file(), "named": named, "stderr": proc.stderr[-300:]}


def _baseline(sample: Path) -> float:
    """dciodvfy seconds per file over the unbroken sample."""
    dciodvfy = shutil.which("dciodvfy")
    if not dciodvfy:
        return float("nan")
    files = sorted(sample.glob("*.dcm"))
    start = time.perf_counter()
    for path in files:
        subprocess.run([dciodvfy, str(path)], capture_output=True, timeout=60)
    return (time.perf_counter() - start) / len(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--validate-jobs", type=int, default=2,
                        help="worker processes of each validate (default 2)")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="rtconform-fuzz-") as tmp:
        root = Path(tmp)
        write_sample(root / "sample")
        bases = [(root / "sample" / n).read_bytes()
                 for n in ("CT_001.dcm", "RS_structure_set.dcm", "RP_geometric.dcm")]
        folders = [_folder(root, i, rng, bases) for i in range(-(-args.cases // FOLDER))]
        cases = sum(len(list(f.glob("*.dcm"))) for f, _ in folders)
        base_secs = _baseline(root / "sample")
        start = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda f: _validate(f, args.validate_jobs),
                                    [f for f, _ in folders]))
        secs = time.perf_counter() - start
    tracebacks = sum(r.get("traceback", False) for r in results)
    hangs = sum(r["hang"] for r in results)
    no_json = sum(not r.get("json", False) for r in results if not r["hang"])
    broken = sum(len(b) for _, b in folders)
    unnamed = sum(len(b - r.get("named", set())) for (_, b), r in zip(folders, results,
                                                                     strict=True))
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"cases: {cases} in {len(folders)} folders; {secs:.0f} s "
          f"({secs / cases * 1000:.1f} ms per case with {args.jobs} jobs)")
    print(f"tracebacks: {tracebacks}; hangs: {hangs}; folders without JSON: {no_json}")
    print(f"certainly broken files: {broken}; not named in a finding: {unnamed}")
    print(f"peak memory of one validate process: {peak_mb:.0f} MB")
    print(f"baseline dciodvfy on the unbroken sample: {base_secs * 1000:.1f} ms per file; "
          f"ratio rtconform-per-fuzz-case / dciodvfy-per-file: "
          f"{(secs * args.jobs / cases) / base_secs:.2f}x")
    for r in results:
        if r.get("traceback") or r["hang"]:
            print("  problem in", r.get("folder"), r.get("stderr", "timeout"))
    return 0 if tracebacks == hangs == no_json == unnamed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

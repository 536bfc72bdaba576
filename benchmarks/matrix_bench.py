"""`rtconform matrix` over every SUT file of suts/ (the drivers that run here),
chains only, through Orthanc and dcmqrscp: once with --jobs 1 and once with
--jobs 2, in one run, on the same machine.

Printed: wall time of each, their ratio (chains touch disjoint data, so two
at a time should approach 2 × on two cores, less what the tools themselves
take of both cores), cells per minute, and whether both runs reached the
same verdict in every cell (the seed differs; the verdicts must not).

    python benchmarks/matrix_bench.py [--keep DIR] [--archive orthanc --archive dcmqrscp]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from rtconform.matrix.run import MatrixOptions, run_matrix

ROOT = Path(__file__).resolve().parents[1]


def verdicts(model: dict) -> dict:
    return {(m, c["producer"], c["consumer"], c["actor"]): c["verdict"]
            for m, grid in model["grids"].items() for c in grid["cells"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep the matrix folders here")
    parser.add_argument("--archive", action="append", default=None)
    args = parser.parse_args()
    archives = args.archive or ["orthanc", "dcmqrscp"]
    files = sorted((ROOT / "suts").glob("*.yaml"))
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="matrix-bench-"))
    times, models = {}, {}
    try:
        for jobs in (1, 2):
            started = time.perf_counter()
            models[jobs] = run_matrix(files, MatrixOptions(out=base / f"jobs{jobs}", jobs=jobs,
                                                           own=False, archives=archives))
            times[jobs] = time.perf_counter() - started
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    cells = sum(v != "not applicable" for v in verdicts(models[1]).values())
    for jobs in (1, 2):
        print(f"--jobs {jobs}: {times[jobs]:.1f} s, {cells / times[jobs] * 60:.1f} cells/min; "
              f"{models[jobs]['verdict_line']}")
    print(f"ratio --jobs 2 / --jobs 1: {times[1] / times[2]:.2f} x")
    same = verdicts(models[1]) == verdicts(models[2])
    print(f"same verdict in every cell: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()

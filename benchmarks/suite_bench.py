"""What the main job costs, against named baselines run in the same process.

1. `rtconform run` on the embedded default, as a user runs it (scenarios,
   evidence, report), with one scenario process and with the default (the
   cores), against dcmtk moving the same synthetic sample (`storescu +sd` to
   `storescp`): the goal is at most 5x.
2. TCP_NODELAY: rtconform's SCU storing the sample into dcmtk's storescp with
   and without it (Nagle's algorithm meets delayed ACKs on loopback).
3. One reference TRO flow (CT → Archive → Contourer → planners → Dose
   Displayer): how many full flows the whole scenario suite costs.

    python benchmarks/suite_bench.py
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rtconform.actors.flow import reference_flow
from rtconform.actors.node import Peer, ServiceUser
from rtconform.actors.recorder import AssociationRecorder
from rtconform.phantom.faults import write_sample
from rtconform.run.runner import embedded_parts
from rtconform.suts.archives import find_dcmtk, free_port


def _storescp(folder: Path):
    port = free_port()
    proc = subprocess.Popen([find_dcmtk("storescp"), "-aet", "STORESCP", "-od", str(folder),
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


class _Nagle(ServiceUser):
    """rtconform's SCU without TCP_NODELAY, for the comparison only."""

    def _handlers(self):
        return self.recorder.handlers(self.actor)


def main() -> int:
    if find_dcmtk("storescu") is None:
        print("dcmtk not installed (apt-get install dcmtk): no baseline", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rtconform-suite-bench-") as tmp:
        tmp = Path(tmp)
        sample = tmp / "sample"
        files = write_sample(sample)
        # -- dcmtk moving the sample: the baseline
        (tmp / "dcmtk-in").mkdir()
        proc, port = _storescp(tmp / "dcmtk-in")
        try:
            dcmtk_secs = _timed([find_dcmtk("storescu"), "-aec", "STORESCP", "+sd", "+r",
                                 "127.0.0.1", str(port), str(sample)])
            recorder = AssociationRecorder(tmp / "log.jsonl")
            timings = {}
            for name, cls in (("with TCP_NODELAY", ServiceUser), ("without", _Nagle)):
                start = time.perf_counter()
                result = cls("BENCH", recorder, "bench").store(
                    Peer("STORESCP", "127.0.0.1", port), files)
                timings[name] = time.perf_counter() - start
                assert result.ok, result.describe("C-STORE")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        # -- the main job as a user runs it
        runs = {}
        for label, extra in (("--parallel 1", ["--parallel", "1"]),
                             (f"default ({embedded_parts()} processes)", [])):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "rtconform", "run", "-q", "--out",
                                   str(tmp / f"run-{len(runs)}"), *extra],
                                  capture_output=True, text=True)
            runs[label] = (time.perf_counter() - start, done.returncode,
                           done.stdout.strip().splitlines()[-1:] or [""])
        start = time.perf_counter()
        flow = reference_flow(tmp / "flow", "get")
        flow_secs = time.perf_counter() - start
        assert flow.displayed.exit_code == 0

    print(f"baseline: dcmtk storescu → storescp, the {len(files)}-file sample: "
          f"{dcmtk_secs:6.1f} s")
    for label, (secs, code, last) in runs.items():
        print(f"rtconform run, embedded default, {label:<24} {secs:6.1f} s  "
              f"ratio {secs / dcmtk_secs:5.1f}x (goal ≤ 5x)  exit {code}: {last[0]}")
    slow, fast = timings["without"], timings["with TCP_NODELAY"]
    print(f"rtconform SCU → dcmtk storescp, {len(files)} files: with TCP_NODELAY {fast:.2f} s, "
          f"without {slow:.2f} s (gain {slow / fast:.1f}x)")
    best = min(secs for secs, _, _ in runs.values())
    print(f"one reference TRO flow (C-GET): {flow_secs:.1f} s; the suite costs "
          f"{best / flow_secs:.1f} flows")
    return 0 if all(code == 0 for _, code, _ in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Wall time of the whole feature suite against the embedded default
(`rtconform run`), in one run. Target: under 60 s on this 2-core machine.

The named baseline, run in the same process, is one reference TRO flow over
loopback (CT → Archive → Contourer → planners → Dose Displayer, C-GET): the
ratio says how many full flows the whole suite costs.

    python benchmarks/suite_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rtconform.actors.flow import reference_flow
from rtconform.run.runner import run


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rtconform-suite-bench-") as tmp:
        start = time.perf_counter()
        flow = reference_flow(Path(tmp) / "flow", "get")
        flow_secs = time.perf_counter() - start
        assert flow.displayed.exit_code == 0

        start = time.perf_counter()
        code, results = run(None, Path(tmp) / "run")
        suite_secs = time.perf_counter() - start
    passed = sum(r.status == "passed" for r in results)
    print(f"baseline: one reference TRO flow (C-GET)      {flow_secs:6.1f} s")
    print(f"whole feature suite, embedded default:        {suite_secs:6.1f} s "
          f"({passed}/{len(results)} scenarios passed, exit {code})")
    print(f"ratio suite/flow: {suite_secs / flow_secs:.1f}x; target suite < 60 s: "
          f"{'met' if suite_secs < 60 else 'NOT met'}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

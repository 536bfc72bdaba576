"""The IHE-RO test tool's BRTO checklist, row by row, mapped to what checks it
here: rule ids, or scenarios of `features/` (by transaction and name).

The map is data (`conformance/ihe-ro-brto-coverage.yaml`, shipped with the
package); a test keeps it whole: every row of the checklist is mapped, and
every rule id or scenario it names exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import yaml

STATUSES = ("covered", "partly", "not-applicable")
ROWS_PER_TRANSACTION = {1: 6, 2: 65, 3: 64, 4: 47, 5: 50, 6: 2, 7: 7, 8: 6, 9: 6, 10: 6, 11: 30}


@dataclass
class CoverageRow:
    id: str
    tool_status: str  # ACTIVE, WARN, INERT, LOG, SHEET, UNUSED (in the IHE-RO test tool)
    object: str
    path: str
    status: str  # covered | partly | not-applicable
    rules: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def checks(self) -> list[str]:
        return [*self.rules, *self.engines, *(f"scenario {s}" for s in self.scenarios)]

    def to_dict(self) -> dict:
        return asdict(self)


def coverage_path() -> Path:
    return Path(str(resources.files("rtconform") / "data" / "ihe-ro-brto-coverage.yaml"))


def load_coverage(path: Path | None = None) -> list[CoverageRow]:
    data = yaml.safe_load((path or coverage_path()).read_text(encoding="utf-8"))
    return [CoverageRow(id=key, **value) for key, value in data["rows"].items()]


def expected_ids() -> list[str]:
    return [f"BRTO-RO{n}-{i:02d}" for n, count in ROWS_PER_TRANSACTION.items()
            for i in range(1, count + 1)]


def totals(rows: list[CoverageRow]) -> dict[str, int]:
    out = {"rows": len(rows), **{s: 0 for s in STATUSES}}
    for row in rows:
        out[row.status] += 1
    return out

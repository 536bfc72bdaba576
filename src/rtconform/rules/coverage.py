"""A profile's outside checklist (the IHE-RO test tool's, for `brto` and
`tppc`), row by row, mapped to what checks it here: rule ids, standard
engines, or scenarios of `features/` (by transaction and name).

The map is data in the profile's package (`Checklist.file`, shipped with
it); tests keep it whole: every row of the checklist is mapped, and every
rule id or scenario it names exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from rtconform.rules.profiles import Profile, get

STATUSES = ("covered", "partly", "not-applicable")


@dataclass
class CoverageRow:
    id: str
    tool_status: str  # how the outside tool treats the row (ACTIVE, INERT, live (1st) …)
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


def checklist_profile(name: str = "brto") -> Profile:
    profile = get(name)
    if profile.checklist is None:
        with_one = [p.name for p in _with_checklist()]
        raise KeyError(f"profile {name!r} maps no outside checklist; these do: "
                       f"{', '.join(with_one)}")
    return profile


def _with_checklist() -> list[Profile]:
    from rtconform.rules.profiles import profiles

    return [p for p in profiles().values() if p.checklist]


def coverage_path(name: str = "brto") -> Path:
    profile = checklist_profile(name)
    return profile.resource(profile.checklist.file)


def load_coverage(name: str = "brto", path: Path | None = None) -> list[CoverageRow]:
    data = yaml.safe_load((path or coverage_path(name)).read_text(encoding="utf-8"))
    return [CoverageRow(id=key, **value) for key, value in data["rows"].items()]


def expected_ids(name: str = "brto") -> list[str]:
    return list(checklist_profile(name).checklist.ids)


def totals(rows: list[CoverageRow]) -> dict[str, int]:
    out = {"rows": len(rows), **{s: 0 for s in STATUSES}}
    for row in rows:
        out[row.status] += 1
    return out

"""Profiles: which rules apply, and how strictly. A profile is data, so
BRTO-II or a plan-content profile is one more entry here, not new code.

`dicom-rt` is generic cross-object consistency (what any RT exporter owes its
receivers); `brto` adds the IHE-RO Basic RT Objects content constraints (the
TRO 2007 profile: photon 3D conformal plans, the geometric-plan shape, the
strict dose) as the IHE-RO test tool checks them at a connectathon.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from rtconform.findings import Severity
from rtconform.rules.registry import Rule, all_rules


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    source: str
    includes: tuple[str, ...] = ()
    # rule id → severity the profile gives it (BRTO makes some warnings errors)
    severity: dict[str, Severity] = field(default_factory=dict)
    # off-by-default rule tags the profile switches on
    enable_tags: frozenset[str] = frozenset()


PROFILES: dict[str, Profile] = {
    "dicom-rt": Profile(
        "dicom-rt", "DICOM RT objects: IOD content and cross-object consistency",
        "DICOM PS3.3 (RT modules), PS3.5, PS3.10"),
    "brto": Profile(
        "brto", "IHE-RO Basic Radiation Therapy Objects (TRO 2007) content profile",
        "IHE-RO Technical Framework, BRTO (TRO 2007) RO-1 … RO-11; IHE-RO test tool BRTO rules",
        includes=("dicom-rt",),
        severity={"SS-ROI-NAME-UNIQUE": Severity.ERROR}),
}


def profile_names(name: str) -> list[str]:
    """The profile and every profile it builds on, most basic first."""
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}")
    out: list[str] = []
    for base in PROFILES[name].includes:
        out += [n for n in profile_names(base) if n not in out]
    return [*out, name]


def rules_of(name: str, enable_tags: frozenset[str] = frozenset(),
             include_off: bool = False) -> list[Rule]:
    """The rules a profile applies, with the profile's severities."""
    names = profile_names(name)
    overrides: dict[str, Severity] = {}
    tags = set(enable_tags)
    for n in names:
        overrides.update(PROFILES[n].severity)
        tags |= PROFILES[n].enable_tags
    out = []
    for r in all_rules():
        if r.profile not in names:
            continue
        if not (include_off or r.default_on or r.tags & tags):
            continue
        out.append(dataclasses.replace(r, severity=overrides.get(r.id, r.severity)))
    return out

"""Waivers: findings a team has accepted, with a reason and an optional expiry,
so CI can gate on *new* problems in data with known defects.

    - rule: DCIODVFY-ERROR
      reason: vendor X writes an illegal UID root; ticket 123
      file: "*/CT*.dcm"          # optional glob on the file path
      sop_instance: 1.2.3        # optional
      message: Illegal root      # optional substring of the message or the tag path
      expires: 2027-06-30        # optional
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path

from rtconform.findings import Finding, Severity, rule_ids_of
from rtconform.yaml_config import ConfigError, load_checked

SOURCE = "rtconform waivers file"
SCHEMA = {
    "type": ["array", "null"],
    "items": {
        "type": "object", "additionalProperties": False, "required": ["rule", "reason"],
        "properties": {
            "rule": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "pattern": "\\S"},
            "file": {"type": "string"}, "sop_instance": {"type": "string"},
            "message": {"type": "string"},
            "expires": {},  # YYYY-MM-DD: YAML reads a date, checked below
        },
    },
}


class WaiverError(ValueError):
    """A waivers file that cannot be used, with the location of the problem."""


@dataclass
class Waiver:
    rule: str
    reason: str
    file: str | None = None
    sop_instance: str | None = None
    message: str | None = None
    expires: dt.date | None = None
    where: str = ""  # file:line of the entry, as findings about it say
    used: int = 0

    def matches(self, finding: Finding) -> bool:
        return (
            self.rule in rule_ids_of(finding)
            and (self.sop_instance is None or finding.sop_instance_uid == self.sop_instance)
            and (self.file is None or fnmatch.fnmatch(finding.file, self.file))
            and (self.message is None or self.message in finding.message
                 or self.message in finding.tag_path)  # as the console shows them
        )


def example() -> str:
    """The commented example waivers file shipped with rtconform (it waives nothing)."""
    from importlib import resources

    return resources.files("rtconform").joinpath("waivers-example.yaml").read_text(
        encoding="utf-8")


def load_waivers(path: Path) -> list[Waiver]:
    if not Path(path).exists():
        raise WaiverError(f"{path}: no such file (waivers are optional: leave --waivers out, "
                          f"or write a commented one that waives nothing with `rtconform "
                          f"waivers example > {path}`)")
    lines: dict = {}
    try:
        data = load_checked(Path(path), SCHEMA, lines) or []
    except ConfigError as exc:
        raise WaiverError(str(exc)) from exc
    waivers = []
    for i, entry in enumerate(data):
        where = f"{path}:{lines.get((i,), 0)}"
        expires = entry.get("expires")
        if expires is not None and not isinstance(expires, dt.date):
            try:
                expires = dt.date.fromisoformat(str(expires))
            except ValueError as exc:
                raise WaiverError(f"{where}: expires {expires!r} is not a YYYY-MM-DD date") \
                    from exc
        waivers.append(Waiver(str(entry["rule"]), str(entry["reason"]).strip(),
                              entry.get("file"), entry.get("sop_instance"),
                              entry.get("message"), expires, where))
    return waivers


def apply_waivers(findings: list[Finding], waivers: list[Waiver], source: Path,
                  today: dt.date | None = None) -> list[Finding]:
    """Mark matching findings waived; report expired and unused waivers."""
    today = today or dt.date.today()
    extra = []
    for waiver in waivers:
        expired = waiver.expires is not None and waiver.expires < today
        for finding in findings:
            if waiver.matches(finding):
                waiver.used += 1
                if not expired:
                    finding.waived = True
                    finding.waiver_reason = waiver.reason
        where = f"waiver {waiver.where} ({waiver.rule})"
        if expired:
            extra.append(Finding("WAIVER-EXPIRED", Severity.WARNING,
                                 f"{where} expired on {waiver.expires}; its findings count again",
                                 SOURCE, str(source)))
        elif not waiver.used:
            extra.append(Finding("WAIVER-UNUSED", Severity.WARNING,
                                 f"{where} matched no finding; remove it", SOURCE, str(source)))
    return findings + extra

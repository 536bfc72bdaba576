"""Waivers: findings a team has accepted, with a reason and an optional expiry,
so CI can gate on *new* problems in data with known defects.

    - rule: DCIODVFY-ERROR
      reason: vendor X writes an illegal UID root; ticket 123
      file: "*/CT*.dcm"          # optional glob on the file path
      sop_instance: 1.2.3        # optional
      message: Illegal root      # optional substring of the message
      expires: 2027-06-30        # optional
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml

from rtconform.findings import Finding, Severity

SOURCE = "rtconform waivers file"


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
    index: int = 0
    used: int = 0

    def matches(self, finding: Finding) -> bool:
        return (
            finding.rule_id == self.rule
            and (self.sop_instance is None or finding.sop_instance_uid == self.sop_instance)
            and (self.file is None or fnmatch.fnmatch(finding.file, self.file))
            and (self.message is None or self.message in finding.message)
        )


def load_waivers(path: Path) -> list[Waiver]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WaiverError(f"{path}: cannot be read as YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise WaiverError(f"{path}: expected a list of waivers, found {type(data).__name__}")
    waivers = []
    for i, entry in enumerate(data):
        where = f"{path}: waiver #{i + 1}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where}: expected a mapping")
        unknown = set(entry) - {"rule", "reason", "file", "sop_instance", "message", "expires"}
        if unknown:
            raise WaiverError(f"{where}: unknown keys {sorted(unknown)}")
        if not entry.get("rule") or not str(entry.get("reason", "")).strip():
            raise WaiverError(f"{where}: 'rule' and a non-empty 'reason' are required")
        expires = entry.get("expires")
        if expires is not None and not isinstance(expires, dt.date):
            try:
                expires = dt.date.fromisoformat(str(expires))
            except ValueError as exc:
                raise WaiverError(f"{where}: expires {expires!r} is not a YYYY-MM-DD date") \
                    from exc
        waivers.append(Waiver(str(entry["rule"]), str(entry["reason"]).strip(),
                              entry.get("file"), entry.get("sop_instance"),
                              entry.get("message"), expires, i + 1))
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
        where = f"waiver #{waiver.index} ({waiver.rule})"
        if expired:
            extra.append(Finding("WAIVER-EXPIRED", Severity.WARNING,
                                 f"{where} expired on {waiver.expires}; its findings count again",
                                 SOURCE, str(source)))
        elif not waiver.used:
            extra.append(Finding("WAIVER-UNUSED", Severity.WARNING,
                                 f"{where} matched no finding; remove it", SOURCE, str(source)))
    return findings + extra

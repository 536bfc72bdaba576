"""The one result type every check produces, whatever engine or rule raised it.

A finding always says where (file, SOP Instance UID, tag path), what (message)
and why (rule id and its source), so a vendor can act on it without us.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class Severity(enum.StrEnum):
    """error: violates the standard or the profile; warning: legal but known to
    break receivers; info: worth knowing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


MAX_MESSAGE = 1000
MAX_FIELD = 256  # a UID or tag path quoted from a broken file (a UID of 200,000 characters)
BOUNDED_SOURCE = "rtconform: findings per rule and file are bounded"
_MARGIN = 40  # longer than any "… (N more characters)"
MAX_PER_RULE_AND_FILE = 100  # beyond: one finding says how many more


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    message: str
    source: str = ""
    file: str = ""
    sop_instance_uid: str = ""
    tag_path: str = ""
    engine: str = "tro"
    waived: bool = False
    waiver_reason: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a broken file can make a quoted value hundreds of kilobytes long; ten
        # thousand of them made a JSON of gigabytes
        # (the margin keeps a finding read back from JSON as it was written)
        if len(self.message) > MAX_MESSAGE + _MARGIN:
            self.message = (f"{self.message[:MAX_MESSAGE]} … "
                            f"({len(self.message) - MAX_MESSAGE} more characters)")
        # repeated on every finding of the file: 18,000 findings quoting one
        # 200 KB UID made a 4 GB result
        for name in ("sop_instance_uid", "tag_path"):
            value = getattr(self, name)
            if len(value) > MAX_FIELD + _MARGIN:
                setattr(self, name, f"{value[:MAX_FIELD]}… ({len(value) - MAX_FIELD} more "
                                    "characters)")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = str(self.severity)
        if not data["extra"]:
            del data["extra"]
        return data

    @property
    def counts_as_error(self) -> bool:
        return self.severity is Severity.ERROR and not self.waived


def sort_key(finding: Finding) -> tuple:
    return (finding.severity.rank, finding.rule_id, finding.file, finding.tag_path)


def merge_engines(findings: list[Finding]) -> list[Finding]:
    """One defect, one finding: findings of different engines on the same
    element of the same file with the same severity (dciodvfy's 'Value
    invalid for this VR [UI]' and UID-VALID on one UID) become the first of
    them, naming every source; the others' rule ids stay matchable (waivers)."""
    first: dict[tuple, Finding] = {}
    out = []
    for f in findings:
        key = (f.file, f.tag_path, f.severity)
        kept = first.get(key) if f.file and f.tag_path else None
        if kept is None or kept.engine == f.engine:
            first.setdefault(key, f)
            out.append(f)
            continue
        also = kept.extra.setdefault("also", [])
        also.append({"rule_id": f.rule_id, "engine": f.engine, "message": f.message,
                     "source": f.source})
        kept.message = f"{kept.message} (also {f.engine} {f.rule_id}: {f.message})"
        kept.source = f"{kept.source}; {f.source}" if f.source not in kept.source else kept.source
    return out


def rule_ids_of(finding: Finding) -> set[str]:
    """The finding's rule id and those of the engine findings merged into it."""
    return {finding.rule_id, *(a["rule_id"] for a in finding.extra.get("also", []))}


def bounded(findings: list[Finding]) -> list[Finding]:
    """At most MAX_PER_RULE_AND_FILE findings of one rule on one file, then one
    saying how many more (a fuzzed structure set gave 10,000 UID-VALID).
    Bounding twice (in a worker, then over the whole set) says the same."""
    seen: dict[tuple[str, str, Severity], int] = {}
    more: dict[tuple[str, str, Severity], int] = {}
    out = []
    for f in findings:
        key = (f.rule_id, f.file, f.severity)
        if f.source == BOUNDED_SOURCE:  # already bounded once: carry its count
            more[key] = more.get(key, 0) + int(f.extra.get("more", 0))
            continue
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= MAX_PER_RULE_AND_FILE:
            out.append(f)
    for key in {**seen, **more}:
        n = max(seen.get(key, 0) - MAX_PER_RULE_AND_FILE, 0) + more.get(key, 0)
        if n > 0:
            rule_id, file, severity = key
            out.append(Finding(rule_id, severity, f"… and {n} more "
                               f"{rule_id} findings on this file (the first "
                               f"{MAX_PER_RULE_AND_FILE} are listed)", BOUNDED_SOURCE, file,
                               extra={"more": n}))
    return out

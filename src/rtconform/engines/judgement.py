"""Standard engines judged, not parroted.

dciodvfy and dicom-validator are right most of the time; where rtconform knows
an engine's finding to be wrong or undecidable on the object in hand, it
evaluates the standard's own condition and, when that condition is not met,
lists the finding as info under the table entry's id, with the engine's text,
its own id and severity, rtconform's reason and the citation: never dropped,
so a reader can disagree. `--strict-engines` keeps
every engine finding at the engine's own severity.

Each entry is evaluated on the object, never blanket: a CT of a paired body
part without Laterality, or a structure set whose Frame of Reference module is
half present, keeps the engine's error. Each is proven on real data in
tests/system/test_real_data.py and tests/rules/test_engines.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from rtconform.dicom.anatomy import CONDITION, laterality_condition
from rtconform.dicom.uids import RT_STRUCTURE_SET_STORAGE
from rtconform.findings import Finding, Severity

STRICT_ENV = "RTCONFORM_STRICT_ENGINES"  # "1": keep every engine finding's own severity
RT_STRUCTURE_SET_FRAME_OF_REFERENCE = (
    "PS3.3 A.19.3 Table A.19.3-1 (RT Structure Set IOD: Frame of Reference module C.7.4.1 "
    "usage U; note 2: previously not included, see PS3.3-2014b, and a structure set may "
    "reference several frames of reference in Referenced Frame of Reference Sequence "
    "(3006,0010), in which case the module is absent)")


@dataclass(frozen=True)
class KnownEngineFinding:
    """An engine finding rtconform judges itself before calling it an error."""

    id: str
    engine: str
    title: str
    citation: str
    matches: Callable[[Finding], bool]
    # the reason the finding is not an error on this object; None: it stands
    judge: Callable[[Dataset], str | None]


def _missing(finding: Finding, module: str, attributes: Iterable[str]) -> bool:
    return (finding.severity is Severity.ERROR and finding.tag_path in attributes
            and "Missing attribute" in finding.message
            and re.search(rf"Module=<{module}>", finding.message) is not None)


def _laterality_not_required(ds: Dataset) -> str | None:
    condition = laterality_condition(ds)
    return None if condition.required else f"Laterality is not required: {condition.reason}"


def _frame_of_reference_module_absent(ds: Dataset) -> str | None:
    if str(ds.get("SOPClassUID", "")) != RT_STRUCTURE_SET_STORAGE:
        return None
    present = [k for k in ("FrameOfReferenceUID", "PositionReferenceIndicator") if k in ds]
    if present:  # the module is there: it must be whole
        return None
    return ("the Frame of Reference module is absent as a whole, which the RT Structure Set "
            "IOD allows (usage U); the frames of reference are those of Referenced Frame of "
            "Reference Sequence")


KNOWN: tuple[KnownEngineFinding, ...] = (
    KnownEngineFinding(
        "DCIODVFY-LATERALITY", "dciodvfy",
        "dciodvfy requires Laterality (Type 2C) of an image unless its Body Part Examined is a "
        "term it knows to be unpaired, so an absent or unknown body part fails",
        CONDITION,
        lambda f: _missing(f, "GeneralSeries", ("Laterality",)),
        _laterality_not_required),
    KnownEngineFinding(
        "DCIODVFY-RTSTRUCT-FRAME-OF-REFERENCE", "dciodvfy",
        "dciodvfy requires the Frame of Reference module in every RT Structure Set",
        RT_STRUCTURE_SET_FRAME_OF_REFERENCE,
        lambda f: _missing(f, "FrameOfReference",
                           ("FrameOfReferenceUID", "PositionReferenceIndicator")),
        _frame_of_reference_module_absent),
)


def judge(findings: list[Finding], path: Path, engine: str,
          dataset: Dataset | None = None) -> list[Finding]:
    """The engine's findings with those rtconform knows to be wrong here
    demoted to info (in place, same order). The file's header is read only
    when a finding of the table is among them."""
    candidates = [(f, k) for f in findings for k in KNOWN
                  if k.engine == engine and k.matches(f)]
    if not candidates:
        return findings
    if dataset is None:
        try:
            dataset = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception as exc:  # the engine's own severity stands, and says why
            for finding, _ in candidates:
                finding.extra["not_judged"] = f"header unreadable: {type(exc).__name__}: {exc}"
            return findings
    for finding, known in candidates:
        reason = known.judge(dataset)
        if reason is None:
            continue
        finding.extra["engine_severity"] = str(finding.severity)
        finding.extra["engine_rule_id"] = finding.rule_id
        finding.extra["judged"] = {"id": known.id, "reason": reason,
                                   "citation": known.citation}
        finding.rule_id = known.id
        finding.severity = Severity.INFO
        finding.message = (f"{finding.message} [not an error here: {reason}; "
                           f"{known.citation}]")
    return findings


def demoted(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if "judged" in f.extra]


def summary(findings: Iterable[Finding]) -> list[str]:
    """One line per kind of demoted engine finding and reason, for the console."""
    counts = Counter((f.engine, f.tag_path, f.extra["judged"]["reason"],
                      f.extra["judged"]["citation"], f.extra.get("engine_severity", ""))
                     for f in demoted(findings))
    return [f"{n} × {engine} {severity} on {tag or 'the file'} judged info: {reason} "
            f"({citation}); --strict-engines keeps the engine's severity"
            for (engine, tag, reason, citation, severity), n in sorted(counts.items())]

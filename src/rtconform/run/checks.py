"""The harness's judgement of what came back in a scenario: what the SUT
sent (and whether it reused a UID it was given), the kind of plan it made,
whether it refused a broken input, whether an Archive returned what it was
given unchanged and found what it holds. Each failure is a
`ScenarioFailure` whose message is the evidence."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from rtconform.actors.query import answer_problems
from rtconform.dicom.compare import differences
from rtconform.dicom.index import Unreadable, read_instance
from rtconform.dicom.rt import is_dosimetric
from rtconform.run.scenario import Scenario, ScenarioFailure


def received(scenario: Scenario, modality: str) -> list[Path]:
    """Objects of `modality` the SUT sent (or exported). One stored under the
    UID of an object it was given is a failure: the harness keeps its own
    copy, so say so rather than lose it silently."""
    paths = scenario.driver.received(scenario, modality)
    reused = sorted({uid for r in scenario.sut_requested() for uid in r.stores_received()
                     if uid in scenario.harness_seeded})
    if reused:
        raise ScenarioFailure(
            f"BRTO-NEW-SOP-INSTANCE: the system under test stored {len(reused)} object(s) "
            f"under SOP Instance UIDs of objects it was given (e.g. {reused[0]}); what an "
            "actor produces needs new UIDs (IHE-RO test tool BRTO-RO2-50, BRTO-RO3-52, "
            "BRTO-RO4-37, BRTO-RO5-39, BRTO-RO11-20)")
    return paths


def judging_context(scenario: Scenario) -> tuple[list[Path], list[Path]]:
    """(what the SUT was given, the other objects its references may name);
    a file exporter was given nothing: its own export is the context."""
    return scenario.driver.judging_context(scenario)


def plan_kinds(paths: list[Path]) -> list[str]:
    return ["dosimetric" if is_dosimetric(pydicom.dcmread(p)) else "geometric" for p in paths]


def plans_of_kind(scenario: Scenario, kind: str) -> None:
    """What a planner sent in RO-3 (RO-4) is a geometric (dosimetric)
    plan. An export folder holds both kinds: each transaction judges its
    own, and there must be one."""
    kinds = dict(zip(scenario.received, plan_kinds(scenario.received), strict=True))
    if scenario.driver.exports_files:
        scenario.received = [p for p, k in kinds.items() if k == kind]
        if not scenario.received:
            raise ScenarioFailure(f"no {kind} plan in the export folder")
        return
    other = [p.name for p, k in kinds.items() if k != kind]
    if other:
        raise ScenarioFailure(f"expected {kind} plans only; {', '.join(other)} is not")


def unreadable_exports(scenario: Scenario) -> list[str]:
    """For a file exporter, what a C-STORE status says on the wire: the
    exported objects of this scenario that are not complete DICOM files."""
    out = []
    for path in scenario.received:
        read = read_instance(path)
        if isinstance(read, Unreadable):
            out.append(f"{path.name}: {read.reason}")
    return out


def assert_refused(scenario: Scenario, actor: str) -> None:
    """The SUT must show that it refused its input: the embedded actor's
    verdict, a trigger that exits non-zero, or an operator who says so."""
    if scenario.result is not None and scenario.result.refused:
        return
    raise ScenarioFailure(f"the {actor} under test gave no sign of refusing its input "
                          f"(outcome {scenario.outcome}); a trigger should exit non-zero, an "
                          "operator answer 'refused'")


def assert_unchanged(scenario: Scenario, pairs: list[tuple[Dataset, Dataset]]) -> None:
    """Storage level 2: what the Archive returns is what it was sent. The
    evidence: each differing attribute with the value sent and the value
    returned, and whether the Archive returned a copy the harness stored
    earlier under that UID (one that keeps the first copy it got)."""
    changed = []
    for sent, back in pairs:
        diff = differences(sent, back, limit=5)
        if not diff:
            continue
        uid = str(sent.SOPInstanceUID)
        earlier = scenario.ctx.earlier_copy(uid, back, sent)
        why = (f" — it is the copy the harness stored earlier under this UID in scenario "
               f"{earlier!r}" if earlier else "")
        changed.append(f"{sent.get('Modality', '')} {uid}{why}: " + "; ".join(map(str, diff)))
    if changed:
        raise ScenarioFailure(
            f"ARCHIVE-STORAGE-LEVEL-2: {len(changed)} of {len(pairs)} objects came back "
            f"changed (IHE-RO test tool CompareRule, BRTO-RO1-06 …; PS3.4 B.4.1 storage "
            f"level 2): " + " | ".join(changed[:3])
            + (f" | … and {len(changed) - 3} more" if len(changed) > 3 else ""))


def assert_found(scenario: Scenario, query: dict) -> None:
    """The conformance-table C-FIND found the stored entity, and nothing
    that does not match its key."""
    problems = answer_problems(query["level"], query["keyword"], query["value"],
                               query["held"], query["answers"])
    if problems:
        text = [f"ARCHIVE-FIND-MATCH: {p}" for p in problems[:5]]
        scenario.ctx.record_problems(scenario.name, text)
        raise ScenarioFailure("; ".join(text))


def find_problems(answers: list[Dataset], sent: list[Dataset], modality: str,
                  level: str) -> list[str]:
    """What is wrong with a C-FIND answer for what this scenario stored: every
    series (or study) it stored must be found, and a SERIES answer must carry
    the Modality asked for."""
    if not answers:
        return [f"no {modality} match at {level} level"]
    key = "SeriesInstanceUID" if level == "SERIES" else "StudyInstanceUID"
    found = {str(ds.get(key, "")) for ds in answers}
    missing = sorted({str(ds.get(key, "")) for ds in sent} - found)
    problems = [f"{key} {uid} stored but not found at {level} level" for uid in missing]
    if level == "SERIES":
        problems += [f"series {ds.get('SeriesInstanceUID', '?')} answered with Modality "
                     f"{ds.get('Modality', '(none)')!s}, asked {modality}"
                     for ds in answers if str(ds.get("Modality", "")) != modality]
    return problems

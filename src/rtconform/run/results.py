"""What a scenario run leaves, read and written once the scenario processes
have finished: JUnit and cucumber labelled as a CI server shows them, each
scenario's result (with the rule ids its failure names), and summary.json
with what makes the run reproducible."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rtconform.run.sut import SutConfig
from rtconform.run_folder import RunFolder


def _rule_id_pattern() -> re.Pattern:
    """Ids a failure message may name: every registered rule's prefix, and the
    engines' and scenario steps' own."""
    from rtconform.rules.profiles import all_rules

    prefixes = {r.id.split("-")[0] for r in all_rules()} | {"DCIODVFY", "DV", "ARCHIVE"}
    # BRTO-RO2-50 … are rows of the IHE-RO test tool's checklist, cited, not rule ids
    return re.compile(r"\b(?:" + "|".join(sorted(prefixes)) + r")-(?!RO\d)[A-Z0-9-]+\b")


RULE_ID = _rule_id_pattern()


@dataclass
class ScenarioResult:
    feature: str
    transaction: str
    name: str
    status: str  # passed | failed | skipped
    message: str = ""
    rule_ids: tuple[str, ...] = ()


def label_outputs(folder: RunFolder, sut: SutConfig) -> None:
    """JUnit and cucumber as a CI server shows them: one JUnit class per
    transaction (rtconform.RO-2) with the Gherkin scenario name and the SUT
    as suite properties; cucumber feature URIs as packaged (generated
    conformance tables under generated/, not a deleted temporary folder)."""
    from xml.etree import ElementTree

    from rtconform.xmltext import xml_text

    events = {}
    path = folder.file(RunFolder.PROGRESS)
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event.get("event") == "scenario" and event.get("test"):
                events[event["test"]] = event
    junit = folder.file(RunFolder.JUNIT)
    if junit.is_file():
        tree = ElementTree.parse(junit)
        for suite in tree.iter("testsuite"):
            props = ElementTree.Element("properties")
            for key, value in (("sut", sut.name), ("sut.actors", ", ".join(sut.actors)),
                               ("sut.peer", str(sut.peer or sut.export_dir or "embedded")),
                               ("harness.ae", sut.harness_ae)):
                ElementTree.SubElement(props, "property", name=key, value=xml_text(value))
            suite.insert(0, props)
            suite.set("name", "rtconform")
        for case in tree.iter("testcase"):
            for failure in case.iter("failure"):  # pytest ≥ 9.2 abbreviates the attribute
                if failure.text and failure.get("message") != failure.text:
                    failure.set("message", failure.text)
            event = events.get(case.get("name", ""))
            if event:
                case.set("classname", f"rtconform.{event['transaction']}")
                case.set("name", xml_text(event["name"]))
        tree.write(junit, encoding="utf-8", xml_declaration=True)
    cucumber = folder.file(RunFolder.CUCUMBER)
    if cucumber.is_file():
        features = json.loads(cucumber.read_text(encoding="utf-8"))
        for feature in features:
            uri = Path(feature.get("uri", ""))
            feature["uri"] = (f"features/{uri.name}" if uri.parts[:1] == ("features",)
                              else f"features/generated/{uri.name}")
        cucumber.write_text(json.dumps(features, indent=1), encoding="utf-8")


def read_results(cucumber: Path) -> list[ScenarioResult]:
    if not cucumber.is_file():
        return []
    results = []
    for feature in json.loads(cucumber.read_text(encoding="utf-8")):
        transaction = next((t["name"].upper().replace("RO", "RO-") for t in
                            feature.get("tags", []) if re.fullmatch(r"ro\d+", t["name"])),
                           "TPPC" if any(t["name"] == "tppc" for t in feature.get("tags", []))
                           else "conformance")
        for element in feature.get("elements", []):
            steps = element.get("steps", [])
            statuses = [s.get("result", {}).get("status", "skipped") for s in steps]
            status = "failed" if "failed" in statuses else \
                "passed" if statuses and all(s == "passed" for s in statuses) else "skipped"
            message = next((s["result"].get("error_message", "") for s in steps
                            if s.get("result", {}).get("status") == "failed"), "")
            results.append(ScenarioResult(feature["name"], transaction, element["name"], status,
                                          message[-2000:],
                                          tuple(sorted(set(RULE_ID.findall(message))))))
    return results


def run_settings(sut: SutConfig, settings: dict) -> dict:
    """What a signed report's header must state to make the run reproducible:
    when, with which rtconform and engines (versions), profile, stimulus, and
    the AE titles and ports the harness used."""
    from rtconform import __version__
    from rtconform.engines import describe_engines
    from rtconform.run.session import RunContext

    engines = [e for e in str(settings.get("engines", "auto")).split(",") if e]
    return {
        "started": settings.get("started", ""),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "rtconform": __version__, "profile": settings.get("profile") or RunContext.profile,
        "stimulus": settings.get("stimulus", ""), "seed": settings.get("seed", ""),
        "tags": settings.get("tags", ""),
        "statement": settings.get("statement", ""),
        "engines": describe_engines(engines or ["auto"]),
        "harness": {"calling_ae": sut.harness_ae, "archive_ae": sut.harness_ae,
                    "archive_port": sut.harness_port, "receive_ae": sut.receive_ae,
                    "receive_port": sut.receive_port,
                    "tls": sut.tls.describe() if sut.tls else ""},
    }


def write_summary(folder: RunFolder, sut: SutConfig, results: list[ScenarioResult],
                  code: int, settings: dict | None = None) -> None:
    counts = Counter(r.status for r in results)
    summary = {
        "seed": (settings or {}).get("seed", ""),
        "sut": {"name": sut.name, "actors": list(sut.actors), "embedded": sut.embedded,
                "peer": str(sut.peer) if sut.peer else None,
                "export_dir": str(sut.export_dir) if sut.export_dir else None},
        "run": run_settings(sut, settings or {}),
        "counts": dict(counts), "exit_code": 0 if code == 0 else 1,
        "scenarios": [r.__dict__ | {"rule_ids": list(r.rule_ids)} for r in results],
    }
    folder.write_summary(summary)

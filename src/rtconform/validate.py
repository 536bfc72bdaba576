"""The validation pipeline: files → instance index → object graph → checks →
findings.

Files stream through once: each header is read, checked by the per-file rules
and handed to the standard engines (in a small thread pool, since dciodvfy is
a process per file), then dropped unless it is an RT object the graph rules
need. Memory therefore grows with the number of RT objects, not of images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import (
    MEDIA_STORAGE_DIRECTORY,
    Instance,
    Unreadable,
    iter_files,
    known_sop_class,
    read_instance,
)
from rtconform.engines import Engine
from rtconform.findings import Finding, Severity, sort_key
from rtconform.redact import Redactor
from rtconform.rules.registry import RULES, Issue, Rule, RuleContext, all_rules

MAX_IN_FLIGHT = 16


@dataclass
class ValidationOptions:
    engines: list[Engine] = field(default_factory=list)
    use_tro_rules: bool = True
    context: RuleContext = field(default_factory=RuleContext)
    rule_tags: frozenset[str] = frozenset()  # off-by-default rules to switch on
    redactor: Redactor | None = None
    workers: int = 2


@dataclass
class ValidationResult:
    findings: list[Finding]
    graph: ObjectGraph
    files: int
    engine_notes: dict[str, str]  # engine name → why it did not run

    @property
    def errors(self) -> int:
        return sum(f.counts_as_error for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def _finding(rule: Rule, issue: Issue, inst: Instance | None = None, file: str = "") -> Finding:
    inst = issue.instance or inst
    return Finding(
        rule_id=rule.id,
        severity=issue.severity or rule.severity,
        message=issue.message,
        source=rule.source,
        file=str(inst.path) if inst else file,
        sop_instance_uid=inst.sop_instance_uid if inst else "",
        tag_path=issue.tag_path,
    )


def run_rule(rule: Rule, *args, inst: Instance | None = None) -> list[Finding]:
    """Run one rule; a rule that breaks on strange input becomes a finding
    naming the rule, never a crash of the harness."""
    try:
        return [_finding(rule, issue, inst) for issue in rule.check(*args)]
    except Exception as exc:
        return [Finding("RULE-FAILED", Severity.WARNING,
                        f"rule {rule.id} could not finish: {type(exc).__name__}: {exc}",
                        "rtconform internal", str(inst.path) if inst else "",
                        inst.sop_instance_uid if inst else "", extra={"rule": rule.id})]


def active_rules(options: ValidationOptions) -> list[Rule]:
    if not options.use_tro_rules:
        return []
    return [r for r in all_rules() if r.default_on or (r.tags & options.rule_tags)]


def validate_paths(paths: Iterable[Path], options: ValidationOptions,
                   progress: Callable[[Path], None] | None = None) -> ValidationResult:
    rules = active_rules(options)
    instance_rules = [r for r in rules if r.scope == "instance"]
    graph_rules = [r for r in rules if r.scope == "graph"]
    ctx = options.context
    findings: list[Finding] = []
    graph = ObjectGraph()
    notes = {e.name: reason for e in options.engines if (reason := e.unavailable_reason())}
    engines = [e for e in options.engines if e.name not in notes]
    pending: list[Future] = []
    files = 0

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        for path in iter_files(paths):
            files += 1
            if progress:
                progress(path)
            read = read_instance(path)
            if isinstance(read, Unreadable):
                if options.use_tro_rules:
                    rule = RULES["FILE-UNREADABLE"]
                    findings += [_finding(rule, i, file=str(path))
                                 for i in rule.check(str(path), read.reason)]
                continue
            inst, ds = read
            if inst.sop_class_uid == MEDIA_STORAGE_DIRECTORY:
                continue  # a DICOMDIR indexes files; it is not an object of the set
            if options.redactor is not None:
                options.redactor.learn(ds)
            if options.use_tro_rules and not known_sop_class(inst.sop_class_uid):
                rule = RULES["FILE-UNKNOWN-SOP-CLASS"]
                findings += [_finding(rule, i, inst)
                             for i in rule.check(str(path), inst.sop_class_uid)]
            for rule in instance_rules:
                findings += run_rule(rule, inst, ds, ctx, inst=inst)
            graph.add(inst)
            for engine in engines:
                pending.append(pool.submit(engine.check_file, path, inst.sop_instance_uid))
            if len(pending) >= MAX_IN_FLIGHT:
                findings += pending.pop(0).result()
        for future in pending:
            findings += future.result()

    for rule in graph_rules:
        findings += run_rule(rule, graph, ctx)
    findings.sort(key=sort_key)
    return ValidationResult(findings, graph, files, notes)


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {str(s): 0 for s in Severity}
    counts["waived"] = 0
    for f in findings:
        if f.waived:
            counts["waived"] += 1
        else:
            counts[str(f.severity)] += 1
    return counts

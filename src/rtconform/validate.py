"""The validation pipeline: files → instance index → object graph → checks →
findings.

Files stream through once: each header is read, checked by the per-file rules
and handed to the standard engines (in a small thread pool, since dciodvfy is
a process per file), then dropped unless it is an RT object the graph rules
need. Memory therefore grows with the number of RT objects, not of images.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import (
    Instance,
    Unreadable,
    iter_files,
    known_sop_class,
    read_instance,
)
from rtconform.dicom.read import DEFAULT_MAX_OBJECT_BYTES, file_type
from rtconform.engines import Engine
from rtconform.findings import Finding, Severity, bounded, merge_engines, sort_key
from rtconform.redact import PROFILE as REDACTION
from rtconform.redact import Redactor
from rtconform.rules.fileset import RULE_IDS as FILESET_RULES
from rtconform.rules.profiles import rules_of
from rtconform.rules.registry import RULES, Issue, Rule, RuleContext

MAX_IN_FLIGHT = 16
FORMAT = "rtconform-findings/1"  # the JSON layout; a breaking change bumps it


@dataclass
class ValidationOptions:
    engines: list[Engine] = field(default_factory=list)
    use_tro_rules: bool = True
    context: RuleContext = field(default_factory=RuleContext)
    rule_tags: frozenset[str] = frozenset()  # off-by-default rules to switch on
    profile: str = "dicom-rt"
    # what the actor under test was given: in the graph so references resolve,
    # never judged itself (a scenario's stimulus, `validate --given DIR`)
    given: list[Path] = field(default_factory=list)
    redactor: Redactor | None = None
    workers: int = 2
    max_object_mb: int = DEFAULT_MAX_OBJECT_BYTES >> 20  # beyond it a file is not read


@dataclass
class ValidationResult:
    """The truth of one validation: findings after waivers, what ran, the
    exit code. The CLI only prints it."""

    findings: list[Finding]
    graph: ObjectGraph
    files: int
    engine_notes: dict[str, str]  # engine name → why it did not run
    engines_ran: list[str] = field(default_factory=list)
    profile: str = "dicom-rt"
    interrupted: bool = False  # Ctrl-C: the findings of the files done so far

    @property
    def errors(self) -> int:
        return sum(f.counts_as_error for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    @property
    def counts(self) -> dict[str, int]:
        return count_by_severity(self.findings)

    def with_waivers(self, waivers: list, source: Path) -> ValidationResult:
        """The same result with the waivers applied (and expired or unused
        waivers reported): what the exit code must say."""
        from rtconform.waivers import apply_waivers

        return dataclasses.replace(self, findings=apply_waivers(self.findings, waivers, source))

    def require_engines(self, names: list[str]) -> ValidationResult:
        """A CI gate: each named engine must have run, and on no file failed."""
        extra = []
        for name in names:
            if name not in self.engines_ran:
                why = self.engine_notes.get(name, "not selected by --engines")
                extra.append(Finding("ENGINE-REQUIRED", Severity.ERROR,
                                     f"{name} is required (--require-engines) and did not run: "
                                     f"{why}", "rtconform --require-engines"))
                continue
            failed = [f for f in self.findings if f.rule_id == "ENGINE-FAILED"
                      and (f.engine == name or f.source == name)]
            if failed:
                extra.append(Finding("ENGINE-REQUIRED", Severity.ERROR,
                                     f"{name} is required (--require-engines) and could not "
                                     f"judge {len(failed)} file(s), e.g. {failed[0].file}",
                                     "rtconform --require-engines"))
        return dataclasses.replace(self, findings=self.findings + extra)

    def to_json(self, inputs: list[Path], redacted: bool) -> dict:
        from rtconform import __version__

        return {
            "format": FORMAT, "tool": "rtconform", "version": __version__,
            "command": "validate",
            "inputs": [str(p) for p in inputs], "profile": self.profile, "files": self.files,
            "summary": self.graph.summary(), "counts": self.counts,
            "engines": {**{name: "ran" for name in self.engines_ran}, **self.engine_notes},
            "redacted": redacted, **({"redaction": REDACTION} if redacted else {}),
            "interrupted": self.interrupted,
            "exit_code": self.exit_code,
            "findings": [f.to_dict() for f in self.findings],
        }


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
    return rules_of(options.profile, options.rule_tags)


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
    given_files = _add_given(options.given, graph, ctx, findings)

    interrupted = False
    max_bytes = options.max_object_mb << 20
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        try:
            for path in iter_files(paths):
                files += 1
                if progress:
                    progress(path)
                try:
                    findings += _check_file(path, options, instance_rules, graph, engines,
                                            pool, pending, max_bytes)
                except Exception as exc:  # one file's problem is a finding on that file
                    findings.append(Finding(
                        "FILE-UNREADABLE", Severity.ERROR,
                        f"could not be checked: {type(exc).__name__}: {exc}",
                        "DICOM PS3.10 7 (file format); PS3.5 7 (data set encoding)",
                        str(path)))
                while len(pending) >= MAX_IN_FLIGHT:
                    findings += _engine_result(*pending.pop(0))
            for item in pending:
                findings += _engine_result(*item)
        except KeyboardInterrupt:  # keep what is done; the caller writes it and says so
            interrupted = True
            for future, _, _ in pending:
                future.cancel()

    if not interrupted:  # references across a half-read folder would be false alarms
        for rule in graph_rules:
            findings += [f for f in run_rule(rule, graph, ctx) if f.file not in given_files]
    findings.sort(key=lambda f: (f.engine != "tro", *sort_key(f)))  # the rule's wording first
    findings = sorted(bounded(merge_engines(findings)), key=sort_key)
    ran = [e.name for e in engines] + (["tro"] if options.use_tro_rules else [])
    return ValidationResult(findings, graph, files, notes, ran, options.profile, interrupted)


def _check_file(path: Path, options: ValidationOptions, instance_rules: list[Rule],
                graph: ObjectGraph, engines: list[Engine], pool: ThreadPoolExecutor,
                pending: list, max_bytes: int) -> list[Finding]:
    """Read one file, run the instance rules, queue the engines on it."""
    findings: list[Finding] = []
    read = read_instance(path, max_bytes)
    if isinstance(read, Unreadable):
        if not options.use_tro_rules:
            return findings
        if read.not_dicom and not meant_as_dicom(path):  # a PDF beside the export
            rule = RULES["FILE-NOT-DICOM"]
            findings += [_finding(rule, i, file=str(path))
                         for i in rule.check(str(path), file_type(path))]
        else:
            rule = RULES["FILE-UNREADABLE"]
            findings += [_finding(rule, i, file=str(path))
                         for i in rule.check(str(path), read.reason)]
        return findings
    inst, ds = read
    if inst.dicomdir:
        # a DICOMDIR indexes files, it is not an object of the set: its own checks
        if options.use_tro_rules:
            for rule_id in FILESET_RULES:  # PS3.10 / PS3.11
                findings += run_rule(RULES[rule_id], str(path), ds, inst=inst)
        return findings
    if options.redactor is not None:
        options.redactor.learn(ds)
    if options.use_tro_rules and not known_sop_class(inst.sop_class_uid):
        rule = RULES["FILE-UNKNOWN-SOP-CLASS"]
        findings += [_finding(rule, i, inst) for i in rule.check(str(path), inst.sop_class_uid)]
    for rule in instance_rules:
        findings += run_rule(rule, inst, ds, options.context, inst=inst)
    graph.add(inst)
    for engine in engines:
        pending.append((pool.submit(engine.check_file, path, inst.sop_instance_uid), engine,
                        inst))
    return findings


DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", ".ima")


def meant_as_dicom(path: Path) -> bool:
    """A file whose name says DICOM must be DICOM: unreadable is then an error."""
    return path.suffix.lower() in DICOM_SUFFIXES or path.name.upper() == "DICOMDIR"


def _engine_result(future: Future, engine: Engine, inst: Instance) -> list[Finding]:
    """An engine that raises on one file is a finding on that file, not a crash."""
    try:
        return future.result()
    except Exception as exc:
        return [Finding("ENGINE-FAILED", Severity.WARNING,
                        f"{engine.name} could not check the file: {type(exc).__name__}: {exc}",
                        engine.name, str(inst.path), inst.sop_instance_uid, engine=engine.name)]


def _add_given(paths: list[Path], graph: ObjectGraph, ctx: RuleContext,
               findings: list[Finding]) -> set[str]:
    """Index the stimulus into the graph and the rule context; a stimulus file
    that cannot be read is said once (the comparison then lacks it)."""
    given_files: set[str] = set()
    for path in iter_files(paths):
        read = read_instance(path)
        if isinstance(read, Unreadable):
            findings.append(Finding("GIVEN-UNREADABLE", Severity.WARNING,
                                    f"input file not read, so not compared: {read.reason}",
                                    "rtconform --given", str(path)))
            continue
        inst, _ = read
        graph.add(inst)
        ctx.given.setdefault(inst.sop_instance_uid, inst)
        given_files.add(str(path))
    return given_files


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {str(s): 0 for s in Severity}
    counts["waived"] = 0
    for f in findings:
        if f.waived:
            counts["waived"] += 1
        else:
            counts[str(f.severity)] += 1
    return counts

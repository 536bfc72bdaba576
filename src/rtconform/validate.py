"""The validation pipeline: files → instance index → object graph → checks →
findings.

Files stream through once: the per-file stage (`filecheck`: header, instance
rules, standard engines) runs on an executor (`executors`: threads here, a
process pool for `--jobs`, or a Dask cluster), a bounded number of files in
flight; only the index record comes back, a header dataset only for the RT
objects the graph rules need. The cross-object rules then run once on the
gathered graph. Memory therefore grows with the number of RT objects, not of
images. With a state file, each file's result is kept as it finishes, so an
interrupted validation can be resumed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance, Unreadable, iter_files, read_instance
from rtconform.dicom.read import DEFAULT_MAX_OBJECT_BYTES
from rtconform.engines import Engine
from rtconform.executors import results as file_results
from rtconform.filecheck import FileResult, FileSettings, ResumeState, run_rule
from rtconform.findings import Finding, Severity, bounded, merge_engines, sort_key
from rtconform.redact import PROFILE as REDACTION
from rtconform.redact import Redactor
from rtconform.rules.profiles import rules_of
from rtconform.rules.registry import Rule, RuleContext
from rtconform.usage import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

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
    jobs: int = 2  # files checked at once
    processes: bool = False  # `jobs` worker processes (the CLI) instead of threads
    scheduler: str | None = None  # a Dask scheduler's address: the per-file stage runs there
    state: Path | None = None  # per-file results kept here as they finish
    resume: bool = False  # reuse the results in `state` of files unchanged since
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
    reused: int = 0  # files whose earlier result was reused (--resume)
    resume_note: str = ""  # why earlier results were not reused

    @property
    def errors(self) -> int:
        return sum(f.counts_as_error for f in self.findings)

    @property
    def exit_code(self) -> int:
        if self.interrupted:  # Ctrl-C: the process exits 2, and its JSON says so
            return EXIT_USAGE
        return EXIT_FINDINGS if self.errors else EXIT_OK

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


def active_rules(options: ValidationOptions) -> list[Rule]:
    if not options.use_tro_rules:
        return []
    return rules_of(options.profile, options.rule_tags)


def validate_paths(paths: Iterable[Path], options: ValidationOptions,
                   progress: Callable[[Path], None] | None = None) -> ValidationResult:
    tick = progress or (lambda _path: None)
    ctx = options.context
    findings: list[Finding] = []
    graph = ObjectGraph()
    notes = {e.name: reason for e in options.engines if (reason := e.unavailable_reason())}
    engines = [e for e in options.engines if e.name not in notes]
    given_files = _add_given(options.given, graph, ctx, findings)
    settings = FileSettings(engines, options.use_tro_rules, ctx, options.profile,
                            options.rule_tags, options.redactor is not None and
                            options.redactor.enabled, options.max_object_mb << 20)
    files = list(iter_files(paths))
    state = ResumeState(options.state, settings.fingerprint()) if options.state else None
    done = _kept_from_earlier(state, options.resume, files, tick)
    reused = len(done)
    interrupted = _check_files(files, done, settings, options, state, tick)
    findings += _gathered(done, graph, options.redactor)
    if not interrupted:  # references across a half-read folder would be false alarms
        findings += [f for rule in active_rules(options) if rule.scope == "graph"
                     for f in run_rule(rule, graph, ctx) if f.file not in given_files]
    findings.sort(key=lambda f: (f.engine != "tro", *sort_key(f)))  # the rule's wording first
    findings = sorted(bounded(merge_engines(findings)), key=sort_key)
    ran = [e.name for e in engines] + (["tro"] if options.use_tro_rules else [])
    return ValidationResult(findings, graph, len(done), notes, ran, options.profile,
                            interrupted, reused, state.note if state and options.resume else "")


def _kept_from_earlier(state: ResumeState | None, resume: bool, files: list[Path],
                       tick: Callable[[Path], None]) -> dict[int, FileResult]:
    """With a state file: the results of files unchanged since the earlier run
    (--resume), by the file's place in the input; the state file is opened
    for this run's results."""
    if state is None:
        return {}
    earlier = state.load() if resume else {}
    done = {i: kept for i, path in enumerate(files)
            if (kept := state.reusable(earlier, path)) is not None}
    state.open({kept.path: kept for kept in done.values()})
    for i in done:
        tick(files[i])
    return done


def _check_files(files: list[Path], done: dict[int, FileResult], settings: FileSettings,
                 options: ValidationOptions, state: ResumeState | None,
                 tick: Callable[[Path], None]) -> bool:
    """The per-file stage on the files not `done`, each result kept in `done`
    (and the state file) as it finishes. True when Ctrl-C stopped it: what is
    done is kept, and the caller writes it and says so."""
    todo = [(i, p) for i, p in enumerate(files) if i not in done]
    try:
        for i, result in file_results(todo, settings, options.jobs, options.processes,
                                      options.scheduler):
            done[i] = result
            if state is not None:
                state.append(result)
            tick(files[i])
    except KeyboardInterrupt:
        return True
    finally:
        if state is not None:
            state.close()
    return False


def _gathered(done: dict[int, FileResult], graph: ObjectGraph,
              redactor: Redactor | None) -> list[Finding]:
    """The per-file findings in the input's order (whatever order the workers
    finished in); each file's identity to the redactor, its record to the graph."""
    findings: list[Finding] = []
    for i in sorted(done):
        result = done[i]
        findings += result.findings
        if redactor is not None:
            for value in result.identity:
                redactor.add(value)
        if result.instance is not None:
            graph.add(_with_dataset(result.instance))
    return findings


def _with_dataset(inst: Instance) -> Instance:
    """An RT object's record from a resumed state lacks its header: read again."""
    if inst.kind == "image" or inst.dataset is not None:
        return inst
    read = read_instance(inst.path)
    return inst if isinstance(read, Unreadable) else read[0]


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

"""The rule registry: every rule is a small function registered with its id,
severity, one-line statement and source. `rtconform rules` and the reports'
citations are read from here, so a rule cannot exist without its source.

Rules yield `Issue`s (what and where); the runner turns them into `Finding`s
with the rule's id, severity and source filled in.

This module is the bottom of `rules/`: the catalogue (rules/catalogue.py)
and every profile's rule modules register into `RULES`, so it imports
neither. What fills it whole, `all_rules`, lives above both, in
rules/profiles.py: the dependency runs one way (catalogue → registry,
profiles → catalogue, registry), and importing the registry to declare a
rule never loads the profiles that are being declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.findings import Severity


@dataclass
class Issue:
    message: str
    tag_path: str = ""
    instance: Instance | None = None
    severity: Severity | None = None  # overrides the rule's default (e.g. partial sets)


@dataclass
class RuleContext:
    """Knobs a user can turn: plane tolerance, whether the set must be
    self-contained."""

    tolerance_mm: float = 0.01
    complete: bool = False
    # What the actor under test was given (its stimulus), by SOP Instance UID:
    # BRTO compares what an actor produces with what it received, not with a
    # reference file it never saw.
    given: dict[str, Instance] = field(default_factory=dict)

    def produced(self, instances: Iterable[Instance]) -> list[Instance]:
        """The objects under judgement: everything that is not stimulus."""
        return [i for i in instances if i.sop_instance_uid not in self.given
                or i.path != self.given[i.sop_instance_uid].path]

    def missing_reference(self, graph: ObjectGraph, referrer: Instance, sop_class: str,
                          what: str, tag_path: str) -> Issue:
        """An unresolved reference: an error with --complete (the set must be
        self-contained), else a warning, since a partial export is legal, even
        one that ships some objects of the class and not others."""
        if self.complete:
            return Issue(f"{what} is not among the validated files (--complete)", tag_path,
                         referrer, Severity.ERROR)
        dangling = " though objects of that class are" if graph.is_dangling(
            referrer, sop_class) else ""
        return Issue(f"{what} is not among the validated files{dangling} (partial set; "
                     "--complete makes it an error)", tag_path, referrer, Severity.WARNING)


InstanceCheck = Callable[[Instance, Dataset, RuleContext], Iterable[Issue]]
GraphCheck = Callable[[ObjectGraph, RuleContext], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    source: str
    # what runs: "input" (files), "instance" (each header as it streams), "graph";
    # what is only catalogued (emitted elsewhere): "engine", "harness", "scenario",
    # "statement", "waiver"
    scope: str
    check: Callable | None = field(compare=False)
    tags: frozenset[str] = frozenset()
    default_on: bool = True
    profile: str = "dicom-rt"

    def to_dict(self) -> dict:
        return {"id": self.id, "severity": str(self.severity), "title": self.title,
                "source": self.source, "scope": self.scope, "tags": sorted(self.tags),
                "default_on": self.default_on, "profile": self.profile}


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, title: str, source: str, *, scope: str = "graph",
         tags: Iterable[str] = (), default_on: bool = True,
         profile: str = "dicom-rt") -> Callable[[Callable], Callable]:
    def register(func: Callable) -> Callable:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, severity, title, source, scope, func, frozenset(tags),
                              default_on, profile)
        return func

    return register


RUNNABLE = ("input", "instance", "graph")


def catalogue(finding_id: str, severity: Severity, title: str, source: str, scope: str) -> None:
    """Register a finding id that no rule function raises (an engine's, a
    scenario step's, a statement check's), so that `rtconform rules` lists
    every id the program can emit, with its source."""
    if finding_id in RULES:
        raise ValueError(f"finding id {finding_id} registered twice")
    if scope in RUNNABLE:
        raise ValueError(f"{finding_id}: a catalogued id is not a rule to run")
    RULES[finding_id] = Rule(finding_id, severity, title, source, scope, None,
                             profile="dicom-rt")

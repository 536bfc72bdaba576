"""The run session: the one state every scenario of a run shares — its run
folder, the SUT and the drivers that make each of its actors act, the
association recorders, the standard engines, the stimulus (the synthetic
patient, built once per set and fault) and the judgement of what the SUT made.

The harness always records its own side of every association in
`associations.jsonl`. In the embedded default the reference actors playing
the SUT record theirs in `sut-associations.jsonl`, so the main log stays what
a real run would show: the harness's view of the SUT.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset

from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.storage import share_objects
from rtconform.dicom.compare import differences
from rtconform.engines import make_engines
from rtconform.findings import Finding, merge_engines, sort_key
from rtconform.phantom.faults import FAULTS
from rtconform.phantom.images import resample_series
from rtconform.phantom.sets import SampleSet, build_sample
from rtconform.phantom.variants import renew_changed
from rtconform.redact import Redactor
from rtconform.rules.registry import RuleContext
from rtconform.run.drivers import SutDriver, driver_for
from rtconform.run.scenario import ScenarioFailure
from rtconform.run.sut import SutConfig
from rtconform.run_folder import RunFolder
from rtconform.validate import ValidationOptions, validate_paths


@dataclass
class RunContext:
    out: Path
    sut: SutConfig
    # standard engines on what the SUT makes; "auto": those this machine has
    # (said once); an engine named explicitly must run, or the scenario fails
    engines: tuple[str, ...] = ("auto",)
    stimulus: str = "equidistant"  # the sample set the harness gives the SUT
    profile: str = "brto"  # the content profile what the SUT produces is judged by
    redact: bool = False  # keep patient identity out of the logs too (public artifacts)
    # the UIDs of everything the harness sends derive from it: a run gives the
    # SUT objects no earlier run used, and the same seed repeats a run exactly
    seed: str = ""
    shard: int | None = None  # this process's part of a run split over several
    recorder: AssociationRecorder = field(init=False)
    sut_recorder: AssociationRecorder = field(init=False)
    redactor: Redactor = field(init=False)  # learns identity from what the SUT makes
    _samples: dict[str, SampleSet] = field(default_factory=dict)
    _encoded: dict[tuple[str, str], bytes] = field(default_factory=dict)
    # what the harness sent under each SOP Instance UID, by scenario: an
    # object that comes back as an earlier copy is said to be one
    sent_versions: dict[str, list[tuple[str, Dataset]]] = field(default_factory=dict)
    # an IHE-RO capability the SUT lacks → the scenario that found out
    missing_capabilities: dict[str, str] = field(default_factory=dict)
    # how each actor the SUT plays is made to act (one SUT file: one kind of
    # driver for all; a run may hold several, one per actor)
    drivers: dict[str, SutDriver] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.seed = self.seed or secrets.token_hex(4)
        self.out = Path(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.folder = RunFolder(self.out, self.shard)
        self.redactor = Redactor(enabled=self.redact)
        self.default_driver = driver_for(self.sut)
        for actor in self.sut.actors:
            self.drivers.setdefault(actor, self.default_driver)
        # every store of the run: one copy per object
        # a sharded run's objects/ is shared by its processes (the runner
        # started it empty): one process's files in flight are not leftovers
        share_objects(self.folder.file(RunFolder.OBJECTS), clean=self.shard is None)
        self.recorder = AssociationRecorder(self.folder.file(RunFolder.ASSOCIATIONS), self.redact)
        self.sut_recorder = AssociationRecorder(self.folder.file(RunFolder.SUT_ASSOCIATIONS),
                                                self.redact)
        names = list(self.engines)
        if names == ["auto"]:
            available = [e for e in make_engines(["dciodvfy"]) if not e.unavailable_reason()]
            self.note(f"standard engines on what the SUT makes: "
                      f"{', '.join(e.name for e in available) or 'none available'}")
            self._engine_objs = available
        else:
            self._engine_objs = make_engines(names)

    def sample(self, fault: str | None = None, sample_set: str | None = None) -> SampleSet:
        """The synthetic patient as the stimulus set (the run's unless one is
        named), plus a resampled CT series (RO-6, RO-11)."""
        sample_set = sample_set or self.stimulus
        key = sample_set if fault is None else f"{sample_set}/{fault}"
        if key in self._samples:  # deterministic: built once per run
            return self._samples[key]
        # beam doses too: an Archive must store them (legal DICOM), though a
        # BRTO Dosimetric Planner sends one plan dose; each set has UIDs of its own
        sample = build_sample(sample_set=sample_set, beam_doses=True,
                              seed=f"{self.seed}/{sample_set}")
        cts = [ds for name, ds in sample.datasets.items() if name.startswith("CT_")]
        for i, ds in enumerate(resample_series(cts), start=1):
            sample.datasets[f"resampled_{i:03d}.dcm"] = ds
        if fault is not None:  # a non-conformant variant is a new instance, never the same UID
            FAULTS[fault].apply(sample)
            renew_changed(self.sample(None, sample_set).datasets, sample.datasets,
                          sample.uid_root, f"{self.seed}/{sample_set}/{fault}")
        self._samples[key] = sample
        return sample

    def remember_sent(self, scenario: str, datasets: list[Dataset]) -> None:
        """What was sent under each UID, by scenario (see earlier_copy)."""
        for ds in datasets:
            versions = self.sent_versions.setdefault(str(ds.SOPInstanceUID), [])
            if not any(v is ds for _, v in versions):
                versions.append((scenario, ds))

    def earlier_copy(self, uid: str, back: Dataset, sent: Dataset) -> str | None:
        """The scenario that sent `back`'s content under `uid` before, when it
        is not what was sent last (an Archive keeping its first copy)."""
        for scenario, ds in self.sent_versions.get(uid, []):
            if ds is not sent and not differences(ds, back, limit=1):
                return scenario
        return None

    def encoded(self, ds: Dataset, sample_set: str = "") -> bytes:
        """Part 10 bytes of a synthetic object (cached: seeding is frequent;
        sets share UIDs, so the set is part of the key)."""
        key = (sample_set or self.stimulus, str(ds.SOPInstanceUID))
        if key not in self._encoded:
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            self._encoded[key] = buffer.getvalue()
        return self._encoded[key]

    def validate(self, produced: list[Path], context: list[Path], label: str,
                 given: list[Path] = (), profile: str | None = None) -> list[Finding]:
        """What the SUT produced, checked by the profile's rules (against what
        the SUT was `given`, with the other objects it made as context) and by
        the standard engines; findings appended to findings.jsonl with the
        scenario's label."""
        # what a SUT made from the harness's input must reference what it was
        # given (or made): a self-contained set; an exporter's folder may be partial
        rules = validate_paths(produced + context, ValidationOptions(
            profile=profile or self.profile, given=list(given), redactor=self.redactor,
            context=RuleContext(complete=not self.sut.exports_files)))
        engines = validate_paths(produced, ValidationOptions(engines=self._engine_objs,
                                                             use_tro_rules=False))
        if engines.engine_notes:  # asked for by name and did not run: no verdict without it
            raise ScenarioFailure("ENGINE-FAILED: " + "; ".join(
                f"standard engine {name} was asked for and did not run: {why}"
                for name, why in engines.engine_notes.items()))
        findings = merge_engines(sorted(rules.findings + engines.findings,
                                        key=lambda f: (f.engine != "tro", *sort_key(f))))
        self.folder.append_findings(label, self.redactor.scrub([f.to_dict() for f in findings]))
        return findings

    def record_problems(self, label: str, problems: list[str]) -> None:
        """Protocol findings (what the SUT answered, not what it made) go to
        findings.jsonl beside the objects' findings."""
        from rtconform.findings import Severity
        from rtconform.rules.profiles import all_rules
        from rtconform.rules.registry import RULES

        all_rules()
        findings = []
        for text in problems:
            rule_id, _, message = text.partition(": ")
            known = RULES.get(rule_id)
            findings.append(Finding(rule_id, Severity.ERROR, message,
                                    known.source if known else "").to_dict())
        self.folder.append_findings(label, self.redactor.scrub(findings))

    def driver(self, actor: str | None = None) -> SutDriver:
        """The driver that makes `actor` act (the SUT's own when none is named)."""
        return self.drivers.get(actor, self.default_driver) if actor else self.default_driver

    def note(self, message: str, **data) -> None:
        self.recorder.note("harness", message, **data)



"""The per-file stage of a validation: one file in, its findings and index
record out, with nothing shared. Because it depends on nothing but its
settings, the same function runs in this process, in a process pool
(`--jobs`) or on a Dask cluster (`--scheduler`); the cross-object rules run
afterwards, once, on the gathered index.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from rtconform.dicom.index import Instance, Unreadable, known_sop_class, read_instance
from rtconform.dicom.read import file_type
from rtconform.engines import Engine
from rtconform.findings import Finding, Severity, bounded
from rtconform.redact import identity_values
from rtconform.rules.profiles import all_rules, file_set_rules, rules_of
from rtconform.rules.registry import RULES, Issue, Rule, RuleContext

DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", ".ima")


@dataclass
class FileSettings:
    """Everything a worker needs, sent to it once."""

    engines: list[Engine] = field(default_factory=list)
    use_tro_rules: bool = True
    context: RuleContext = field(default_factory=RuleContext)
    profile: str = "dicom-rt"
    rule_tags: frozenset[str] = frozenset()
    redact: bool = False  # collect the identity values the outputs must mask
    max_bytes: int = 512 << 20

    def instance_rules(self) -> list[Rule]:
        """Looked up once per process (not sent: rules are code, found by id)."""
        if not self.use_tro_rules:
            return []
        if self.__dict__.get("_rules") is None:
            self.__dict__["_rules"] = [r for r in rules_of(self.profile, self.rule_tags)
                                       if r.scope == "instance"]
        return self.__dict__["_rules"]

    def __getstate__(self) -> dict:
        """Plain data only across a process boundary: the stimulus records go
        without their header datasets (a pydicom dataset may not pickle: a
        multi-valued Patient Name does not) and are read again on arrival."""
        state = {k: v for k, v in self.__dict__.items() if k != "_rules"}
        given = {uid: dataclasses.replace(inst, dataset=None)
                 for uid, inst in self.context.given.items()}
        state["context"] = dataclasses.replace(self.context, given=given)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for uid, inst in list(self.context.given.items()):
            if inst.kind != "image":
                read = read_instance(inst.path, self.max_bytes)
                if not isinstance(read, Unreadable):
                    self.context.given[uid] = read[0]

    def fingerprint(self) -> str:
        """What decides a file's findings besides the file: a resumed run
        reuses a result only when this is unchanged."""
        given = sorted(f"{uid}:{inst.path}" for uid, inst in self.context.given.items())
        data = [sorted(e.name + (":strict" if getattr(e, "strict", False) else "")
                       for e in self.engines), self.use_tro_rules, self.profile,
                sorted(self.rule_tags), self.redact, self.max_bytes,
                self.context.tolerance_mm, self.context.complete, given]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


@dataclass
class FileResult:
    """One file's part of a validation."""

    path: str
    size: int
    mtime_ns: int
    findings: list[Finding]
    instance: Instance | None = None  # None: not an object of the set
    identity: list[str] = field(default_factory=list)  # values --redact must mask

    def to_json(self) -> dict:
        inst = self.instance
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns,
                "findings": [f.to_dict() for f in self.findings],
                "instance": instance_to_json(inst) if inst else None,
                "identity": self.identity}

    def to_wire(self) -> str:
        """What a worker process (or a Dask worker) sends back: JSON text, so
        nothing of pydicom crosses the process boundary (a multi-valued Patient
        Name once made the whole validation fail to unpickle). The parent reads
        an RT object's header again (validate._with_dataset)."""
        return json.dumps(self.to_json(), default=str)

    @classmethod
    def from_wire(cls, text: str) -> FileResult:
        return cls.from_json(json.loads(text))

    @classmethod
    def from_json(cls, data: dict) -> FileResult:
        return cls(data["path"], data["size"], data["mtime_ns"],
                   [finding_from_json(f) for f in data["findings"]],
                   instance_from_json(data["instance"]) if data["instance"] else None,
                   data.get("identity", []))


def file_key(path: Path) -> tuple[int, int]:
    """(size, mtime in ns): a file that changed since it was checked is checked again."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def empty_result(path: Path) -> FileResult:
    """A result with no findings yet, keyed as --resume keys it."""
    try:
        size, mtime = file_key(path)
    except OSError:
        size, mtime = -1, 0
    return FileResult(str(path), size, mtime, [])


def not_checked(path: Path, why: str, exception: BaseException | None = None) -> FileResult:
    """The result of a file that could not be checked: an error naming it
    (the exception, if one caused it, goes to `extra`, not into the message)."""
    result = empty_result(path)
    result.findings.append(Finding(
        "FILE-UNREADABLE", Severity.ERROR, f"could not be checked: {why}",
        "DICOM PS3.10 7 (file format); PS3.5 7 (data set encoding)", str(path),
        extra=exception_extra(exception)))
    return result


def exception_extra(exc: BaseException | None) -> dict:
    """An exception kept as evidence beside a finding, never as its message:
    a finding says what is wrong with the file."""
    return {"exception": f"{type(exc).__name__}: {exc}"[:500]} if exc is not None else {}


def check_file(path: Path, settings: FileSettings) -> FileResult:
    """Read one file, run the instance rules and the engines on it. Whatever
    the file holds, the answer is a result: a problem is a finding on it."""
    result = empty_result(path)
    try:
        _check(path, settings, result)
        result.findings = bounded(result.findings)  # what travels back stays small
    except Exception as exc:  # one file's problem is a finding on that file
        return not_checked(path, "rtconform failed on it (an internal error: please "
                                 "report it)", exc)
    return result


def _check(path: Path, settings: FileSettings, result: FileResult) -> None:
    findings = result.findings
    read = read_instance(path, settings.max_bytes)
    if isinstance(read, Unreadable):
        if settings.use_tro_rules:
            findings += check_unreadable(path, read)
        return
    inst, ds = read
    if inst.dicomdir:
        # a DICOMDIR indexes files, it is not an object of the set: its own checks
        if settings.use_tro_rules:
            for rule in file_set_rules():  # PS3.10 / PS3.11
                findings += run_rule(rule, str(path), ds, inst=inst)
        return
    if settings.redact:
        result.identity = sorted(identity_values(ds))
    if settings.use_tro_rules and not known_sop_class(inst.sop_class_uid):
        rule = registered("FILE-UNKNOWN-SOP-CLASS")
        findings += [make_finding(rule, i, inst) for i in rule.check(str(path),
                                                                     inst.sop_class_uid)]
    for rule in settings.instance_rules():
        findings += run_rule(rule, inst, ds, settings.context, inst=inst)
    for engine in settings.engines:
        findings += engine_findings(engine, path, inst)
    result.instance = inst


def check_unreadable(path: Path, read: Unreadable) -> list[Finding]:
    """A file that is not a readable DICOM object: FILE-NOT-DICOM (info, with
    its type) for a document beside the export, FILE-UNREADABLE otherwise (a
    `.dcm` that is not DICOM is still an error). What validate and diff-export
    both say."""
    if read.not_dicom and not meant_as_dicom(path):  # a PDF beside the export
        rule = registered("FILE-NOT-DICOM")
        return [make_finding(rule, i, file=str(path)) for i in rule.check(str(path),
                                                                          file_type(path))]
    rule = registered("FILE-UNREADABLE")
    return [make_finding(rule, i, file=str(path)) for i in rule.check(str(path), read.reason)]


def registered(rule_id: str) -> Rule:
    """A rule by id. A worker process (or a Dask worker) starts with none
    registered: the rule modules register on import, done here on first use."""
    if rule_id not in RULES:
        all_rules()
    return RULES[rule_id]


def meant_as_dicom(path: Path) -> bool:
    """A file whose name says DICOM must be DICOM: unreadable is then an error."""
    return path.suffix.lower() in DICOM_SUFFIXES or path.name.upper() == "DICOMDIR"


def engine_findings(engine: Engine, path: Path, inst: Instance) -> list[Finding]:
    """An engine that raises on one file is a finding on that file, not a crash."""
    try:
        return engine.check_file(path, inst.sop_instance_uid)
    except Exception as exc:
        return [Finding("ENGINE-FAILED", Severity.WARNING,
                        f"{engine.name} could not check the file", engine.name,
                        str(inst.path), inst.sop_instance_uid, engine=engine.name,
                        extra=exception_extra(exc))]


def make_finding(rule: Rule, issue: Issue, inst: Instance | None = None,
                 file: str = "") -> Finding:
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
        return [make_finding(rule, issue, inst) for issue in rule.check(*args)]
    except Exception as exc:
        return [Finding("RULE-FAILED", Severity.WARNING,
                        f"rule {rule.id} could not finish on this file (an internal error of "
                        "rtconform: please report it)",
                        "rtconform internal", str(inst.path) if inst else "",
                        inst.sop_instance_uid if inst else "",
                        extra={"rule": rule.id, **exception_extra(exc)})]


# -- the resume state: results as JSON lines ---------------------------------------
def finding_from_json(data: dict) -> Finding:
    return Finding(**{**data, "severity": Severity(data["severity"])})


_TUPLES = ("patient", "position", "orientation", "pixel_spacing", "matrix")


def instance_to_json(inst: Instance) -> dict:
    """An index record without its header dataset (an RT object's is read
    again on resume: there are few of them)."""
    data = {f.name: getattr(inst, f.name) for f in dataclasses.fields(inst)
            if f.name != "dataset"}
    data["path"] = str(inst.path)
    data["has_dataset"] = inst.dataset is not None
    return data


def instance_from_json(data: dict) -> Instance:
    data = dict(data)
    data.pop("has_dataset", None)
    data["path"] = Path(data["path"])
    for name in _TUPLES:
        if data.get(name) is not None:
            data[name] = tuple(data[name])
    return Instance(**data)


STATE_FORMAT = "rtconform-validate-state/2"
MAX_STATE_LINE = 64 << 20  # one file's result; a longer line is not read


class ResumeState:
    """The per-file results of a validation, one line per file as it
    finishes, in the run folder: after Ctrl-C (or a crash) `--resume` reuses
    every line whose file still has the same path, size and mtime and whose
    settings are unchanged. It holds unredacted findings, so it is written
    for its owner only (mode 0600).

    The file is input like any other: each line carries a keyed hash
    (HMAC-SHA256) made with a key kept beside it (`.validate-state.key`, mode
    0600), checked before the line is decoded, so a forged or edited line is
    checked again instead of trusted, and no unauthenticated JSON (100,000
    nested brackets) is ever parsed."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = Path(path)
        self.key_path = self.path.with_name(".validate-state.key")
        self.fingerprint = fingerprint
        self._fp = None
        self._key: bytes | None = None
        self.note = ""  # why earlier results were not reused

    # -- the key and the signed lines ---------------------------------------------
    def _existing_key(self) -> bytes | None:
        try:
            key = bytes.fromhex(self.key_path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None
        return key if len(key) >= 32 else None

    def _new_key(self) -> bytes:
        key = os.urandom(32)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.key_path.with_name(f"{self.key_path.name}.tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fp:
            fp.write(key.hex() + "\n")
        os.replace(tmp, self.key_path)
        return key

    def _sign(self, data: dict) -> str:
        assert self._key is not None
        text = json.dumps(data, default=str)
        mac = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{mac} {text}\n"

    @staticmethod
    def _verified(key: bytes, line: str) -> object:
        """The decoded line if its hash is right, else None."""
        mac, _, text = line.rstrip("\n").partition(" ")
        good = hmac.new(key, text.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, good):
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return None

    def load(self) -> dict[str, FileResult]:
        """Results of an earlier run with these settings, by path."""
        if not self.path.is_file():
            self.note = "no earlier results: every file is checked"
            return {}
        key = self._existing_key()
        if key is None:
            self.note = f"no key to check earlier results ({self.key_path.name}): not reused"
            return {}
        out: dict[str, FileResult] = {}
        rejected = 0
        with self.path.open(encoding="utf-8", errors="replace") as fp:
            header = self._verified(key, fp.readline(MAX_STATE_LINE))
            if not isinstance(header, dict) or header.get("format") != STATE_FORMAT or \
                    header.get("fingerprint") != self.fingerprint:
                self.note = "earlier results were made with other settings: not reused"
                return {}
            while line := fp.readline(MAX_STATE_LINE):
                data = self._verified(key, line) if line.endswith("\n") else None
                try:
                    result = FileResult.from_json(data)  # type: ignore[arg-type]
                except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                    # forged, edited, or the line being written when the run stopped
                    rejected += line.endswith("\n")
                    continue
                out[result.path] = result
        if rejected:
            self.note = (f"{rejected} line(s) failed their integrity check: "
                         "those files are checked again")
        return out

    def reusable(self, earlier: dict[str, FileResult], path: Path) -> FileResult | None:
        result = earlier.get(str(path))
        try:
            return result if result and file_key(path) == (result.size, result.mtime_ns) \
                else None
        except OSError:
            return None

    def open(self, keep: dict[str, FileResult]) -> None:
        """Start the state afresh with the results kept from the earlier run."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = self._existing_key() or self._new_key()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(self._sign({"format": STATE_FORMAT, "fingerprint": self.fingerprint}))
            for result in keep.values():
                fp.write(self._sign(result.to_json()))
        os.replace(tmp, self.path)
        self._fp = self.path.open("a", encoding="utf-8")

    def append(self, result: FileResult) -> None:
        if self._fp is not None:
            self._fp.write(self._sign(result.to_json()))
            self._fp.flush()

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None

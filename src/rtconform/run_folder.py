"""The run folder: the one place that knows the files of a run. The scenario
runner writes through it; the report, statement verification and the
scenario steps read a run only through it.

    associations.jsonl      the harness's side of every association with the SUT
    sut-associations.jsonl  the embedded reference actors' own side (embedded default)
    findings.jsonl          findings of each scenario, as found (findings.json: all)
    summary.json            SUT, counts and one line per scenario
    junit.xml, cucumber.json
    scenarios/<name>/       each scenario's stores (their SQLite indexes)
    objects/                every object received or stored, once, by content
    report.html, report.md, report.json, report_files/
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rtconform.actors.recorder import AssociationRecord, read_associations

SEED_AE = "RTC_SEED"  # the calling AE the harness seeds its own Archive with


class RunFolder:
    ASSOCIATIONS = "associations.jsonl"
    SUT_ASSOCIATIONS = "sut-associations.jsonl"
    FINDINGS_LOG = "findings.jsonl"
    FINDINGS = "findings.json"
    SUMMARY = "summary.json"
    JUNIT = "junit.xml"
    CUCUMBER = "cucumber.json"
    PROGRESS = "progress.jsonl"  # one line per scenario as it finishes (live console)
    PYTEST_LOG = "pytest.log"  # pytest's own output when the console shows progress
    SCENARIOS = "scenarios"
    OBJECTS = "objects"
    SHARDS = "shards"  # while scenarios run in several processes: each one's logs
    # what each scenario process writes for itself; merged when all are done
    PER_SHARD = (ASSOCIATIONS, SUT_ASSOCIATIONS, FINDINGS_LOG, PROGRESS, PYTEST_LOG, JUNIT,
                 CUCUMBER)

    def __init__(self, path: Path, shard: int | None = None) -> None:
        self.path = Path(path)
        self.shard = shard
        if shard is not None:
            self.shard_dir(shard).mkdir(parents=True, exist_ok=True)

    def shard_dir(self, shard: int) -> Path:
        return self.path / self.SHARDS / str(shard)

    def file(self, name: str) -> Path:
        """A file of the run; a scenario process of a sharded run writes its
        logs apart (scenario stores and objects are shared: unique by name
        and by content)."""
        if self.shard is not None and name in self.PER_SHARD:
            return self.shard_dir(self.shard) / name
        return self.path / name

    @property
    def is_run(self) -> bool:
        return self.file(self.ASSOCIATIONS).is_file() or self.file(self.SUMMARY).is_file()

    def reset(self) -> None:
        """Remove what an earlier run left in this folder (its logs would
        otherwise be read as this run's: association ids restart each run)."""
        import shutil

        for name in (self.ASSOCIATIONS, self.SUT_ASSOCIATIONS, self.FINDINGS_LOG,
                     self.FINDINGS, self.SUMMARY, self.JUNIT, self.CUCUMBER, self.PROGRESS,
                     self.PYTEST_LOG,
                     "report.html", "report.md", "report.json", "report.pdf",
                     "observed-statement.yaml"):
            self.file(name).unlink(missing_ok=True)
        for name in (self.SCENARIOS, self.OBJECTS, self.SHARDS, "report_files"):
            shutil.rmtree(self.file(name), ignore_errors=True)

    def progress(self, event: str, **data) -> None:
        with self.file(self.PROGRESS).open("a", encoding="utf-8") as fp:
            fp.write(json.dumps({"event": event, **data}) + "\n")

    def scenario_dir(self, name: str) -> Path:
        return self.path / self.SCENARIOS / name

    def report(self, fmt: str) -> Path:
        return self.path / f"report.{fmt}"

    # -- reading -----------------------------------------------------------------
    def associations(self) -> list[AssociationRecord]:
        return read_associations(self.file(self.ASSOCIATIONS))

    def sut_side(self) -> list[AssociationRecord]:
        """The embedded SUT's own record of the same associations."""
        return read_associations(self.file(self.SUT_ASSOCIATIONS))

    def summary(self) -> dict:
        path = self.file(self.SUMMARY)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def scenario_findings(self) -> list[dict]:
        path = self.file(self.FINDINGS_LOG)
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def stored_objects(self, received_only: bool) -> dict[str, Path]:
        """Stored objects, one file per SOP Instance UID, from the stores'
        indexes. With `received_only`, what the SUT sent or returned: not what
        the harness seeded, nor the embedded SUT's own stores."""
        chosen: dict[str, Path] = {}
        for index in sorted(self.path.glob(f"{self.SCENARIOS}/**/index.sqlite")):
            if received_only and "sut-" in index.relative_to(self.path).as_posix():
                continue
            db = sqlite3.connect(index)
            try:
                rows = db.execute("SELECT sop_instance_uid, path, calling_ae FROM instances")
                for uid, path, calling in rows.fetchall():
                    if (not received_only or calling != SEED_AE) and Path(path).is_file():
                        chosen.setdefault(uid, Path(path))
            finally:
                db.close()
        return chosen

    # -- writing -----------------------------------------------------------------
    def append_findings(self, label: str, findings: list[dict]) -> None:
        with self.file(self.FINDINGS_LOG).open("a", encoding="utf-8") as fp:
            for f in findings:
                fp.write(json.dumps({"scenario": label, **f}) + "\n")

    def write_summary(self, summary: dict) -> None:
        self.file(self.FINDINGS).write_text(json.dumps(self.scenario_findings(), indent=2),
                                            encoding="utf-8")
        self.file(self.SUMMARY).write_text(json.dumps(summary, indent=2), encoding="utf-8")

"""A file exporter as the SUT (`export_dir:`): what it 'sent' is the folder
it wrote, judged file by file, each against the rest of its export; it is
given nothing, so it acts on no input."""

from __future__ import annotations

from pathlib import Path

import pydicom

from rtconform.actors.node import Peer
from rtconform.actors.result import ActorResult
from rtconform.run.drivers.base import SutDriver
from rtconform.run.scenario import Scenario


class ExportFolderDriver(SutDriver):
    kind = "export folder"
    exports_files = True
    scoped_uids = False  # it is sent nothing

    def perform(self, scenario: Scenario, actor: str, transactions: tuple[str, ...],
                archive: Peer) -> ActorResult:
        return ActorResult(how={"export_dir": str(self.sut.export_dir)})

    def files(self) -> list[Path]:
        return [p for p in self.sut.export_dir.rglob("*") if p.is_file()]

    def received(self, scenario: Scenario, modality: str) -> list[Path]:
        return [p for p in self.files() if self._modality(scenario, p) == modality]

    def judging_context(self, scenario: Scenario) -> tuple[list[Path], list[Path]]:
        """Its own export is the context of each object it exported."""
        return [], [p for p in self.files() if p not in scenario.received]

    @staticmethod
    def _modality(scenario: Scenario, path: Path) -> str:
        """An exported file's Modality; a file that is not DICOM is said in
        the run's log (an export folder may hold other files), not dropped."""
        try:
            return str(pydicom.dcmread(path, stop_before_pixels=True).get("Modality", ""))
        except Exception as exc:  # pydicom raises many types on non-DICOM input
            scenario.ctx.note(f"export file {path} not read: {type(exc).__name__}: {exc}")
            return ""

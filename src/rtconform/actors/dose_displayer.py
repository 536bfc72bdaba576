"""The IHE-RO Dose Displayer: retrieves images (RO-1), structure set (RO-7),
dosimetric plan (RO-9) and dose (RO-10), and checks it has everything a
display needs: every reference of the retrieved set resolves."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset

from rtconform.actors.actor import TROActor
from rtconform.actors.node import Peer
from rtconform.actors.result import ActorResult
from rtconform.rules.registry import RuleContext
from rtconform.validate import ValidationOptions, ValidationResult, validate_paths


class DoseDisplayer(TROActor):
    actor = "Dose Displayer"
    default_ae = "DOSEDISPLAY"

    def run(self, archive: Peer, study_uid: str) -> ValidationResult:
        return self.check(self.retrieve_set(archive, study_uid))

    def retrieve_set(self, archive: Peer, study_uid: str) -> list[Dataset]:
        received = []
        for modality in ("CT", "RTSTRUCT", "RTPLAN", "RTDOSE"):  # RO-1, RO-7, RO-9, RO-10
            received += self.retrieve_modality(archive, study_uid, modality)
        return received

    @staticmethod
    def check(received: list[Dataset]) -> ValidationResult:
        """Every reference of the set resolves (what a display needs)."""
        return validate_paths([Path(ds.filename) for ds in received],
                              ValidationOptions(context=RuleContext(complete=True)))

    def display(self, archive: Peer, study_uid: str) -> ActorResult:
        """RO-1, RO-7, RO-9 and RO-10 as one act: what it retrieved, and the
        errors that would keep it from displaying the set."""
        received = self.retrieve_set(archive, study_uid)
        return ActorResult(received=received, errors=self.check(received).errors)

"""The IHE-RO Dose Displayer: retrieves images (RO-1), structure set (RO-7),
dosimetric plan (RO-9) and dose (RO-10), and checks it has everything a
display needs: every reference of the retrieved set resolves."""

from __future__ import annotations

from pathlib import Path

from rtconform.actors.actor import TROActor
from rtconform.actors.node import Peer
from rtconform.rules.registry import RuleContext
from rtconform.validate import ValidationOptions, ValidationResult, validate_paths


class DoseDisplayer(TROActor):
    actor = "Dose Displayer"
    default_ae = "DOSEDISPLAY"

    def run(self, archive: Peer, study_uid: str) -> ValidationResult:
        received = []
        for modality in ("CT", "RTSTRUCT", "RTPLAN", "RTDOSE"):  # RO-1, RO-7, RO-9, RO-10
            received += [Path(ds.filename) for ds in
                         self.retrieve_modality(archive, study_uid, modality)]
        return validate_paths(received, ValidationOptions(context=RuleContext(complete=True)))

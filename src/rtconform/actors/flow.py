"""The whole TRO flow among the reference actors, over loopback:
CT → Archive → Contourer (RO-1, RO-2) → Geometric Planner (RO-1, RO-7, RO-3)
→ Dosimetric Planner (RO-1, RO-7, RO-8, RO-4, RO-5) → Dose Displayer (RO-1,
RO-7, RO-9, RO-10). Used by tests, `rtconform simulate flow`, and as the
embedded default system under test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.contourer import Contourer
from rtconform.actors.dose_displayer import DoseDisplayer
from rtconform.actors.node import ServiceUser
from rtconform.actors.planners import DosimetricPlanner, GeometricPlanner
from rtconform.actors.recorder import AssociationRecorder
from rtconform.phantom.sets import build_sample
from rtconform.validate import ValidationResult


@dataclass
class FlowResult:
    study_uid: str
    archive_count: int
    displayed: ValidationResult
    log: Path


def reference_flow(workdir: Path, method: str = "get") -> FlowResult:
    workdir = Path(workdir)
    recorder = AssociationRecorder(workdir / "associations.jsonl")
    sample = build_sample()
    images = [ds for name, ds in sample.datasets.items() if name.startswith("CT_")]
    study = str(images[0].StudyInstanceUID)
    actors = [cls(recorder, workdir / cls.default_ae.lower(), method=method)
              for cls in (Contourer, GeometricPlanner, DosimetricPlanner, DoseDisplayer)]
    with Archive(ArchiveConfig(store_dir=workdir / "archive"), recorder) as archive:
        try:
            if method == "move":
                for actor in actors:
                    receiver = actor.start_receiver(actor.workdir / "received")
                    archive.add_move_destination(actor.ae_title, receiver.host, receiver.port)
            ServiceUser("MODALITY", recorder, "Image Source").store(archive.peer, images)
            for actor in actors[:3]:
                actor.run(archive.peer, study)
            displayed = actors[3].run(archive.peer, study)
            count = archive.store.count()
        finally:
            for actor in actors:
                actor.stop_receiver()
    return FlowResult(study, count, displayed, recorder.path)

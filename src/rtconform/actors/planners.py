"""The IHE-RO Geometric Planner (RO-1, RO-7 in; RO-3 out) and Dosimetric
Planner (RO-1, RO-7, RO-8 in; RO-4, RO-5 out)."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.actors.actor import RetrieveFailed, TROActor
from rtconform.actors.node import Peer
from rtconform.dicom.rt import is_dosimetric
from rtconform.phantom.builder import PatientBuilder


class GeometricPlanner(TROActor):
    actor = "Geometric Planner"
    default_ae = "GEOPLANNER"

    def plan(self, structure_set: Dataset) -> Dataset:
        return PatientBuilder.from_structure_set(structure_set, self.uid_root).plan(
            dosimetric=False)

    def run(self, archive: Peer, study_uid: str) -> Dataset:
        self.retrieve_modality(archive, study_uid, "CT")  # RO-1
        (structure_set, *_) = self.retrieve_modality(archive, study_uid, "RTSTRUCT")  # RO-7
        plan = self.plan(structure_set)
        self.store_all(archive, [plan])  # RO-3
        return plan


class DosimetricPlanner(TROActor):
    actor = "Dosimetric Planner"
    default_ae = "DOSPLANNER"

    def plan(self, structure_set: Dataset, geometric_plan: Dataset) -> list[Dataset]:
        """The dosimetric plan and its plan dose (BRTO RO-4, RO-5)."""
        builder = PatientBuilder.from_structure_set(structure_set, self.uid_root,
                                                    geometric_plan=geometric_plan)
        return [builder.plan(dosimetric=True), *builder.doses().values()]

    def run(self, archive: Peer, study_uid: str) -> list[Dataset]:
        self.retrieve_modality(archive, study_uid, "CT")  # RO-1
        (structure_set, *_) = self.retrieve_modality(archive, study_uid, "RTSTRUCT")  # RO-7
        plans = self.retrieve_modality(archive, study_uid, "RTPLAN")  # RO-8
        geometric = [p for p in plans if not is_dosimetric(p)]
        if not geometric:
            raise RetrieveFailed(f"no geometric plan in study {study_uid}")
        produced = self.plan(structure_set, geometric[0])
        self.store_all(archive, produced[:1])  # RO-4
        self.store_all(archive, produced[1:])  # RO-5
        return produced

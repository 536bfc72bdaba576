"""The IHE-RO Contourer: retrieves a CT series (RO-1), contours it, and stores
the RT Structure Set (RO-2)."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.actors.actor import TROActor
from rtconform.actors.node import Peer
from rtconform.dicom.sample import PatientBuilder


class Contourer(TROActor):
    actor = "Contourer"
    default_ae = "CONTOURER"

    def contour(self, images: list[Dataset]) -> Dataset:
        """The reference contours (body, targets, organs, a marker) on these images."""
        return PatientBuilder.from_images(images, self.uid_root).structure_set()

    def run(self, archive: Peer, study_uid: str) -> Dataset:
        images = self.retrieve_modality(archive, study_uid, "CT")  # RO-1
        structure_set = self.contour(images)
        self.store_all(archive, [structure_set])  # RO-2
        return structure_set

"""The IHE-RO Contourer: retrieves a CT series (RO-1), contours it, and stores
the RT Structure Set (RO-2)."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.actors.actor import TROActor
from rtconform.actors.node import Peer
from rtconform.actors.result import ActorResult
from rtconform.actors.storage import InstanceStore
from rtconform.phantom.builder import PatientBuilder
from rtconform.phantom.images import combine_series, resample_series
from rtconform.phantom.structure_sets import edit_structure_set

IMAGE_MODALITIES = ("CT", "MR", "PT")


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

    def resample_and_store(self, archive: Peer, study_uid: str) -> list[Dataset]:
        """RO-11: retrieve a CT series (RO-1), store a resampled one as a new series."""
        images = self.retrieve_modality(archive, study_uid, "CT")
        resampled = resample_series(images, self.uid_root)
        self.store_all(archive, resampled)
        return resampled

    def combine_and_contour(self, archive: Peer, study_uid: str) -> list[Dataset]:
        """RO-6 → RO-11 → RO-2 (the IHE-RO test tool's Contourer scenario 2):
        retrieve every image series, store them combined as one new series,
        and the structure set drawn on it."""
        images = [ds for ds in self.retrieve_images(archive, study_uid)
                  if str(ds.get("Modality", "")) == "CT"]
        combined = combine_series(images, self.uid_root)
        self.store_all(archive, combined)  # RO-11
        structure_set = self.contour(combined)
        self.store_all(archive, [structure_set])  # RO-2
        return [*combined, structure_set]

    def edit(self, archive: Peer, study_uid: str) -> Dataset:
        """RO-1 + RO-7 → RO-2 (Contourer scenario 3): retrieve the images and a
        structure set, edit it, store it as a new instance."""
        self.retrieve_modality(archive, study_uid, "CT")
        (given, *_) = self.retrieve_modality(archive, study_uid, "RTSTRUCT")
        edited = edit_structure_set(given, self.uid_root)
        self.store_all(archive, [edited])
        return edited

    def retrieve_images(self, archive: Peer, study_uid: str) -> list[Dataset]:
        """RO-6: every image series of the study."""
        out = []
        for modality in IMAGE_MODALITIES:
            found = self.series(archive, study_uid, modality)
            if found:
                out += self.retrieve_modality(archive, study_uid, modality)
        return out

    def received_uids(self) -> set[str]:
        folder = self.workdir / "received"
        if not (folder / "index.sqlite").is_file():
            return set()
        store = InstanceStore(folder)
        try:
            return {r["sop_instance_uid"] for r in store.rows()}
        finally:
            store.close()

    def take_structure_set(self, archive: Peer, study_uid: str) -> ActorResult:
        """RO-7 as a receiver that judges its input: retrieve the structure
        set, and accept it only when its images are there too."""
        received = self.retrieve_modality(archive, study_uid, "RTSTRUCT")
        return ActorResult(received=received, accepted=self.check_structure_set(received))

    def check_structure_set(self, received: list[Dataset]) -> bool:
        """A structure set is usable only with its images: record the verdict
        (a `lenient` Contourer accepts it anyway)."""
        if self.lenient:
            return True
        held = self.received_uids()
        for ss in received:
            refs = {str(c.ContourImageSequence[0].ReferencedSOPInstanceUID)
                    for roi in ss.get("ROIContourSequence", [])
                    for c in roi.get("ContourSequence", []) if "ContourImageSequence" in c}
            missing = refs - held
            if missing:
                self.recorder.note(self.actor, "structure set rejected: its images are not "
                                               "available", missing=len(missing),
                                   sop_instance=str(ss.SOPInstanceUID))
                return False
        return True

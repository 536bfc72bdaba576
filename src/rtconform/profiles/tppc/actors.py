"""The reference planning system of the TPPC scenarios: it retrieves the
structure set it is to plan on and stores a plan of the beam type asked for,
as `rtconform.phantom.techniques` writes it — the embedded default's producer."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.actors.actor import TROActor
from rtconform.actors.node import Peer
from rtconform.phantom.builder import PatientBuilder
from rtconform.phantom.faults import inject
from rtconform.phantom.technique_plans import technique_plan


class PlanningSystem(TROActor):
    actor = "Dosimetric Planner"
    default_ae = "TPPCPLANNER"

    def plan(self, structure_set: Dataset, beam_type: str) -> Dataset:
        builder = PatientBuilder.from_structure_set(structure_set, self.uid_root)
        bolus = next((int(o.ReferencedROINumber)
                      for o in structure_set.get("RTROIObservationsSequence", [])
                      if o.get("RTROIInterpretedType") == "BOLUS"), None)
        return technique_plan(builder, beam_type, bolus,
                              namespace=f"rtconform-tppc-planned-{structure_set.SOPInstanceUID}")

    def run(self, archive: Peer, study_uid: str, beam_type: str,
            fault: str | None = None) -> Dataset:
        """Plan on the study's structure set and store the plan; with `fault`,
        a deliberately broken planner (the embedded default's fault)."""
        (structure_set, *_) = self.retrieve_modality(archive, study_uid, "RTSTRUCT")
        plan = self.plan(structure_set, beam_type)
        if fault:
            inject([plan], fault, self.uid_root)
        self.store_all(archive, [plan])
        return plan

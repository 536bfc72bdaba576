"""The whole synthetic patient's builder: each object of the chain CT →
structure set → geometric plan → dosimetric plan → plan dose, built from
what comes before it (`Patient.from_images`, `Patient.from_structure_set`)."""

from __future__ import annotations

from rtconform.phantom.doses import Doses
from rtconform.phantom.images import CTImages
from rtconform.phantom.plans import Plans
from rtconform.phantom.structure_sets import StructureSets


class PatientBuilder(CTImages, StructureSets, Plans, Doses):
    """Builds each object of the chain from what comes before it, so the
    reference actors can contour the CT they retrieved, plan on the structure
    set they retrieved, and copy the patient's identity unchanged (IHE-RO
    critical attributes)."""

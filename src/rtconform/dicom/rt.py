"""What kind of RT object a dataset is, where DICOM leaves it to the content."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.dicom.values import items, number


def is_dosimetric(plan: Dataset | None) -> bool:
    """A dosimetric plan carries metersets; a geometric plan (RO-3) does not.
    Dose Reference is not required: IHE-RO's own dosimetric plan has none."""
    return any(number(ref, "BeamMeterset") is not None
               for group in items(plan, "FractionGroupSequence")
               for ref in items(group, "ReferencedBeamSequence"))

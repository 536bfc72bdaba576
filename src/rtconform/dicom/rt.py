"""What kind of RT object a dataset is, where DICOM leaves it to the content."""

from __future__ import annotations

import re

from pydicom.dataset import Dataset

from rtconform.dicom.values import items, number, text


def is_dosimetric(plan: Dataset | None) -> bool:
    """A dosimetric plan carries metersets; a geometric plan (RO-3) does not.
    Dose Reference is not required: IHE-RO's own dosimetric plan has none."""
    return any(number(ref, "BeamMeterset") is not None
               for group in items(plan, "FractionGroupSequence")
               for ref in items(group, "ReferencedBeamSequence"))


# Treatment Delivery Types whose beam treats no one (PS3.3 C.8.8.14: SETUP "no
# treatment beam is applied", OPEN_PORTFILM a portal image with an open field)
NON_TREATMENT_DELIVERY = {"SETUP", "OPEN_PORTFILM"}
_IMAGING_NAME = re.compile(r"\b(k?v?cbct|kv|kvp|mvcbct|imaging|drr)\b", re.IGNORECASE)


def non_treatment_beam(beam: Dataset) -> str | None:
    """Why a beam of an RT Plan is a setup or imaging beam (a CBCT, a kV image),
    or None for a treatment beam. Such a beam needs no Beam Meterset."""
    delivery = text(beam, "TreatmentDeliveryType")
    if delivery in NON_TREATMENT_DELIVERY:
        return f"Treatment Delivery Type {delivery}"
    for keyword in ("BeamName", "BeamDescription"):
        if match := _IMAGING_NAME.search(text(beam, keyword) or ""):
            return f"an imaging beam ({keyword} {text(beam, keyword)!r}: {match[0]})"
    return None

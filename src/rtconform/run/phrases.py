"""The scenario phrase → object table: what "the synthetic CT series and
structure set" names among the synthetic patient's files. A scenario writer
adds a phrase here, not in a step."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.phantom.sets import SampleSet

OBJECTS = {  # phrase in the scenarios → files of the synthetic patient
    "CT series": lambda name: name.startswith("CT_"),
    "structure set": lambda name: name == "RS_structure_set.dcm",
    "geometric plan": lambda name: name == "RP_geometric.dcm",
    "dosimetric plan": lambda name: name == "RP_dosimetric.dcm",
    "plan dose": lambda name: name == "RD_plan.dcm",
    "beam doses": lambda name: name.startswith("RD_beam_"),
    "resampled CT series": lambda name: name.startswith("resampled_"),
}


def object_names(phrase: str) -> list[str]:
    """'CT series, structure set and plan dose' → its three phrases, each known."""
    names = [p.strip() for p in phrase.replace(" and ", ",").split(",") if p.strip()]
    unknown = [n for n in names if n not in OBJECTS]
    if unknown:
        raise ValueError(f"unknown objects {unknown}; known: {sorted(OBJECTS)}")
    return names


def select(sample: SampleSet, phrase: str) -> list[Dataset]:
    """The objects of `sample` a phrase names, in the phrase's order."""
    return [ds for n in object_names(phrase) for name, ds in sample.datasets.items()
            if OBJECTS[n](name)]

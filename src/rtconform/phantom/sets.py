"""The synthetic patient's stimulus sets: the default patient shaped as
IHE-RO BRTO (TRO 2007) expects what actors exchange (a geometric plan with
one fraction group, two control points per beam and no metersets, a block,
an ISOCENTER point, one PLAN dose), varied as the IHE-RO test tool's data
sets vary it (`SAMPLE_SETS`). Same UID root in, same UIDs out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset, FileDataset

from rtconform.dicom.uids import DEFAULT_UID_ROOT
from rtconform.dicom.writer import write_dataset
from rtconform.phantom.builder import PatientBuilder
from rtconform.phantom.design import uneven_z

SAMPLE_SETS = {
    "equidistant": "60 CT slices 2.5 mm apart, structure set, geometric and dosimetric plan, "
                   "plan dose (the default)",
    "uneven": "35 CT slices 5 mm then 7 mm apart (as IHE-RO's reference CT), with the RT objects",
    "multi-series": "the default set plus the same positions as two more CT series of the same "
                    "study and Frame of Reference, overlapping by 3 slices (the RO-6 stimulus)",
    "limited": "the default set with only the attributes DICOM and BRTO require (no Type 3 "
               "attributes the profile leaves optional)",
}



@dataclass
class SampleSet:
    """The datasets of one synthetic patient, by file name."""

    uid_root: str
    datasets: dict[str, FileDataset] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, ds in self.datasets.items():
            path = folder / name
            write_dataset(ds, path)
            paths.append(path)
        return paths



# Type 3 attributes (and one optional module) the `limited` set leaves out.
OPTIONAL_KEYWORDS = (
    "InstanceCreationDate", "InstanceCreationTime", "StationName", "StudyDescription",
    "SeriesDescription", "ManufacturerModelName", "SoftwareVersions", "StructureSetName",
    "RTPlanName", "PlanIntent", "ContourNumber", "ROIDisplayColor", "WindowCenter",
    "WindowWidth", "SliceLocation", "NominalBeamEnergy",
    "DoseRateSet", "BlockTrayID", "BlockMountingPosition", "BlockName",
    "TreatmentDeliveryType", "DoseReferenceDescription", "ContentDate", "ContentTime",
)


def _strip_optional(ds: Dataset) -> None:
    for keyword in OPTIONAL_KEYWORDS:
        if keyword in ds:
            delattr(ds, keyword)
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                _strip_optional(item)


def build_sample(uid_root: str = DEFAULT_UID_ROOT, sample_set: str = "equidistant",
                 beam_doses: bool = False, seed: str = "") -> SampleSet:
    """Build the whole synthetic patient in memory, as one of `SAMPLE_SETS`.
    With a `seed`, every UID is the seed's own (a harness run gives a SUT
    objects no earlier run used: a SOP Instance UID names one content)."""
    if sample_set not in SAMPLE_SETS:
        raise KeyError(f"unknown sample set {sample_set!r}; known: {', '.join(SAMPLE_SETS)}")
    builder = PatientBuilder(uid_root, uneven_z() if sample_set == "uneven" else None, seed)
    sample = SampleSet(uid_root=uid_root, uids=dict(builder.uid))
    sample.datasets.update(builder.ct())
    if sample_set == "multi-series":
        sample.datasets.update(builder.extra_series())
    sample.datasets["RS_structure_set.dcm"] = builder.structure_set()
    sample.datasets["RP_geometric.dcm"] = builder.plan(dosimetric=False)
    sample.datasets["RP_dosimetric.dcm"] = builder.plan(dosimetric=True)
    sample.datasets.update(builder.doses(beam_doses))
    if sample_set == "limited":
        for ds in sample.datasets.values():
            _strip_optional(ds)
    return sample

"""A changed object is a new instance.

A SOP Instance UID names one content (PS3.3 C.12.1.1.1). When the harness
sends a variant of the synthetic patient (a fault injected to see what an
Archive keeps), every object whose content differs from the conformant set
gets a SOP Instance UID of its own — and a Series Instance UID of its own
when its whole series changed — and every reference to it follows. An
Archive that keeps the first copy of a UID (Orthanc's default, which PS3.4
allows) then holds both, and its verdict no longer depends on what it
already held.
"""

from __future__ import annotations

from collections import defaultdict

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from rtconform.dicom.uids import derived_uid


def replace_uids(ds: Dataset, mapping: dict[str, str]) -> None:
    """Every UI value (nested too, file meta included) found in `mapping`
    becomes its new UID."""
    meta = getattr(ds, "file_meta", None)
    for dataset in (ds, meta) if meta is not None else (ds,):
        for elem in dataset.iterall():
            if elem.VR != "UI" or elem.value is None:
                continue
            if isinstance(elem.value, MultiValue | list):
                if any(str(v) in mapping for v in elem.value):
                    elem.value = [mapping.get(str(v), str(v)) for v in elem.value]
            elif str(elem.value) in mapping:
                elem.value = mapping[str(elem.value)]


def renew_changed(base: dict[str, Dataset], variant: dict[str, Dataset], root: str,
                  label: str) -> dict[str, str]:
    """Give the objects of `variant` that differ from `base` (paired by name)
    new UIDs, derived from `label` (the same again for the same label), and
    point the variant's references at them; repeated until every changed
    object has a UID of its own. Returns old → new. An object whose SOP
    Instance UID the variant itself changed keeps it: that change is the
    variant's point."""
    mapping: dict[str, str] = {}
    while True:  # pydicom compares element values (PixelData as bytes): fast, no encoding
        changed = [name for name, ds in variant.items() if name in base
                   and str(ds.SOPInstanceUID) == str(base[name].SOPInstanceUID)
                   and ds != base[name]]
        if not changed:
            return mapping
        step: dict[str, str] = {}
        members = defaultdict(set)
        for name, ds in base.items():
            members[str(ds.get("SeriesInstanceUID", ""))].add(name)
        for name in changed:
            old = str(base[name].SOPInstanceUID)
            step[old] = derived_uid(root, "rtconform-variant", label, old)
            series = str(base[name].get("SeriesInstanceUID", ""))
            if series and members[series] <= set(changed) | _renewed(variant, base):
                step[series] = derived_uid(root, "rtconform-variant", label, series)
        for ds in variant.values():
            replace_uids(ds, step)
        mapping.update(step)


def _renewed(variant: dict[str, Dataset], base: dict[str, Dataset]) -> set[str]:
    """Names whose SOP Instance UID already differs from the base's."""
    return {name for name, ds in variant.items()
            if name in base and str(ds.SOPInstanceUID) != str(base[name].SOPInstanceUID)}


# Attributes that give an object of the synthetic patient its identity; a
# reference to one of their values is a reference within the patient.
IDENTITY = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID",
            "DoseReferenceUID")


def identity_uids(datasets) -> set[str]:
    """The UIDs `datasets` own (not SOP classes, not transfer syntaxes)."""
    out = set()
    for ds in datasets:
        for elem in ds.iterall():
            if elem.keyword in IDENTITY and elem.value:
                out.add(str(elem.value))
    return out


class UidScope:
    """The synthetic patient under UIDs of one scope (a scenario against a
    real Archive): the same objects, references kept, UIDs of their own, so
    no scenario's data touches another's and a verdict does not depend on
    what ran before it."""

    def __init__(self, root: str, label: str) -> None:
        self.root, self.label = root, label
        self.mapping: dict[str, str] = {}

    def learn(self, datasets) -> None:
        for uid in identity_uids(datasets) - set(self.mapping):
            self.mapping[uid] = derived_uid(self.root, "rtconform-scope", self.label, uid)

    def copy(self, ds: Dataset) -> Dataset:
        import copy

        new = copy.deepcopy(ds)
        replace_uids(new, self.mapping)
        return new

"""The RT object graph: patients, studies, series, frames of reference, and the
references between CT, structure sets, plans and doses.

Rules ask the graph, never the disk. A reference that does not resolve is
classified here once: *dangling* when objects of the referenced class are in
the set but not that one (a real defect), *outside the set* when none were
given (a partial export, legal).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rtconform.dicom.index import Instance


@dataclass
class ObjectGraph:
    instances: dict[str, Instance] = field(default_factory=dict)
    duplicates: list[tuple[Instance, Instance]] = field(default_factory=list)
    images_by_series: dict[str, list[Instance]] = field(default_factory=lambda: defaultdict(list))
    structure_sets: list[Instance] = field(default_factory=list)
    plans: list[Instance] = field(default_factory=list)
    doses: list[Instance] = field(default_factory=list)
    others: list[Instance] = field(default_factory=list)
    classes_by_study: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, inst: Instance) -> None:
        uid = inst.sop_instance_uid
        if uid in self.instances:
            self.duplicates.append((self.instances[uid], inst))
            return
        self.instances[uid] = inst
        self.classes_by_study[inst.study_uid].add(inst.sop_class_uid)
        {
            "image": lambda: self.images_by_series[inst.series_uid].append(inst),
            "rtstruct": lambda: self.structure_sets.append(inst),
            "rtplan": lambda: self.plans.append(inst),
            "rtdose": lambda: self.doses.append(inst),
        }.get(inst.kind, lambda: self.others.append(inst))()

    def get(self, uid: object) -> Instance | None:
        return self.instances.get(str(uid))

    def has_class(self, sop_class_uid: str, study_uid: str | None = None) -> bool:
        if study_uid is not None:
            return sop_class_uid in self.classes_by_study.get(study_uid, set())
        return any(sop_class_uid in classes for classes in self.classes_by_study.values())

    def is_dangling(self, referrer: Instance, sop_class_uid: str) -> bool:
        """A missing reference is dangling when the set holds objects of that
        class for the referrer's study, so the export was not merely partial."""
        return self.has_class(sop_class_uid, referrer.study_uid)

    def images(self) -> list[Instance]:
        return [inst for series in self.images_by_series.values() for inst in series]

    def image_frames_of_reference(self) -> set[str]:
        return {i.frame_of_reference_uid for i in self.images() if i.frame_of_reference_uid}

    def patients(self) -> dict[tuple[str, str, str], list[Instance]]:
        out: dict[tuple[str, str, str], list[Instance]] = defaultdict(list)
        for inst in self.instances.values():
            out[inst.patient].append(inst)
        return out

    def summary(self) -> dict:
        studies: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for inst in self.instances.values():
            studies[inst.study_uid][inst.series_uid] += 1
        return {
            "patients": len(self.patients()),
            "studies": len(studies),
            "series": sum(len(s) for s in studies.values()),
            "instances": len(self.instances),
            "images": sum(len(s) for s in self.images_by_series.values()),
            "structure_sets": len(self.structure_sets),
            "plans": len(self.plans),
            "doses": len(self.doses),
            "frames_of_reference": len(
                {i.frame_of_reference_uid for i in self.instances.values()
                 if i.frame_of_reference_uid}
            ),
        }

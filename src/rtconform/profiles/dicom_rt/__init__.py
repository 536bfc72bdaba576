"""`dicom-rt`: what any DICOM RT exporter owes its receivers — the RT
modules' content and the consistency across CT, structure set, plan and dose
(PS3.3), the file format (PS3.10) — calling nothing an error that DICOM
allows. Every other profile builds on it."""

from rtconform.rules.profiles import Profile

PROFILE = Profile(
    "dicom-rt", "DICOM RT objects: IOD content and cross-object consistency",
    "DICOM PS3.3 (RT modules), PS3.5, PS3.10",
    package=__name__,
    rule_modules=("files", "fileset", "ct", "structure_set", "plan", "dose", "dose_sum",
                  "references"),
    faults_module="faults",
)

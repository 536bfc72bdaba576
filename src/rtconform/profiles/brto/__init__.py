"""`brto`: the IHE-RO BRTO (TRO 2007) content profile, what the IHE-RO test
tool checks for RO-1 … RO-11, checked on every item and against what the
actor under test was given (`RuleContext.given`), not against a reference
file it never saw. `coverage.yaml` maps every row of that tool's checklist
(BRTO-RO<n>-<nn>) to the rules here, the dicom-rt rules and the scenario
steps."""

from rtconform.findings import Severity
from rtconform.rules.profiles import Checklist, Profile

# rows of the IHE-RO test tool's BRTO checklist per transaction RO-1 … RO-11
ROWS_PER_TRANSACTION = {1: 6, 2: 65, 3: 64, 4: 47, 5: 50, 6: 2, 7: 7, 8: 6, 9: 6, 10: 6, 11: 30}

PROFILE = Profile(
    "brto", "IHE-RO Basic Radiation Therapy Objects (TRO 2007) content profile",
    "IHE-RO Technical Framework, BRTO (TRO 2007) RO-1 … RO-11; IHE-RO test tool BRTO rules",
    package=__name__,
    includes=("dicom-rt",),
    severity={"SS-ROI-NAME-UNIQUE": Severity.ERROR},
    rule_modules=("common", "dose", "image", "plan", "structure_set"),
    faults_module="faults",
    checklist=Checklist(
        "IHE-RO test tool BRTO checklist",
        tuple(f"BRTO-RO{n}-{i:02d}" for n, count in ROWS_PER_TRANSACTION.items()
              for i in range(1, count + 1)),
        shared_name="ihe-ro-brto-checks.md"),
)

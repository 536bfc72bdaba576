"""The IHE-RO BRTO (TRO 2007) content profile: what the IHE-RO test tool
checks for RO-1 … RO-11, checked on every item and against what the actor
under test was given (`RuleContext.given`), not against a reference file it
never saw. `conformance/ihe-ro-brto-coverage.yaml` maps every row of that
tool's checklist (BRTO-RO<n>-<nn>) to the rules here, the dicom-rt rules
and the scenario steps.
"""

from rtconform.rules.brto import common, dose, image, plan, structure_set  # noqa: F401

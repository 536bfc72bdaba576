"""`tppc`: IHE-RO Treatment Planning – Plan Content (2014), the plan content
a planning system stores for each of 14 beam types, from basic static photon
fields to VMAT, wedges, photon cones and static electron fields.

Unlike the IHE-RO test tool, whose operator picks one beam type for a whole
run, the type of every beam is detected from its content (`beams.py`) and
each beam is judged by its own type's rules; every beam, control point and
item is checked, and the modifier rules apply where a beam has the modifier.
Findings name the checklist row (TPPC-GEN-nn, TPPC-MOD-…, TPPC-<type>-nn),
the beam by number and name, and the control point. `coverage.yaml` maps
every row of the tool's TPPC checklist.
"""

from rtconform.rules.profiles import Checklist, Profile

# rows of the IHE-RO test tool's TPPC checklist, table by table, in its order
TABLES = {"GEN": 79, "MOD-BOL": 3, "MOD-BLK": 10, "MOD-CMP": 12, "MOD-WDG": 11, "BS": 14,
          "BSM": 15, "ARC": 13, "MFA": 14, "MVA": 14, "HW": 16, "VW": 17, "MW": 18, "ELEC": 17,
          "SAS": 15, "SW": 14, "VMAT": 13, "PA": 19, "PAA": 19}

PROFILE = Profile(
    "tppc", "IHE-RO Treatment Planning – Plan Content (TPPC 2014): 14 beam types",
    "IHE-RO Technical Framework, TPPC (2014), TPPC-01 … TPPC-32; IHE-RO test tool TPPC rules",
    package=__name__,
    includes=("dicom-rt",),
    replaces={"PLAN-CONTROL-POINTS": "TPPC-CONTROL-POINTS"},
    rule_modules=("plan", "beam", "control_points", "modifiers"),
    faults_module="faults",
    features="features",
    steps_module="steps",
    report_module="report",
    checklist=Checklist(
        "IHE-RO test tool TPPC checklist",
        tuple(f"TPPC-{table}-{i:02d}" for table, count in TABLES.items()
              for i in range(1, count + 1)),
        shared_name="ihe-ro-tppc-checks.md"),
)

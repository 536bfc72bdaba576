"""pydicom's bundled RT files: real-world-ish objects with known defects. Every
expected finding is listed with why it is right."""

from __future__ import annotations

import shutil
from collections import Counter

from helpers import PYDICOM_TEST_FILES, tro_findings
from rtconform.findings import Severity

E, W = Severity.ERROR, Severity.WARNING
EXPECTED = {
    # rtplan.dcm was anonymised without updating its file meta information
    ("rtplan.dcm", "FILE-META", E): 1,
    # ...and names a structure set that is not in pydicom's files (partial set)
    ("rtplan.dcm", "PLAN-STRUCTURE-SET-REF", W): 1,
    # same anonymisation defect in the dose
    ("rtdose.dcm", "FILE-META", E): 1,
    # its Referenced SOP Instance UID has a component with a leading zero ('0123')
    ("rtdose.dcm", "UID-VALID", E): 1,
    # the plan it references is not rtplan.dcm, and no plan of its study is here
    ("rtdose.dcm", "DOSE-PLAN-REF", W): 1,
    # rtstruct.dcm is a bare dataset without preamble and file meta
    ("rtstruct.dcm", "FILE-META", W): 1,
    # the CT series it was drawn on is not among pydicom's files (partial set)
    ("rtstruct.dcm", "SS-REFERENCED-SERIES", W): 1,
    # CT_small.dcm: nothing for the TRO rules (another patient, no RT references)
}
# What IHE-RO BRTO adds: none of these objects was made for BRTO.
BRTO = {
    # its 5 contours have no Contour Image Sequence (legal DICOM; BRTO requires one each)
    ("rtstruct.dcm", "SS-CONTOUR-IMAGE", E): 5,
    # ... nor does its referenced series list its images
    ("rtstruct.dcm", "BRTO-SS-IMAGE-REFERENCES", E): 1,
    # a BEAM dose in RELATIVE units: both legal DICOM, neither BRTO (PLAN, GY)
    ("rtdose.dcm", "BRTO-DOSE-SUMMATION", E): 1,
    ("rtdose.dcm", "BRTO-DOSE-VALUES", E): 1,
    # a plan without blocks, which the IHE-RO test tool would fail
    ("rtplan.dcm", "BRTO-PLAN-BLOCKS-SUPPORTED", W): 1,
}


def test_pydicom_rt_files(tmp_path):
    for name in ("rtplan.dcm", "rtdose.dcm", "rtstruct.dcm", "CT_small.dcm"):
        shutil.copy(PYDICOM_TEST_FILES / name, tmp_path / name)
    for profile, expected in (("dicom-rt", EXPECTED), ("brto", EXPECTED | BRTO)):
        found = Counter((f.file.rsplit("/", 1)[-1], f.rule_id, f.severity)
                        for f in tro_findings(tmp_path, profile=profile))
        assert dict(found) == expected, profile

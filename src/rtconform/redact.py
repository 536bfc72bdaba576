"""Redaction: keep patient identity out of everything we print or write when
--redact is given (CI artifacts are public).

Which attributes identify someone is PS3.15 Annex E's Basic Application
Level Confidentiality Profile, as implemented by dicognito (a maintained
de-identifier): every attribute it removes or replaces, every PN. Three of
the profile's options are applied because a conformance report is about a
device and its data flow: Retain UIDs (113110: UIDs are the evidence),
Retain Longitudinal Temporal Information with Full Dates (113106; the birth
date is still redacted) and Retain Device Identity (113109).

The values are collected from the data itself as it is read, then replaced
wherever they appear: fields, finding messages, tag values, file paths.
"""

from __future__ import annotations

import functools
import re

from pydicom.dataset import Dataset

PROFILE = ("PS3.15 Annex E Basic Application Level Confidentiality Profile (attributes as "
           "dicognito de-identifies them), with the Retain UIDs, Retain Longitudinal Temporal "
           "Information with Full Dates and Retain Device Identity options")
# Our own floor, and the list used if dicognito cannot say.
PHI_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientBirthTime", "OtherPatientIDs",
    "OtherPatientNames", "PatientAddress", "PatientTelephoneNumbers", "PatientMotherBirthName",
    "MilitaryRank", "EthnicGroup", "PatientBirthName", "IssuerOfPatientID",
)
RETAINED_VRS = frozenset({"UI", "DA", "DT", "TM"})  # Retain UIDs; Retain Full Dates
RETAINED_KEYWORDS = frozenset({"StationName", "InstitutionalDepartmentName"})  # Device Identity
MASK = "[REDACTED]"


@functools.cache
def identifying() -> tuple[frozenset[str], frozenset[str]]:
    """(keywords, VRs) whose values identify someone: what dicognito removes or
    replaces, less what the retain options keep, plus our floor."""
    keywords, vrs = set(PHI_KEYWORDS), {"PN"}
    try:
        from dicognito.anonymizer import Anonymizer

        text = Anonymizer().describe_actions()
    except ImportError:  # a dependency, but an install may lack it: the floor alone
        return frozenset(keywords), frozenset(vrs)
    keywords |= set(re.findall(r"^\* (?:Remove|Replace) ([A-Z][A-Za-z]+)\b", text, re.M))
    vrs |= set(re.findall(r"^\* Replace all ([A-Z]{2}) elements", text, re.M))
    return frozenset(keywords - RETAINED_KEYWORDS), frozenset(vrs - RETAINED_VRS)


def is_identifying(keyword: str, vr: str) -> bool:
    keywords, vrs = identifying()
    return keyword in keywords or vr in vrs


def identity_values(ds: Dataset) -> set[str]:
    """The identifying values of a data set (what a Redactor must learn),
    as text: a worker process sends them back with its findings."""
    values: set[str] = set()
    for elem in ds.iterall():
        if elem.VR == "SQ" or not is_identifying(elem.keyword, elem.VR):
            continue
        value = elem.value
        if value in (None, "", b""):
            continue
        for v in (value if isinstance(value, list | tuple) or type(value).__name__ ==
                  "MultiValue" else [value]):
            if not isinstance(v, bytes):
                values.add(str(v))
    return values


class Redactor:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._values: set[str] = set()
        self._pattern: re.Pattern | None = None

    def learn(self, ds: Dataset) -> None:
        if not self.enabled:
            return
        for value in identity_values(ds):
            self.add(value)

    def add(self, value: str) -> None:
        value = value.strip()
        if len(value) < 3:  # too short to scrub without mangling unrelated text
            return
        variants = {value, value.replace("^", " ").strip(), *value.split("^")}
        new = {v.strip() for v in variants if len(v.strip()) >= 3} - self._values
        if new:
            self._values |= new
            self._pattern = None

    def __call__(self, text: str) -> str:
        if not self.enabled or not self._values or not text:
            return text
        if self._pattern is None:
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE)
        return self._pattern.sub(MASK, text)

    def scrub(self, obj):
        """Recursively redact strings in dicts, lists and strings."""
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, dict):
            return {k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.scrub(v) for v in obj]
        return obj

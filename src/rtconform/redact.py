"""Redaction: keep patient identity out of everything we print or write when
--redact is given (CI artifacts are public).

The PHI strings are collected from the data itself as it is read, then
replaced wherever they appear: messages, tag values, file paths.
"""

from __future__ import annotations

import re

from pydicom.dataset import Dataset

PHI_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs", "OtherPatientNames",
    "PatientAddress", "PatientTelephoneNumbers", "PatientMotherBirthName", "MilitaryRank",
    "EthnicGroup", "PatientBirthName", "IssuerOfPatientID",
)
MASK = "[REDACTED]"


class Redactor:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._values: set[str] = set()
        self._pattern: re.Pattern | None = None

    def learn(self, ds: Dataset) -> None:
        if not self.enabled:
            return
        for keyword in PHI_KEYWORDS:
            value = ds.get(keyword)
            if value in (None, ""):
                continue
            values = value if isinstance(value, list | tuple) else [value]
            for v in values:
                self.add(str(v))

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

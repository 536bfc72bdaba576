"""UIDs: the grammar check (PS3.5 §9.1), deterministic generation, and the SOP
classes the TRO profile is about.

A UID is checked here before it is trusted anywhere else, including before it
becomes part of a file name.
"""

from __future__ import annotations

import re

from pydicom.uid import generate_uid

# PS3.5 9.1: components of digits separated by '.', no leading zero in a
# multi-digit component, at most 64 characters.
_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")

# pydicom's registered root; any root can be given to the sample generator.
DEFAULT_UID_ROOT = "1.2.826.0.1.3680043.8.498."

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
RT_PLAN_STORAGE = "1.2.840.10008.5.1.4.1.1.481.5"
RT_DOSE_STORAGE = "1.2.840.10008.5.1.4.1.1.481.2"
RT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.481.1"
RT_BEAMS_TREATMENT_RECORD_STORAGE = "1.2.840.10008.5.1.4.1.1.481.4"
SPATIAL_REGISTRATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.1"
SECONDARY_CAPTURE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"

IMAGE_SOP_CLASSES = frozenset({CT_IMAGE_STORAGE, MR_IMAGE_STORAGE, PET_IMAGE_STORAGE})


def uid_problem(value: object) -> str | None:
    """Why `value` is not a valid UID, or None when it is."""
    text = str(value) if value is not None else ""
    if not text:
        return "empty UID"
    if len(text) > 64:
        return f"UID longer than 64 characters ({len(text)})"
    if not _UID_RE.match(text):
        return "UID does not follow the PS3.5 grammar (digits, dots, no leading zeros)"
    if text.split(".")[0] not in ("0", "1", "2"):
        return "illegal root: the first component of a UID must be 0, 1 or 2"
    return None


def is_valid_uid(value: object) -> bool:
    return uid_problem(value) is None


def derived_uid(root: str, *parts: object) -> str:
    """A UID that is the same on every run for the same root and parts."""
    if not root.endswith("."):
        root += "."
    return generate_uid(prefix=root, entropy_srcs=[str(p) for p in parts])


def safe_file_stem(uid: object, fallback: str) -> str:
    """A file name made from a UID only when it passes the grammar; never from
    anything else a peer sent (patient names, free text)."""
    return str(uid) if is_valid_uid(uid) else fallback

"""Is the body part examined a paired structure? The one fact behind the
Laterality condition of the General Series module (PS3.3 C.7.3.1: Laterality
(0020,0060) is Type 2C, "required if the body part examined is a paired
structure and Image Laterality (0020,0062) or Frame Laterality (0020,9072) or
Measurement Laterality (0024,0113) are not sent").

PS3.3 names no list of paired structures; the body parts come from Body Part
Examined (0018,0015), whose Defined Terms are in PS3.16 Annex L, or from the
Anatomic Region Sequence (0008,2218). The sets below are the Annex L terms for
anatomy that exists on the left and on the right. A value that is not among
them (absent, a midline region such as PELVIS or CHEST, or a vendor's own
text) names no paired structure, so the condition is not met.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataset import Dataset

CONDITION = ("PS3.3 C.7.3.1 (Laterality (0020,0060) Type 2C: required if the body part "
             "examined is a paired structure and no Image/Frame/Measurement Laterality is sent)")

# PS3.16 Annex L Body Part Examined Defined Terms of left/right anatomy.
PAIRED_BODY_PARTS = frozenset({
    "ACJOINT", "ADRENAL", "ANKLE", "ARM", "AXILLA", "BREAST", "BUTTOCK", "CALCANEUS", "CALF",
    "CAROTID", "CHEEK", "CLAVICLE", "CORNEA", "EAR", "ELBOW", "EXTREMITY", "EYE", "EYELID",
    "FEMUR", "FIBULA", "FINGER", "FOOT", "FOREARM", "HAND", "HIP", "HUMERUS", "IAC", "KIDNEY",
    "KNEE", "LEG", "LOWERLIMB", "LUNG", "ORBIT", "OVARY", "PAROTID", "PATELLA", "RADIUS", "SCAPULA",
    "SCLERA", "SHOULDER", "SIJOINT", "SUBMANDIBULAR", "TESTIS", "THIGH", "THUMB", "TIBIA", "TMJ",
    "TOE", "ULNA", "UPPERLIMB", "UPRURTRACT", "URETER", "WRIST", "ZYGOMA",
})
# The same anatomy as it appears in an Anatomic Region Sequence's Code Meaning.
_PAIRED_WORDS = re.compile(
    r"\b(acromioclavicular|adrenal|ankle|arm|axilla|breasts?|buttock|calcaneus|calf|carotid|"
    r"cheek|clavicle|cornea|ears?|elbow|eyes?|eyelid|femur|fibula|finger|foot|forearm|hand|"
    r"hip|humerus|kidneys?|knee|leg|lungs?|orbit|ovary|parotid|patella|radius|scapula|sclera|"
    r"shoulder|sacroiliac|submandibular|testis|thigh|thumb|tibia|temporomandibular|toe|ulna|"
    r"ureter|wrist|zygoma)\b", re.IGNORECASE)
_LATERALITY_ELSEWHERE = ("ImageLaterality", "MeasurementLaterality")


@dataclass(frozen=True)
class LateralityCondition:
    """Whether the object must carry Laterality, and why (said to the user)."""

    required: bool
    reason: str


def region_meanings(ds: Dataset) -> list[str]:
    out = []
    for item in ds.get("AnatomicRegionSequence") or []:
        meaning = str(item.get("CodeMeaning", "") or "").strip()
        if meaning:
            out.append(meaning)
    return out


def _frame_laterality(ds: Dataset) -> bool:
    for group in ds.get("SharedFunctionalGroupsSequence") or []:
        for anatomy in group.get("FrameAnatomySequence") or []:
            if "FrameLaterality" in anatomy:
                return True
    return False


def laterality_condition(ds: Dataset) -> LateralityCondition:
    """PS3.3 C.7.3.1's condition for Laterality, evaluated on the object."""
    for keyword in _LATERALITY_ELSEWHERE:
        if keyword in ds:
            return LateralityCondition(False, f"{keyword} is present, which takes the place "
                                              "of Laterality")
    if _frame_laterality(ds):
        return LateralityCondition(False, "Frame Laterality is present, which takes the place "
                                          "of Laterality")
    body_part = str(ds.get("BodyPartExamined", "") or "").strip().upper()
    meanings = region_meanings(ds)
    if body_part in PAIRED_BODY_PARTS:
        return LateralityCondition(True, f"Body Part Examined {body_part} is a paired "
                                         "structure")
    for meaning in meanings:
        if _PAIRED_WORDS.search(meaning):
            return LateralityCondition(True, f"Anatomic Region Sequence names {meaning!r}, a "
                                             "paired structure")
    if body_part:
        return LateralityCondition(False, f"Body Part Examined {body_part} is not a paired "
                                          "structure (PS3.16 Annex L)")
    if meanings:
        return LateralityCondition(False, f"Anatomic Region Sequence names "
                                          f"{', '.join(map(repr, meanings))}, not a paired "
                                          "structure")
    return LateralityCondition(False, "neither Body Part Examined nor an Anatomic Region "
                                      "Sequence is present: no paired structure is known")

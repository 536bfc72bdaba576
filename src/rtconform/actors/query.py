"""C-FIND/C-MOVE/C-GET matching over the Archive's index (DICOM PS3.4 C.2.2.2):
single value, wildcard (* and ?), range (dates and times), UID list, and
universal matching; one response per matching entity at the query level,
with the computed counts and ModalitiesInStudy that receivers rely on.
"""

from __future__ import annotations

from collections import OrderedDict

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from rtconform.actors.storage import KEYWORD_TO_COLUMN, LEVEL_OF, LEVELS, UNIQUE_KEY

RANGE_KEYWORDS = {"PatientBirthDate", "StudyDate", "StudyTime"}
UID_KEYWORDS = {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"}
COMPUTED = {"ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
            "NumberOfSeriesRelatedInstances", "NumberOfPatientRelatedStudies",
            "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"}


class QueryError(ValueError):
    """An identifier the SCP cannot process; status 0xA900 or 0xC000 class."""


# No real query carries hundreds of keys or a value of 64 K characters (a list
# of a thousand UIDs is); beyond these an identifier is refused with a status.
MAX_KEYS = 256
MAX_VALUE_CHARS = 1 << 16


def check_identifier(identifier: Dataset) -> None:
    elements = list(identifier)
    if len(elements) > MAX_KEYS:
        raise QueryError(f"{len(elements)} keys in the identifier, more than {MAX_KEYS}")
    for elem in elements:
        if elem.VR != "SQ" and len(str(elem.value or "")) > MAX_VALUE_CHARS:
            raise QueryError(f"{elem.keyword or elem.tag}: a value of more than "
                             f"{MAX_VALUE_CHARS} characters")


def _matches_value(keyword: str, pattern: str, value: str) -> bool:
    if pattern == "" or pattern == "*":
        return True
    if keyword in UID_KEYWORDS and "\\" in pattern:
        return value in pattern.split("\\")
    if keyword in RANGE_KEYWORDS and "-" in pattern:
        low, _, high = pattern.partition("-")
        return (not low or value >= low) and (not high or value[: len(high)] <= high)
    if "*" in pattern or "?" in pattern:
        return wildcard_match(pattern, value)
    return value == pattern


def wildcard_match(pattern: str, value: str) -> bool:
    """PS3.4 C.2.2.2.4 wildcard matching ('*' any run, '?' one character),
    without backtracking: at most len(pattern) × len(value) steps, so no
    identifier can stall the Archive (a regex takes exponential time on
    '*a*a*a*…b')."""
    p = v = 0
    star, resume = -1, 0
    while v < len(value):
        if p < len(pattern) and pattern[p] in ("?", value[v]) and pattern[p] != "*":
            p, v = p + 1, v + 1
        elif p < len(pattern) and pattern[p] == "*":
            star, resume = p, v
            p += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            v = resume
        else:
            return False
    return all(c == "*" for c in pattern[p:])


def level_of(identifier: Dataset) -> str:
    check_identifier(identifier)
    level = str(identifier.get("QueryRetrieveLevel", "")).strip().upper()
    if level not in LEVELS:
        raise QueryError(f"Query/Retrieve Level {level!r} is not one of {LEVELS}")
    return level


def matching_rows(rows: list[dict], identifier: Dataset, level: str) -> list[dict]:
    depth = LEVELS.index(level)
    keys = []
    for elem in identifier:
        keyword = elem.keyword
        if keyword in KEYWORD_TO_COLUMN and LEVELS.index(LEVEL_OF[keyword]) <= depth:
            value = elem.value
            pattern = "" if value is None else "\\".join(map(str, value)) \
                if isinstance(value, list | tuple | MultiValue) else str(value)
            if pattern:
                keys.append((keyword, KEYWORD_TO_COLUMN[keyword], pattern))
    out = [r for r in rows if all(_matches_value(kw, p, r[col] or "") for kw, col, p in keys)]
    modalities = identifier.get("ModalitiesInStudy")
    if modalities and level == "STUDY":
        wanted = set(modalities) if isinstance(modalities, list | tuple) else {str(modalities)}
        studies = {r["study_uid"] for r in out if r["modality"] in wanted}
        out = [r for r in out if r["study_uid"] in studies]
    return out


def find_responses(rows: list[dict], identifier: Dataset) -> list[Dataset]:
    """One identifier per matching entity at the query level."""
    level = level_of(identifier)
    matched = matching_rows(rows, identifier, level)
    unique_col = KEYWORD_TO_COLUMN[UNIQUE_KEY[level]]
    groups: OrderedDict[str, list[dict]] = OrderedDict()
    for row in matched:
        groups.setdefault(row[unique_col], []).append(row)
    responses = []
    for members in groups.values():
        first = members[0]
        rsp = Dataset()
        for elem in identifier:
            keyword = elem.keyword
            if keyword == "QueryRetrieveLevel":
                continue
            if keyword in KEYWORD_TO_COLUMN:
                setattr(rsp, keyword, first[KEYWORD_TO_COLUMN[keyword]] or "")
            elif keyword in COMPUTED:
                setattr(rsp, keyword, _computed(keyword, members, rows, first))
            elif keyword == "SpecificCharacterSet":
                continue
            else:
                rsp.add_new(elem.tag, elem.VR, None)  # a key this SCP does not support
        rsp.QueryRetrieveLevel = level
        rsp.SpecificCharacterSet = "ISO_IR 100"
        responses.append(rsp)
    return responses


def _computed(keyword: str, members: list[dict], rows: list[dict], first: dict):
    if keyword == "ModalitiesInStudy":
        return sorted({r["modality"] for r in rows if r["study_uid"] == first["study_uid"]})
    scope = {"Study": ("study_uid",), "Series": ("series_uid",), "Patient": ("patient_id",)}
    for word, (col,) in scope.items():
        if keyword.startswith(f"NumberOf{word}Related"):
            related = [r for r in rows if r[col] == first[col]]
            if keyword.endswith("Studies"):
                return len({r["study_uid"] for r in related})
            if keyword.endswith("Series"):
                return len({r["series_uid"] for r in related})
            return len(related)
    return None


# PS3.4 C.4.1.2.1: below the top level of the model, a query carries the
# unique key of every level above it (hierarchical search)
UNIQUE_KEYS = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID",
               "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}


def hierarchical_identifier(level: str, held: Dataset, **keys) -> tuple[Dataset, str]:
    """An identifier at `level` for an object like `held`, with the unique
    keys of the levels above it, and the information model to send it in
    (Patient Root for PATIENT level, Study Root otherwise)."""
    model = "patient" if level == "PATIENT" else "study"
    top = LEVELS.index("PATIENT" if model == "patient" else "STUDY")
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for above in LEVELS[top:LEVELS.index(level)]:
        setattr(ds, UNIQUE_KEYS[above], str(held.get(UNIQUE_KEYS[above], "")))
    setattr(ds, UNIQUE_KEYS[level], "")  # return the unique key of the level asked
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds, model

"""C-FIND/C-MOVE/C-GET matching over the Archive's index (DICOM PS3.4 C.2.2.2):
single value, wildcard (* and ?), range (dates and times), UID list, and
universal matching; one response per matching entity at the query level,
with the computed counts and ModalitiesInStudy that receivers rely on.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

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


# -- what an SCU checks in the answers it gets ----------------------------------------
FIND_SOURCE = "DICOM PS3.4 C.4.1.3.1.1 (hierarchical search: one response per matching entity " \
              "at the Query/Retrieve Level) and C.4.1.1.3.2 (response identifier)"


def response_problems(request: Dataset, responses: list[Dataset]) -> list[str]:
    """What is wrong with the pending responses to one C-FIND request, each
    message led by its finding id: responses at another level than asked,
    the level's unique key missing, one entity answered more than once."""
    level = str(request.get("QueryRetrieveLevel", "")).strip().upper()
    return [*_level_problems(level, responses), *_leaked_keys(level, request, responses),
            *_unique_key_problems(level, responses)]


def _level_problems(level: str, responses: list[Dataset]) -> list[str]:
    """ARCHIVE-FIND-LEVEL: responses whose Query/Retrieve Level is not the request's."""
    levels = Counter(str(r.get("QueryRetrieveLevel", "")).strip().upper() for r in responses)
    other = {lv: n for lv, n in levels.items() if lv and lv != level}
    if not other:
        return []
    return ["ARCHIVE-FIND-LEVEL: " + ", ".join(f"{n} response(s) at {lv} level" for lv, n in
                                               sorted(other.items()))
            + f" to a {level}-level C-FIND (PS3.4 C.4.1.1.3.2: a response's Query/Retrieve "
              "Level is the request's)"]


def _leaked_keys(level: str, request: Dataset, responses: list[Dataset]) -> list[str]:
    """ARCHIVE-FIND-LEVEL: the unique key of a level below the request's,
    answered though not asked for."""
    below = LEVELS[LEVELS.index(level) + 1:] if level in LEVELS else []
    leaked = sorted({UNIQUE_KEYS[lv] for lv in below for r in responses
                     if UNIQUE_KEYS[lv] not in request and str(r.get(UNIQUE_KEYS[lv], ""))})
    if not leaked:
        return []
    return [f"ARCHIVE-FIND-LEVEL: {level}-level responses carry {', '.join(leaked)}, "
            f"the unique key of a level below, not asked for (PS3.4 C.4.1.1.3.2)"]


def _unique_key_problems(level: str, responses: list[Dataset]) -> list[str]:
    """ARCHIVE-FIND-UNIQUE-KEY and ARCHIVE-FIND-DUPLICATE: the level's unique
    key missing from a response, or one entity answered more than once."""
    key = UNIQUE_KEYS.get(level)
    if key is None:
        return []
    problems = []
    values = [str(r.get(key, "") or "").strip() for r in responses]
    if missing := values.count(""):
        problems.append(f"ARCHIVE-FIND-UNIQUE-KEY: {missing} of {len(values)} {level}-level "
                        f"responses have no {key}, the unique key of that level (PS3.4 "
                        "C.4.1.1.3.2, C.6.2.1)")
    repeated = {v: n for v, n in Counter(values).items() if v and n > 1}
    if repeated:
        first, count = next(iter(repeated.items()))
        problems.append(
            f"ARCHIVE-FIND-DUPLICATE: {sum(repeated.values())} responses for "
            f"{len(repeated)} {level.lower()} entit{'y' if len(repeated) == 1 else 'ies'} to a "
            f"{level}-level C-FIND ({key} {first} answered {count} times); {FIND_SOURCE}")
    return problems


MATCHING = {"S": "single value matching", "*": "wildcard matching", "R": "range matching",
            "U": "UID list matching"}


def key_value(held: Dataset, keyword: str, matching: str) -> str | None:
    """A value of `held` exercising one matching type (PS3.4 C.2.2.2) on
    `keyword`, matching `held`; None when the type does not apply to it.
    `matching` is a statement's code (S, *, R, U) or its name."""
    code = next((c for c, name in MATCHING.items() if matching in (c, name)), matching)
    value = str(held.get(keyword, "")) if keyword != "ModalitiesInStudy" else \
        str(held.get("Modality", ""))
    if not value:
        return None
    if code == "S":
        return value
    if code == "*":
        return value[:4] + "*"
    if code == "R" and keyword.endswith("Date"):
        return f"{int(value[:4]) - 1}0101-{int(value[:4]) + 1}1231"
    if code == "U":
        return f"{value}\\1.2.3.999"
    return None


def answer_problems(level: str, keyword: str, value: str, held: Dataset,
                    answers: list[Dataset]) -> list[str]:
    """Whether a C-FIND found what it must: the entity `held` belongs to
    among the answers, and no answer whose value of the matching key breaks
    the match (an Archive may hold more that matches: that is not wrong)."""
    unique = UNIQUE_KEYS[level]
    wanted = str(held.get(unique, ""))
    problems = []
    if wanted not in {str(a.get(unique, "")) for a in answers}:
        problems.append(f"the {level} entity the harness stored ({unique} {wanted}) is not "
                        f"among the {len(answers)} answer(s) to {keyword} = {value!r}")
    for answer in answers:
        got = answer.data_element(keyword)
        if got is None or got.value in (None, "") or keyword == "ModalitiesInStudy":
            continue
        shown = "\\".join(map(str, got.value)) if got.VM > 1 else str(got.value)
        if not _matches_value(keyword, value, shown.strip()):
            problems.append(f"answer {unique} {answer.get(unique, '?')} has {keyword} "
                            f"{shown!r}, which does not match {value!r} (PS3.4 C.2.2.2)")
    return problems

"""What every TPPC rule shares: its registration under the profile, the
citation of the checklist rows it answers, and "present" as TPPC means it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial

from pydicom.dataset import Dataset

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.rules.registry import Issue, RuleContext
from rtconform.rules.registry import rule as _rule

TPPC = "IHE-RO TPPC (Treatment Planning – Plan Content, 2014)"
rule = partial(_rule, profile="tppc")


def tool(*rows: str, note: str = "") -> str:
    """Cite rows of the IHE-RO test tool's TPPC checklist."""
    return f"{TPPC}; IHE-RO test tool " + ", ".join(rows) + (f"; {note}" if note else "")


def present(ds: Dataset | None, keyword: str) -> bool:
    """TPPC's 'present' (the tool's IsRequiredRule): the attribute is there;
    an empty value passes, as a Type 2 attribute's would."""
    return ds is not None and keyword in ds


def has_value(ds: Dataset | None, keyword: str) -> bool:
    return ds is not None and keyword in ds and ds[keyword].value not in (None, "", [])


def name(keyword: str) -> str:
    """'SoftwareVersions' → 'Software Versions' (DICOM's attribute name)."""
    from pydicom.datadict import dictionary_description, tag_for_keyword

    tag = tag_for_keyword(keyword)
    return dictionary_description(tag) if tag is not None else keyword


def missing(ds: Dataset | None, rows: Iterable[tuple[str, str]], path: str = ""
            ) -> Iterator[tuple[str, str, str]]:
    """(row, message, tag path) for each (row, keyword) not present in ds."""
    for row, keyword in rows:
        if not present(ds, keyword):
            yield row, f"{name(keyword)} is absent", f"{path}.{keyword}" if path else keyword


PlanCheck = Callable[[Instance, ObjectGraph, RuleContext], Iterable[Issue]]


def each_plan(check: PlanCheck) -> Callable[[ObjectGraph, RuleContext], Iterator[Issue]]:
    """A graph rule made of a check of one plan at a time."""
    def run(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
        for plan in graph.plans:
            yield from check(plan, graph, ctx)

    run.__doc__ = check.__doc__
    run.__name__ = check.__name__
    return run


def _value_of(cp: Dataset, keyword: str) -> object:
    value = cp[keyword].value
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return tuple(str(v) for v in value)
    return str(value) if value is not None else ""


def changes_only(cps: list[Dataset], keyword: str) -> tuple[int, str] | None:
    """DICOM's rule for a control point attribute that is 'required for the
    first control point, or if it changes during the beam' (PS3.3 C.8.8.14,
    Type 1C/2C; PS3.5 7.4.2: where the condition is not met, the attribute
    is not included): one that changes is in every control point, one that
    does not is in control point 0 only. (The IHE-RO test tool's 'constant'
    rule, ControlPointConstantValueRule, says the same.) The first control
    point that breaks it, and why; None when none does or control point 0
    lacks it (said elsewhere)."""
    if not cps or keyword not in cps[0]:
        return None
    start = _value_of(cps[0], keyword)
    later = [(k, _value_of(cp, keyword)) for k, cp in enumerate(cps) if k and keyword in cp]
    changed = [k for k, value in later if value != start]
    if changed:
        absent = [k for k, cp in enumerate(cps) if keyword not in cp]
        if absent:
            return absent[0], (f"{name(keyword)} changes during the beam (at control point "
                               f"{changed[0]}), so every control point gives it; control point "
                               f"{absent[0]} does not")
        return None
    if later:
        return later[0][0], (f"{name(keyword)} repeated unchanged at control point "
                             f"{later[0][0]}: it does not change during the beam, so only "
                             "control point 0 gives it")
    return None

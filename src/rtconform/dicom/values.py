"""Tolerant accessors: a rule must report a malformed value, not crash on it."""

from __future__ import annotations

from pydicom.dataset import Dataset


def items(ds: Dataset | None, keyword: str) -> list[Dataset]:
    if ds is None:
        return []
    value = ds.get(keyword)
    try:
        return list(value) if value is not None else []
    except TypeError:
        return []


def number(ds: Dataset | None, keyword: str) -> float | None:
    if ds is None or keyword not in ds:
        return None
    try:
        value = ds[keyword].value
        if value is None or value == "":
            return None
        return float(value)
    except (TypeError, ValueError):
        return None


def integer(ds: Dataset | None, keyword: str) -> int | None:
    value = number(ds, keyword)
    return int(value) if value is not None and value == int(value) else None


def numbers(ds: Dataset | None, keyword: str) -> list[float] | None:
    if ds is None or keyword not in ds:
        return None
    value = ds[keyword].value
    if value is None or value == "":
        return []
    if not isinstance(value, list | tuple) and not hasattr(value, "__iter__"):
        value = [value]
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        return None


def text(ds: Dataset | None, keyword: str) -> str:
    if ds is None:
        return ""
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def uid_of(ds: Dataset | None, keyword: str = "ReferencedSOPInstanceUID") -> str:
    return text(ds, keyword)

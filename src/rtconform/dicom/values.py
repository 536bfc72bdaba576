"""Tolerant accessors: a rule must report a malformed value, not crash on it."""

from __future__ import annotations

import warnings

import numpy as np
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
    return _floats(ds[keyword].value)


def _floats(value: object) -> list[float] | None:
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


CONTOUR_DATA = 0x30060050


def decimal_array(ds: Dataset | None, tag: int = CONTOUR_DATA) -> np.ndarray | None:
    """A multi-valued DS element as one float array, decoded from its encoded
    text without pydicom's per-value objects and without keeping anything in
    the dataset: a Contour Data of a million points (20 MB) costs a few times
    its size, not the 1.6 GB of three million DSfloat objects. None when a
    value is not a number (as `numbers`); an empty array when empty."""
    if ds is None or tag not in ds:
        return None
    elem = ds.get_item(tag)  # the raw element, not converted (nor cached) if still raw
    raw = getattr(elem, "value", None)
    if not isinstance(raw, bytes):  # already converted: the values are at hand
        values = _floats(raw)
        return None if values is None else np.asarray(values, dtype=float)
    text = raw.decode("ascii", "replace").strip(" \0")
    if not text:
        return np.empty(0)
    expected = text.count("\\") + 1
    with warnings.catch_warnings():  # unparsable text: counted below, not warned
        warnings.simplefilter("ignore")
        try:
            array = np.fromstring(text.replace("\\", " "), dtype=float, sep=" ")
        except ValueError:  # numpy 2.x raises on text that is not a number
            return None
    if len(array) != expected:  # an empty or non-numeric value
        return None
    return array

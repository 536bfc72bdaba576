"""What differs between two data sets, located and with both values: the
evidence a reviewer needs when an Archive returns an object changed (PS3.4
B.4.1, storage level 2), not only the keyword of a top-level sequence."""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset

MAX_VALUE = 80  # characters of a value shown in evidence


@dataclass(frozen=True)
class Difference:
    path: str  # ROIContourSequence[0].ContourSequence[2].ContourData
    sent: str
    returned: str

    def __str__(self) -> str:
        return f"{self.path}: sent {self.sent}, returned {self.returned}"


def show(value: object) -> str:
    """A value as evidence: short, one line, its length said when cut."""
    if value is None:
        return "(absent)"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = repr(list(value)) if isinstance(value, list | tuple) or type(value).__name__ == \
        "MultiValue" else repr(value)
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_VALUE else f"{text[:MAX_VALUE]}… ({len(text)} characters)"


def value(element: DataElement) -> object:
    """An element's value; one a sender had to encode as UN (a value of more
    than 64 KiB, e.g. a long DS, in Explicit VR: PS3.5 6.2.2) read with its
    dictionary VR, so that it compares with what was sent."""
    if element.VR == "UN" and isinstance(element.value, bytes):
        try:
            vr = dictionary_VR(element.tag)
        except KeyError:
            return element.value
        if vr not in ("UN", "SQ") and " or " not in vr:
            raw = RawDataElement(element.tag, vr, len(element.value), element.value, 0, True,
                                 True)
            return convert_raw_data_element(raw).value
    return element.value


def differences(sent: Dataset, back: Dataset, limit: int = 20, prefix: str = ""
                ) -> list[Difference]:
    """Attributes that differ (file meta aside: a transfer syntax may change
    in transit), down into sequence items, at most `limit`. Elements whose
    encoded bytes are equal are not decoded (a plan's thousands of leaf
    positions)."""
    out: list[Difference] = []
    tags = sorted(set(sent.keys()) | set(back.keys()))
    for tag in tags:
        if len(out) >= limit:
            break
        raw_a = sent.get_item(tag) if tag in sent else None
        raw_b = back.get_item(tag) if tag in back else None
        if isinstance(raw_a, RawDataElement) and isinstance(raw_b, RawDataElement) and \
                raw_a.value == raw_b.value:
            continue
        name = prefix + (keyword_for_tag(tag) or str(tag))
        a, b = sent.get(tag), back.get(tag)
        if a is None or b is None:
            out.append(Difference(name, show(None if a is None else a.value),
                                  show(None if b is None else b.value)))
        elif a.VR == "SQ" and b.VR == "SQ":
            if len(a.value) != len(b.value):
                out.append(Difference(name, f"{len(a.value)} items", f"{len(b.value)} items"))
                continue
            for i, (x, y) in enumerate(zip(a.value, b.value, strict=True)):
                out += differences(x, y, limit - len(out), f"{name}[{i}].")
                if len(out) >= limit:
                    break
        elif value(a) != value(b):
            out.append(Difference(name, show(a.value), show(b.value)))
    return out[:limit]

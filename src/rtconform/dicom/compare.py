"""What differs between two data sets, located and with both values: the
evidence a reviewer needs when an Archive returns an object changed (PS3.4
B.4.1, storage level 2), not only the keyword of a top-level sequence."""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import keyword_for_tag
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


def differences(sent: Dataset, back: Dataset, limit: int = 20, prefix: str = ""
                ) -> list[Difference]:
    """Attributes that differ (file meta aside: a transfer syntax may change
    in transit), down into sequence items, at most `limit`."""
    out: list[Difference] = []
    tags = sorted({e.tag for e in sent} | {e.tag for e in back})
    for tag in tags:
        if len(out) >= limit:
            break
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
        elif a.value != b.value:
            out.append(Difference(name, show(a.value), show(b.value)))
    return out[:limit]

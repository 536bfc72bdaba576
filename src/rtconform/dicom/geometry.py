"""Image plane geometry (PS3.3 C.7.6.2): what CT series rules, contour
placement and dose grids share."""

from __future__ import annotations

import numpy as np

from rtconform.dicom.index import Instance


def normal(orientation: tuple[float, ...]) -> np.ndarray:
    row, col = np.array(orientation[:3]), np.array(orientation[3:6])
    return np.cross(row, col)


def slice_offset(inst: Instance) -> float | None:
    if inst.position is None or inst.orientation is None or len(inst.orientation) != 6:
        return None
    return float(np.dot(normal(inst.orientation), inst.position))

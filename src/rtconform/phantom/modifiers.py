"""The beam modifiers a planning system adds to a beam: blocks,
compensators, wedges, electron applicators and stereotactic cones (PS3.3
C.8.8.14), as the TPPC beam types use them."""

from __future__ import annotations

import math

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from rtconform.phantom.beam_model import fl
from rtconform.phantom.patient import ds_number


def polygon(radius: float, points: int = 12) -> list[str]:
    return [ds_number(v) for i in range(points)
            for v in (radius * math.cos(2 * math.pi * i / points),
                      radius * math.sin(2 * math.pi * i / points))]


def aperture_block(tray: str, distance: float, material: str, thickness: float,
                   radius: float, divergence: str, mounting: str) -> Dataset:
    block = Dataset()
    block.BlockTrayID = tray
    block.SourceToBlockTrayDistance = ds_number(distance)
    block.BlockType = "APERTURE"
    block.BlockDivergence = divergence
    block.BlockMountingPosition = mounting
    block.BlockNumber = 1
    block.BlockName = "aperture"
    block.MaterialID = material
    block.BlockThickness = ds_number(thickness)
    block.BlockTransmission = "0.035"
    data = polygon(radius)
    block.BlockNumberOfPoints = len(data) // 2
    block.BlockData = data
    return block


def compensator() -> Dataset:
    """A 3 × 3 brass compensator, thicker at the centre."""
    comp = Dataset()
    comp.MaterialID = "BRASS"
    comp.CompensatorNumber = 1
    comp.CompensatorID = "RTC-COMP-PA"
    comp.SourceToCompensatorTrayDistance = "700"
    comp.CompensatorRows = 3
    comp.CompensatorColumns = 3
    comp.CompensatorPixelSpacing = ["20", "20"]
    comp.CompensatorPosition = ["-30", "30"]
    thickness = [2, 4, 2, 4, 8, 4, 2, 4, 2]
    comp.CompensatorTransmissionData = [ds_number(math.exp(-0.05 * t)) for t in thickness]
    comp.CompensatorThicknessData = [ds_number(t) for t in thickness]
    comp.CompensatorType = "STANDARD"
    comp.CompensatorDivergence = "ABSENT"
    comp.CompensatorMountingPosition = "PATIENT_SIDE"
    return comp


def wedge(number: int, kind: str, wedge_id: str, angle: int, orientation: float,
          tray: float | None = None, effective: float | None = None) -> Dataset:
    item = Dataset()
    item.WedgeNumber = number
    item.WedgeType = kind
    item.WedgeID = wedge_id
    item.WedgeAngle = angle
    item.WedgeFactor = ds_number(1 - angle / 150)
    item.WedgeOrientation = ds_number(orientation)
    if tray is not None:
        item.SourceToWedgeTrayDistance = ds_number(tray)
    if effective is not None:
        item.EffectiveWedgeAngle = ds_number(effective)
    return item


def electron_applicator() -> Dataset:
    applicator = Dataset()
    applicator.ApplicatorID = "A10"
    applicator.ApplicatorType = "ELECTRON_SQUARE"
    applicator.ApplicatorDescription = "10 x 10 cm electron applicator"
    return applicator


def cone(diameter: float) -> Dataset:
    applicator = Dataset()
    applicator.ApplicatorID = f"CONE{diameter:g}"
    applicator.ApplicatorType = "PHOTON_CIRC"
    geometry = Dataset()
    geometry.ApplicatorApertureShape = "SYM_CIRCULAR"
    geometry.ApplicatorOpening = fl(diameter)
    applicator.ApplicatorGeometrySequence = Sequence([geometry])
    applicator.ApplicatorDescription = f"stereotactic cone {diameter:g} mm"
    return applicator

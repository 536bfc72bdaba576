"""The numbers the synthetic patient is made of: CT geometry, anatomy, the
four-field box and the dose grid (all in mm, patient coordinates, isocentre at
the origin). One place, because the CT, the structure set, the plans and the
doses must agree on them: a contour lies on a slice, a beam's SSD meets the
body outline, the dose grid sits inside the CT volume.
"""

from __future__ import annotations

STUDY_DATE = "20260101"
STUDY_TIME = "090000"

# CT geometry: 60 axial slices of 96 x 96, 4 mm pixels, 2.5 mm apart,
# centred on the isocentre at the origin (small: a run stores hundreds).
N_SLICES = 60
MATRIX = 96
PIXEL_MM = 4.0
SLICE_MM = 2.5
X0 = -(MATRIX - 1) * PIXEL_MM / 2


def slice_z(k: int) -> float:
    return (k - N_SLICES // 2) * SLICE_MM


def uneven_z() -> list[float]:
    """Slices 5 mm apart, then 7 mm apart, as in IHE-RO's reference CT."""
    return [-80.0 + 5 * i for i in range(25)] + [40.0 + 7 * i for i in range(1, 11)]



# Anatomy (mm): body ellipse, nested target spheres, two organs, one marker.
BODY_A, BODY_B = 140.0, 100.0
TARGETS = (("GTV", 15.0), ("CTV", 22.0), ("PTV", 30.0))
RECTUM = (0.0, 45.0, 10.0, -30.0, 30.0)  # x, y, r, z from, z to (cylinder)
BLADDER = (0.0, -45.0, 10.0, 18.0)  # x, y, z, r (sphere)
MARKER = (0.0, -BODY_B, 0.0)

# Beams: a four-field box around the isocentre.
GANTRY_ANGLES = (0.0, 90.0, 180.0, 270.0)
BEAM_NAMES = ("AP", "LAO", "PA", "RAO")
JAW_MM = 35.0
MLC_PAIRS = 20
MLC_WIDTH = 10.0
FRACTIONS = 30
PRESCRIPTION_GY = 60.0

# Dose grid: 5 mm, covering the PTV with a margin, inside the CT volume.
DOSE_STEP = 5.0
DOSE_HALF = 50.0
DOSE_Z_HALF = 40.0

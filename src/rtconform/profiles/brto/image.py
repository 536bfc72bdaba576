"""BRTO image rules: the CT an actor produces (RO-11) and the geometry of an
RT Dose grid (RO-5) are axial, with square pixels for CT."""

from __future__ import annotations

from collections.abc import Iterator

from rtconform.dicom.graph import ObjectGraph
from rtconform.dicom.index import Instance
from rtconform.dicom.values import numbers
from rtconform.findings import Severity
from rtconform.profiles.brto.common import BRTO, produced, tool
from rtconform.rules.registry import Issue, RuleContext, rule

COSINE_TOLERANCE = 0.001  # the tool's tolerance on the direction cosines


def axial_problem(orientation) -> str:
    """'' when row/column are ±x/±y within the tolerance, else what is wrong."""
    if orientation is None or len(orientation) != 6:
        return f"Image Orientation (Patient) {orientation} does not hold 6 values"
    ones = (orientation[0], orientation[4])
    zeros = (orientation[1], orientation[2], orientation[3], orientation[5])
    if all(abs(abs(v) - 1) <= COSINE_TOLERANCE for v in ones) \
            and all(abs(v) <= COSINE_TOLERANCE for v in zeros):
        return ""
    return (f"Image Orientation (Patient) {list(orientation)} is not axial (rows ±x, columns ±y "
            f"within {COSINE_TOLERANCE})")


@rule("BRTO-AXIAL", Severity.ERROR,
      "CT images and RT Dose grids are axial: Image Orientation (Patient) ±x/±y; CT Image Type "
      "value 3 AXIAL",
      f"{BRTO} RO-5, RO-11 (Image Orientation (Patient) R+*); "
      + tool("BRTO-RO5-16", "BRTO-RO11-17", "BRTO-RO11-18", "(ImageOrientationPatientRule)"),
      profile="brto")
def axial(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for inst in produced(ctx, graph.images()):
        if inst.modality != "CT":
            continue
        if problem := axial_problem(inst.orientation):
            yield Issue(problem, "ImageOrientationPatient", inst)
        image_type = (inst.attributes.get("ImageType") or "").split("\\")
        if inst.attributes.get("ImageType") is not None and \
                (len(image_type) < 3 or image_type[2] != "AXIAL"):
            yield Issue(f"Image Type {inst.attributes['ImageType']!r}: value 3 is not AXIAL",
                        "ImageType", inst)
    for dose in produced(ctx, graph.doses):
        orientation = numbers(dose.dataset, "ImageOrientationPatient")
        if orientation is None and "PixelData" not in dose.dataset \
                and dose.pixel_data_length is None:
            continue  # a dose without a grid (DVH only) has no plane
        if problem := axial_problem(orientation):
            yield Issue(problem, "ImageOrientationPatient", dose)


@rule("BRTO-CT-PIXEL-SPACING", Severity.ERROR,
      "A CT image has Pixel Spacing, with equal row and column spacing",
      f"{BRTO} RO-11 (Pixel Spacing O+*: isotropic); "
      + tool("BRTO-RO11-19", "(PixelSpacingRule)"), profile="brto")
def ct_pixel_spacing(graph: ObjectGraph, ctx: RuleContext) -> Iterator[Issue]:
    for inst in produced(ctx, graph.images()):
        if inst.modality != "CT":
            continue
        yield from _spacing(inst)


def _spacing(inst: Instance) -> Iterator[Issue]:
    spacing = inst.pixel_spacing
    if not spacing or len(spacing) != 2:
        yield Issue(f"Pixel Spacing {spacing or 'absent'}: two values required", "PixelSpacing",
                    inst)
    elif abs(spacing[0] - spacing[1]) > 1e-6:
        yield Issue(f"Pixel Spacing {list(spacing)} is not isotropic", "PixelSpacing", inst)

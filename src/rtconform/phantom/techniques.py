"""The 14 delivery techniques of IHE-RO TPPC (Treatment Planning – Plan
Content, 2014), each as the beams a planning system plans for it: the
techniques' table (`TECHNIQUES`) and one recipe per technique (`BUILD`).
`technique_plans` writes them as RT Plans."""

from __future__ import annotations

import math
from itertools import pairwise

from rtconform.phantom.beam_model import (
    MLC_BOUNDARIES,
    PARKED,
    TARGET_MM,
    BeamPlan,
    ControlPoint,
    aperture,
    arc_points,
    circle,
    ellipsoid_outline,
    static,
)
from rtconform.phantom.design import BODY_B
from rtconform.phantom.modifiers import (
    aperture_block,
    compensator,
    cone,
    electron_applicator,
    wedge,
)

# key → (RT Plan Label, what the plan is); the keys are TPPC's beam types
TECHNIQUES: dict[str, tuple[str, str]] = {
    "basic-static": ("RTC Static", "AP/PA photon fields on jaws, an aperture block and a "
                                   "compensator"),
    "basic-static-mlc": ("RTC Static MLC", "two lateral photon fields shaped by the MLC"),
    "arc": ("RTC Arc", "two full photon arcs on jaws (CW and CC)"),
    "mlc-fixed-aperture-arc": ("RTC MLC Arc", "a photon arc with one MLC aperture"),
    "mlc-variable-aperture-arc": ("RTC Conf Arc", "a conformal arc: the MLC follows the "
                                                  "target's outline every 10 degrees"),
    "hard-wedge": ("RTC Hard Wedge", "a wedged pair with 45-degree physical wedges"),
    "virtual-wedge": ("RTC Virt Wedge", "a lateral pair with 30-degree dynamic (virtual) "
                                           "wedges"),
    "motorized-wedge": ("RTC Motor Wedge", "a lateral pair with a 60-degree motorized wedge "
                                           "(30 degrees effective: wedged, then open)"),
    "static-electron": ("RTC Electron", "a 9 MeV electron field: 10 x 10 applicator with its "
                                        "cut-out, fixed SSD, 5 mm bolus"),
    "step-and-shoot": ("RTC Step Shoot", "three IMRT fields of three segments each, leaves "
                                         "moving while the beam is off"),
    "sliding-window": ("RTC Sliding Win", "three IMRT fields whose leaves sweep while the "
                                          "beam is on"),
    "vmat": ("RTC VMAT", "two 6 MV FFF VMAT arcs: leaves, gantry and dose rate modulated"),
    "photon-applicator": ("RTC SRS Static", "three static cone (photon applicator) fields with "
                                            "couch kicks"),
    "photon-applicator-arc": ("RTC SRS Arc", "three cone arcs with couch kicks"),
}


def technique_of_label(label: str) -> str | None:
    """The technique whose plan carries this RT Plan Label."""
    return next((k for k, (lab, _) in TECHNIQUES.items() if lab == label), None)


def basic_static() -> tuple[list[BeamPlan], int, float]:
    block = aperture_block("RTC-TRAY-1", 650, "CERROBEND", 75, TARGET_MM + 3, "PRESENT",
                           "PATIENT_SIDE")
    return ([BeamPlan("AP", 0.0, static(), meterset=118, blocks=[block], bolus=True),
             BeamPlan("PA", 180.0, static(), meterset=121, compensators=[compensator()])],
            30, 2.0)


def basic_static_mlc() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    return ([BeamPlan(name, g, [ControlPoint(0.0, mlc=shape), ControlPoint(1.0)],
                      meterset=m, mlc=True)
             for name, g, m in (("LAT R", 270.0, 131), ("LAT L", 90.0, 129))], 30, 2.0)


def arcs() -> tuple[list[BeamPlan], int, float]:
    return ([BeamPlan("ARC CW", 181.0, arc_points(181.0, 358.0, "CW", 358.0),
                      beam_type="DYNAMIC", meterset=140),
             BeamPlan("ARC CC", 179.0, arc_points(179.0, 358.0, "CC", 358.0),
                      beam_type="DYNAMIC", meterset=140)], 30, 2.0)


def mlc_fixed_arc() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    points = arc_points(220.0, 280.0, "CW", 280.0)
    points[0].mlc = shape
    return ([BeamPlan("ARC MLC", 220.0, points, beam_type="DYNAMIC", meterset=260, mlc=True)],
            30, 2.0)


def conformal_arc() -> tuple[list[BeamPlan], int, float]:
    points = arc_points(200.0, 320.0, "CW", 10.0,
                        mlc=lambda g: aperture(ellipsoid_outline(g)))
    return ([BeamPlan("CONF ARC", 200.0, points, beam_type="DYNAMIC", meterset=255,
                      mlc=True)], 30, 2.0)


def hard_wedge() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    return ([BeamPlan(name, g, [ControlPoint(0.0, mlc=shape, wedges={1: "IN"}),
                                ControlPoint(1.0)], meterset=m, mlc=True,
                      wedges=[wedge(1, "STANDARD", "W45", 45, orientation, tray=574)])
             for name, g, orientation, m in (("ANT W45", 0.0, 90.0, 182),
                                             ("LAT W45", 90.0, 180.0, 176))], 30, 2.0)


def virtual_wedge() -> tuple[list[BeamPlan], int, float]:
    shape = aperture(circle(TARGET_MM))
    return ([BeamPlan(name, g, [ControlPoint(0.0, mlc=shape, wedges={1: "IN"}),
                                ControlPoint(1.0)], meterset=m, mlc=True,
                      wedges=[wedge(1, "DYNAMIC", "EDW30OUT", 30, 0.0)])
             for name, g, m in (("LAT R EDW", 270.0, 152), ("LAT L EDW", 90.0, 150))], 30, 2.0)


def motorized_wedge() -> tuple[list[BeamPlan], int, float]:
    """Wedged for a third of the meterset (tan 30° / tan 60°), then open;
    the wedge moves out while the beam is off (equal weights at CP 1 and 2)."""
    shape = aperture(circle(TARGET_MM))
    wedged = round(math.tan(math.radians(30)) / math.tan(math.radians(60)), 4)
    points = [ControlPoint(0.0, mlc=shape, wedges={1: "IN"}),
              ControlPoint(wedged, wedges={1: "IN"}),
              ControlPoint(wedged, wedges={1: "OUT"}),
              ControlPoint(1.0, wedges={1: "OUT"})]
    return ([BeamPlan(name, g, points, meterset=m, mlc=True, dose_rate=400,
                      wedges=[wedge(1, "MOTORIZED", "MW60", 60, 0.0, effective=30)])
             for name, g, m in (("LAT R MW", 270.0, 160), ("LAT L MW", 90.0, 158))], 30, 2.0)


def static_electron() -> tuple[list[BeamPlan], int, float]:
    cutout = aperture_block("RTC-A10-CUTOUT", 950, "CERROBEND", 15, 35, "ABSENT", "PATIENT_SIDE")
    return ([BeamPlan("E AP 9MeV", 0.0, static(), radiation="ELECTRON", energy=9.0,
                      dose_rate=400, meterset=212, jaws=([-100.0, 100.0], [-100.0, 100.0]),
                      jaw_types=("X", "Y"), blocks=[cutout], applicator=electron_applicator(),
                      bolus=True, iso=(0.0, -BODY_B, 0.0))], 10, 2.0)


def step_and_shoot() -> tuple[list[BeamPlan], int, float]:
    """Three segments per field, each a control point pair (2n control
    points): the leaves move between CP 2k+1 and 2k+2, where the weight stays."""
    beams = []
    for name, g, m in (("IMRT 0", 0.0, 96), ("IMRT 120", 120.0, 101), ("IMRT 240", 240.0, 99)):
        points, weight = [], 0.0
        for radius, share in ((TARGET_MM, 0.5), (25.0, 0.3), (15.0, 0.2)):
            shape = aperture(circle(radius))
            points.append(ControlPoint(round(weight, 6), mlc=shape))
            weight += share
            points.append(ControlPoint(round(weight, 6), mlc=shape))
        beams.append(BeamPlan(name, g, points, meterset=m, mlc=True))
    return beams, 30, 2.0


def sliding_window() -> tuple[list[BeamPlan], int, float]:
    """Both banks sweep left to right while the beam is on; the gap between
    them modulates the fluence."""
    beams = []
    steps = 10
    widths = [circle(TARGET_MM)((lo + hi) / 2)
              for lo, hi in pairwise(MLC_BOUNDARIES)]
    for name, g, m in (("SW 0", 0.0, 310), ("SW 120", 120.0, 322), ("SW 240", 240.0, 318)):
        points = []
        for k in range(steps + 1):
            t = k / steps
            a, b = [], []
            for w in widths:
                if w <= 0.5:
                    a.append(PARKED)
                    b.append(PARKED)
                    continue
                left = -w - 5 + (2 * w + 10) * t
                a.append(round(left, 1))
                b.append(round(left + 5 + 10 * math.sin(math.pi * t), 1))
            points.append(ControlPoint(round(t, 6), mlc=a + b))
        beams.append(BeamPlan(name, g, points, beam_type="DYNAMIC", meterset=m, mlc=True,
                              jaws=([-55.0, 55.0], [-45.0, 45.0])))
    return beams, 30, 2.0


def vmat() -> tuple[list[BeamPlan], int, float]:
    """Two arcs, control points every 4 degrees; the leaves open and close
    around the target's outline, and the dose rate (meterset per degree) is
    modulated, as an optimiser makes it."""
    def leaves(gantry: float) -> list[float]:
        outline = ellipsoid_outline(gantry)
        phase = math.radians(gantry)

        def half_width(y: float) -> float:
            return outline(y) * (0.55 + 0.45 * (0.5 + 0.5 * math.sin(3 * phase + y / 9)))
        return [round(v, 1) for v in aperture(half_width)]

    def rate(gantry: float) -> float:
        return 1.0 + 0.6 * math.sin(2 * math.radians(gantry))

    return ([BeamPlan(name, start, arc_points(start, 356.0, direction, 4.0, leaves, rate),
                      beam_type="DYNAMIC", meterset=m, mlc=True, fluence=("NON_STANDARD", "FFF"),
                      dose_rate=1400, jaws=([-45.0, 45.0], [-40.0, 40.0]))
             for name, start, direction, m in (("VMAT CW", 182.0, "CW", 274),
                                                ("VMAT CC", 178.0, "CC", 281))], 30, 2.0)


def cone_static() -> tuple[list[BeamPlan], int, float]:
    return ([BeamPlan(name, g, static(), meterset=m, couch=couch, applicator=cone(20),
                      jaws=([-25.0, 25.0], [-25.0, 25.0]), jaw_types=("X", "Y"))
             for name, g, couch, m in (("CONE 0", 0.0, 0.0, 610), ("CONE 45", 45.0, 30.0, 605),
                                       ("CONE 315", 315.0, 330.0, 607))], 1, 18.0)


def cone_arcs() -> tuple[list[BeamPlan], int, float]:
    return ([BeamPlan(name, start, arc_points(start, 120.0, direction, 120.0),
                      beam_type="DYNAMIC", meterset=m, couch=couch, applicator=cone(20),
                      jaws=([-25.0, 25.0], [-25.0, 25.0]), jaw_types=("X", "Y"))
             for name, start, direction, couch, m in (
                 ("CONE ARC 1", 200.0, "CW", 0.0, 620), ("CONE ARC 2", 30.0, "CW", 30.0, 612),
                 ("CONE ARC 3", 330.0, "CC", 330.0, 615))], 1, 18.0)


BUILD = {
    "basic-static": basic_static, "basic-static-mlc": basic_static_mlc, "arc": arcs,
    "mlc-fixed-aperture-arc": mlc_fixed_arc, "mlc-variable-aperture-arc": conformal_arc,
    "hard-wedge": hard_wedge, "virtual-wedge": virtual_wedge,
    "motorized-wedge": motorized_wedge, "static-electron": static_electron,
    "step-and-shoot": step_and_shoot, "sliding-window": sliding_window, "vmat": vmat,
    "photon-applicator": cone_static, "photon-applicator-arc": cone_arcs,
}

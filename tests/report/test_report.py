"""The conformance-statement-style report, rendered from a real run folder,
checked against the association log, opened in a real headless Chromium, and
redacted."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import artifacts_dir, chromium_page, require, require_program
from pdftext import body, pdf_pages, pdf_text, squeezed
from rtconform.actors.recorder import read_associations
from rtconform.dicom.uids import IMPLEMENTATION_VERSION_NAME
from rtconform.phantom.patient import PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME
from rtconform.report.model import build
from rtconform.report.render import render
from rtconform.run.runner import run

# one worker runs this module: its module fixture (a run) is made once
pytestmark = pytest.mark.xdist_group("report")

PHI = (PATIENT_ID, PATIENT_BIRTH_DATE, *PATIENT_NAME.split("^"))
SECTIONS = ("overview", "networking", "media", "charsets", "security", "annex", "results",
            "pictures")
A4 = (595, 842)  # PDF points, rounded


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    code, results = run(None, out, tags="ro2 or ro5 or ro10")
    assert code == 0 and results
    return out


def test_every_section_and_values_from_the_log(run_dir):
    written = render(run_dir)
    html = written["html"].read_text()
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    report = json.loads(written["json"].read_text())
    # expected figures from an independent record: the SUT's own side of the
    # same associations (the embedded reference actors log theirs apart)
    own = [r for r in read_associations(run_dir / "sut-associations.jsonl") if r.peer]
    assert report["networking"]["policies"]["associations"] == len(own) > 0
    assert {p["implementation_version_name"] for p in
            report["networking"]["policies"]["peers"]} == {IMPLEMENTATION_VERSION_NAME}
    stores = sum(1 for r in own for d in r.dimse if d["command"] == "C-STORE-RSP"
                 and d["status"] == "0x0000")
    assert sum(s["count"] for s in report["networking"]["statuses"]
               if s["command"] == "C-STORE-RSP" and s["status"] == "0x0000") == stores
    assert report["banner"]["failed"] == 0 and report["banner"]["passed"] > 0
    annex = {i["iod"]: i for i in report["annex"]}
    assert {"RT Structure Set", "RT Dose", "RT Plan"} <= set(annex)
    ss_attrs = {a["keyword"]: a["summary"] for a in annex["RT Structure Set"]["attributes"]}
    assert ss_attrs["ROIContourSequence.ContourSequence.ContourGeometricType"] == \
        '"CLOSED_PLANAR", "POINT"'
    dose_attrs = {a["keyword"]: a["summary"] for a in annex["RT Dose"]["attributes"]}
    assert dose_attrs["DoseUnits"] == '"GY"'
    modules = {m["module"]: m["status"] for m in annex["RT Structure Set"]["modules"]}
    assert modules["ROI Contour"] == "present"
    assert report["character_sets"] == [{"value": "ISO_IR 100",
                                         "objects": report["received_objects"]}]
    assert not report["security"]["tls"]
    md = written["md"].read_text()
    assert "## 3 Networking" in md and "![DVH](report_files/" in md


def test_move_sub_associations_stand_under_their_c_move(run_dir):
    """The associations a SUT opens to send what a C-MOVE asked for are
    summarised under that C-MOVE (offered, accepted, sent), their contexts in
    an annex, not mixed into the SUT's own activities (or its rejections)."""
    records = read_associations(run_dir / "associations.jsonl")
    moves = [(r, rq) for r in records for rq, _ in r.moves()]
    assert moves, "the run has no C-MOVE: the test would prove nothing"
    destinations = {rq["move_destination"] for _, rq in moves}
    sent_back = [r for r in records if r.direction == "inbound" and r.called_ae in destinations
                 and r.stores_received()]
    assert sent_back
    report = build(run_dir)[0]
    net = report["networking"]
    (operation,) = net["move_operations"]
    assert operation["operation"].endswith(f"C-MOVE to {sent_back[0].called_ae}")
    assert operation["associations"] == len(sent_back)
    assert operation["instances"] == sum(len(r.stores_received()) for r in sent_back)
    assert "RT Dose Storage" in operation["accepted"]
    assert f"offered {operation['offered']} storage class" in operation["summary"]
    # the sub-associations' contexts are in the annex, not in the SUT's own rows
    assert any("C-MOVE to" in w for row in net["move_contexts"] for w in row["where"])
    assert not any("C-MOVE to" in w for row in net["contexts"] for w in row["where"])
    assert not [row for row in net["contexts"] if row["outcome"] == "declined by the harness"]
    html = render(run_dir, ("html",))["html"].read_text()
    assert operation["summary"].replace("'", "&#39;") in html and 'id="annex-move"' in html


def test_observed_roles_are_the_exchanged_ones(run_dir):
    """A role counts as observed only where a DIMSE request of its SOP class
    went over the wire; an accepted context never used is 'negotiated, not
    used' (a C-GET role selection of RT Ion Plan is not an RT Ion Plan SCU)."""
    records = [r for r in read_associations(run_dir / "associations.jsonl") if r.peer]
    sent = {(d["sop_class"], "SCU" if d["direction"] == "received" else "SCP")
            for r in records for d in r.dimse if d["command"].endswith("-RQ")}
    net = build(run_dir)[0]["networking"]
    observed = {(s["abstract_syntax"], role) for s in net["services"]
                for role in ("SCU", "SCP") if s[role.lower()]}
    assert observed == {key for key in sent if key[0]}
    unused = {(n["abstract_syntax"], n["role"]) for n in net["negotiated_not_used"]}
    assert unused and not unused & observed
    ion_plan = "1.2.840.10008.5.1.4.1.1.481.8"
    assert (ion_plan, "SCU") in unused  # the harness's C-GET offers it; nothing sent it
    assert ion_plan not in {s["abstract_syntax"] for s in net["services"]}


def test_report_opens_in_chromium_with_its_pictures(run_dir):
    html = render(run_dir, ("html",))["html"]
    errors = []
    with chromium_page(viewport={"width": 1200, "height": 900}) as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri())
        images = page.evaluate("Array.from(document.images).map(i => i.complete && "
                               "i.naturalWidth)")
        headings = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => "
                                 "h.textContent)")
        section_23 = page.evaluate(
            "(() => { const h = Array.from(document.querySelectorAll('h3'));"
            " const a = h.find(x => x.textContent.startsWith('3.1'));"
            " const b = h.find(x => x.textContent.startsWith('3.2'));"
            " return b.getBoundingClientRect().top - a.getBoundingClientRect().top; })()")
        matrix = page.evaluate("document.querySelectorAll('#matrix tr').length")
        shots = artifacts_dir("report")  # kept for a reviewer of the CI run
        page.screenshot(path=str(shots / "report-top.png"))
        page.screenshot(path=str(shots / "report-full.png"), full_page=True)
        page.locator("#pictures").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "report-pictures.png"))
    assert errors == []
    # the executive summary: a header row and RO-2, RO-5, RO-10 in numeric order
    assert matrix == 4
    # one row per SOP class, not per transfer syntax: section 3.1 stays readable
    assert 0 < section_23 < 4000, section_23
    assert len(images) >= 2 and all(w and w > 100 for w in images), images  # planes + DVH
    assert headings[:7] == ["1 IHE-RO TRO test results", "2 Overview", "3 Networking",
                            "4 Media interchange", "5 Support of character sets", "6 Security",
                            "7 Pictures"]
    for shot in ("report-top.png", "report-full.png", "report-pictures.png"):
        assert (shots / shot).stat().st_size > 10_000, shot


def test_redacted_outputs_hold_no_phi(run_dir):
    plain = render(run_dir, ("json",))["json"].read_text()
    assert PATIENT_ID in plain  # the unredacted report does show it: the test can fail
    written = render(run_dir, redact=True)
    outputs = [*written.values(), *(run_dir / "report_files").glob("*.png")]
    for path in outputs:
        data = path.read_bytes()
        for secret in PHI:
            assert secret.encode() not in data, (path.name, secret)
    assert "[REDACTED]" in written["html"].read_text()


def test_observed_statement(run_dir):
    proc = subprocess.run([sys.executable, "-m", "rtconform", "report", "--statement",
                           str(run_dir)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    statement = yaml.safe_load((run_dir / "observed-statement.yaml").read_text())
    (ae,) = statement["application_entities"]
    classes = {c["uid"]: c for c in ae["sop_classes"]}
    assert "SCP" in classes["1.2.840.10008.5.1.4.1.1.481.3"]["roles"]  # SUT Archive stored SS
    assert "SCU" in classes["1.2.840.10008.5.1.4.1.1.481.2"]["roles"]  # SUT planner sent dose
    assert "1.2.840.10008.1.2.1" in classes["1.2.840.10008.5.1.4.1.1.481.2"]["transfer_syntaxes"]


def test_report_of_a_non_run_folder_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rtconform", "report", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not a run folder" in proc.stderr


def test_dvh_statistics_agree_with_an_independent_computation(sample_dir):
    """The phantom's targets are spheres (GTV 15, CTV 22, PTV 30 mm) in a dose
    given by a formula: D95, Dmean and Dmax of the report's DVH (5 mm dose
    voxels inside the contours) against the formula sampled at 200,000
    random points of each sphere."""
    import math

    import numpy as np
    import pydicom

    from rtconform.phantom import design as sample
    from rtconform.report.dvh import dvh_voxels, voxel_statistics

    def dose(x, y, z):
        total = 0.0
        for gantry in sample.GANTRY_ANGLES:
            theta = math.radians(gantry)
            dx, dy = -math.sin(theta), math.cos(theta)

            def edge(t):
                return 1 / (1 + np.exp((np.abs(t) - sample.JAW_MM) / 3.0))

            total = total + sample.PRESCRIPTION_GY / len(sample.GANTRY_ANGLES) * edge(
                x * dy - y * dx) * edge(z) * np.exp(-0.005 * (x * dx + y * dy))
        return total

    ss = pydicom.dcmread(sample_dir / "RS_structure_set.dcm")
    rd = pydicom.dcmread(sample_dir / "RD_plan.dcm")
    stats = {r["structure"]: r for r in voxel_statistics(dvh_voxels(ss, rd), 60.0)}
    rng = np.random.default_rng(7)
    for name, radius in sample.TARGETS:
        points = rng.uniform(-radius, radius, (400_000, 3))
        points = points[(points ** 2).sum(axis=1) <= radius ** 2]
        truth = dose(points[:, 0], points[:, 1], points[:, 2])
        row = stats[name]
        assert abs(row["dmean_gy"] - truth.mean()) < 0.005 * truth.mean(), (name, row)
        assert abs(row["d95_gy"] - np.percentile(truth, 5)) < 0.01 * truth.mean(), (name, row)
        assert abs(row["dmax_gy"] - truth.max()) < 0.005 * truth.mean(), (name, row)


def test_the_report_shows_dvh_statistics_against_the_prescription(run_dir):
    written = render(run_dir, ("md", "html"))
    md = written["md"].read_text()
    assert "| Structure | D95 (Gy) | Dmean (Gy) | Dmax (Gy) | V(prescription) (%) |" in md
    assert "DVH statistics (prescription 60.0 Gy)" in written["html"].read_text()
    gtv = next(line for line in md.splitlines() if line.startswith("| GTV |"))
    assert float(gtv.split("|")[3]) > 55  # Dmean of the GTV: the prescription


def _keep_pages(pdf: Path, pages: dict[str, int]) -> None:
    """PNGs of chosen pages for a reviewer of the CI run."""
    pdftoppm = require_program("pdftoppm", "poppler-utils")
    shots = artifacts_dir("report")
    for name, page in pages.items():
        subprocess.run([pdftoppm, "-r", "70", "-png", "-singlefile", "-f", str(page), "-l",
                        str(page), str(pdf), str(shots / f"pdf-{name}")], check=True,
                       timeout=60)
        assert (shots / f"pdf-{name}.png").stat().st_size > 10_000, name


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory) -> Path:
    """A run with failures: an Archive that loses Patient Birth Date."""
    out = tmp_path_factory.mktemp("failed") / "run"
    sut = out.parent / "sut.yaml"
    sut.write_text("name: Archive dropping Patient Birth Date\nactors: [Archive]\n"
                   "embedded: {archive_drops: PatientBirthDate}\n")
    code, results = run(sut, out, tags="(ro2 or ro7) and not conformance")
    assert code == 1 and any(r.status == "failed" for r in results)
    return out


def test_the_pdf_of_a_failed_run_shows_every_failure_in_full(failed_run):
    """Printed, every failure keeps its evidence (expected and observed, as
    the harness wrote it) and its rule ids; the header says when, with which
    tool and engines, profile, stimulus and AE titles; A4, pages numbered."""
    require(shutil.which("chromium") is not None, "chromium not installed")
    import pypdf

    pdf = render(failed_run, ("pdf", "json"), site="Test site", operator="A. Tester")["pdf"]
    report = json.loads((failed_run / "report.json").read_text())
    failures = [s for s in report["results"] if s["status"] == "failed"]
    assert failures
    pages = pdf_pages(pdf)
    text = squeezed(body(pages))
    for failure in failures:
        assert squeezed(failure["message"]) in text, failure["name"]
        for rule in failure["rule_ids"]:
            assert rule in text
    header = pages[0]
    summary = json.loads((failed_run / "summary.json").read_text())["run"]
    assert summary["started"][:10] in header and "Test site" in header and "A. Tester" in header
    assert f"rtconform {summary['rtconform']}" in header and "brto" in header
    assert summary["stimulus"] in header and "RTCONFORM" in header and "HARNESS" in header
    for engine in summary["engines"]:
        assert engine["name"] in header and engine["version"] in header
    reader = pypdf.PdfReader(str(pdf))
    assert tuple(round(float(v)) for v in reader.pages[0].mediabox[2:]) == A4
    for n, page in enumerate(pages, 1):
        assert f"page {n} of {len(pages)}" in page and summary["started"][:10] in page
    # the contents give each section's page, and the section is on that page
    contents = re.findall(r"^\s*(\d [A-Z].*?|Annex [AB].*?)\s{2,}(\d+)$",
                          pdf_text(pdf, 1, layout=True), re.M)
    assert len(contents) >= 8, contents
    for title, page in contents:
        assert title.split(":")[0] in pages[int(page) - 1], (title, page)
    # no heading is the last line of a page
    headings = {"1 IHE-RO TRO test results", "2 Overview", "3 Networking", "7 Pictures",
                "Failures and their evidence", "Annex A: IOD contents"}
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        page_body = [line for line in lines if not line.startswith(("page ", "rtconform "))]
        assert page_body and page_body[-1] not in headings, page_body[-3:]
    failure_page = next(n for n, page in enumerate(pages, 1)
                        if "Failures and their evidence" in page)
    pictures_page = next(n for n, page in enumerate(pages, 1) if "axial z =" in page)
    _keep_pages(pdf, {"page1": 1, "failure": failure_page, "pictures": pictures_page})
    letter = render(failed_run, ("pdf",), paper="letter")["pdf"]
    assert tuple(round(float(v)) for v in pypdf.PdfReader(str(letter)).pages[0].mediabox[2:]) \
        == (612, 792)


def test_picture_colours(sample_dir):
    """Each structure keeps its ROI Display Color in the planes and the DVH;
    no isodose line takes a colour near any structure's (CIE76 ΔE ≥ 25), and
    the isodose colours are really drawn."""
    import matplotlib.image
    import numpy as np
    import pydicom

    from rtconform.report.dvh import dvh_png
    from rtconform.report.pictures import colour_distance, plane_pictures

    ss = pydicom.dcmread(sample_dir / "RS_structure_set.dcm")
    dose = pydicom.dcmread(sample_dir / "RD_plan.dcm")
    images = [pydicom.dcmread(p) for p in sorted(sample_dir.glob("CT*.dcm"))]
    display = {str(r.ROIName): tuple(int(v) / 255 for v in c.ROIDisplayColor)
               for r, c in zip(ss.StructureSetROISequence, ss.ROIContourSequence, strict=True)}
    pictures = plane_pictures(images, ss, dose, "phantom", prescription=60.0)
    assert len(pictures) >= 1 and "axial z =" in pictures[0].caption
    _, dvh_colours = dvh_png(ss, dose, "phantom", prescription=60.0)
    for picture in pictures:
        assert picture.roi_colours and picture.isodose_colours
        for name, colour in picture.roi_colours.items():
            assert colour == display[name], name
        for level, colour in picture.isodose_colours.items():
            nearest = min(colour_distance(colour, c) for c in display.values())
            assert nearest >= 25, (level, colour, nearest)
        pixels = matplotlib.image.imread(io.BytesIO(picture.png))[..., :3]
        for level, colour in picture.isodose_colours.items():
            close = np.abs(pixels - np.array(colour)).max(axis=-1) < 0.02
            assert close.sum() > 20, level  # the line is on the picture
    for name, colour in dvh_colours.items():
        assert colour == display[name], name


def test_isodose_palette_avoids_any_roi_colours():
    """Whatever colours the structures take, the isodose lines keep away."""
    import itertools

    from rtconform.report.pictures import colour_distance, isodose_palette

    rois = [tuple(v / 255 for v in c) for c in itertools.product((0, 128, 255), repeat=3)
            if len(set(c)) > 1][:14]
    palette = isodose_palette(rois)
    assert len(set(palette)) == 4
    assert min(colour_distance(p, r) for p in palette for r in rois) >= 20


def test_report_paper_and_header_fields_on_the_command_line(run_dir):
    require(shutil.which("chromium") is not None, "chromium not installed")
    proc = subprocess.run([sys.executable, "-m", "rtconform", "report", str(run_dir), "--format",
                           "pdf", "--paper", "letter", "--site", "Clinic A", "--operator",
                           "J. Smith"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    first = pdf_text(run_dir / "report.pdf", 1)
    assert "Clinic A" in first and "J. Smith" in first
    proc = subprocess.run([sys.executable, "-m", "rtconform", "report", str(run_dir), "--paper",
                           "a5"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "a5" in proc.stderr

"""The conformance-statement-style report, rendered from a real run folder,
checked against the association log, opened in a real headless Chromium, and
redacted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import artifacts_dir, require, require_module
from rtconform.actors.recorder import read_associations
from rtconform.dicom.sample import (
    IMPLEMENTATION_VERSION_NAME,
    PATIENT_BIRTH_DATE,
    PATIENT_ID,
    PATIENT_NAME,
)
from rtconform.report.model import build
from rtconform.report.render import render
from rtconform.run.runner import run

# one worker runs this module: its module fixture (a run) is made once
pytestmark = pytest.mark.xdist_group("report")

PHI = (PATIENT_ID, PATIENT_BIRTH_DATE, *PATIENT_NAME.split("^"))
SECTIONS = ("overview", "networking", "media", "charsets", "security", "annex", "results",
            "pictures")


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
    assert "## 2 Networking" in md and "![DVH](report_files/" in md


def test_move_sub_associations_stand_under_their_c_move(run_dir):
    """The associations a SUT opens to send what a C-MOVE asked for are shown
    under that C-MOVE, not as an activity (or rejections) of their own."""
    records = read_associations(run_dir / "associations.jsonl")
    moves = [(r, rq) for r in records for rq, _ in r.moves()]
    assert moves, "the run has no C-MOVE: the test would prove nothing"
    destinations = {rq["move_destination"] for _, rq in moves}
    sent_back = [r for r in records if r.direction == "inbound" and r.called_ae in destinations
                 and r.stores_received()]
    assert sent_back
    report = build(run_dir)[0]
    activities = {a["activity"]: a for a in report["networking"]["activities"]}
    (mover,) = [a for name, a in activities.items() if "C-MOVE" in name]
    (group,) = mover["sub_operations"]
    assert group["operation"].startswith("Sub-associations the SUT opened for C-MOVE to ")
    assert group["associations"] == len(sent_back)
    assert {c["abstract_syntax"] for c in group["contexts"]} >= {"RT Dose Storage"}
    assert not [name for name in activities if name.endswith("(SUT requests: C-STORE)")
                and name.startswith(sent_back[0].actor)]
    html = render(run_dir, ("html",))["html"].read_text()
    assert "↳ Sub-associations the SUT opened for C-MOVE to " in html


def test_report_opens_in_chromium_with_its_pictures(run_dir):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(chromium).is_file(), "chromium not installed (apt-get install chromium)")
    playwright = require_module("playwright.sync_api", "playwright")
    html = render(run_dir, ("html",))["html"]
    errors = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri())
        images = page.evaluate("Array.from(document.images).map(i => i.complete && "
                               "i.naturalWidth)")
        headings = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => "
                                 "h.textContent)")
        section_23 = page.evaluate(
            "(() => { const h = Array.from(document.querySelectorAll('h3'));"
            " const a = h.find(x => x.textContent.startsWith('2.3'));"
            " const b = h.find(x => x.textContent.startsWith('2.4'));"
            " return b.getBoundingClientRect().top - a.getBoundingClientRect().top; })()")
        matrix = page.evaluate("document.querySelectorAll('#matrix tr').length")
        shots = artifacts_dir("report")  # kept for a reviewer of the CI run
        page.screenshot(path=str(shots / "report-top.png"))
        page.screenshot(path=str(shots / "report-full.png"), full_page=True)
        page.locator("#pictures").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "report-pictures.png"))
        browser.close()
    assert errors == []
    # the executive summary: a header row and RO-2, RO-5, RO-10 in numeric order
    assert matrix == 4
    # one row per SOP class, not per transfer syntax: section 2.3 stays readable
    assert 0 < section_23 < 4000, section_23
    assert len(images) >= 4 and all(w and w > 100 for w in images), images  # slices + DVH
    assert headings[:6] == ["1 Overview", "2 Networking", "3 Media interchange",
                            "4 Support of character sets", "5 Security", "6 Annex: IOD contents"]
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

    from rtconform.dicom import sample
    from rtconform.report.pictures import dvh_voxels, voxel_statistics

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


def test_a_pdf_for_reviewers(run_dir):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(chromium).is_file(), "chromium not installed (apt-get install chromium)")
    pdf = render(run_dir, ("pdf",))["pdf"]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") > 3

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

from helpers import require, require_module
from rtconform.actors.recorder import read_associations
from rtconform.dicom.sample import (
    IMPLEMENTATION_VERSION_NAME,
    PATIENT_BIRTH_DATE,
    PATIENT_ID,
    PATIENT_NAME,
)
from rtconform.report.render import render
from rtconform.run.runner import run

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
        page.screenshot(path=str(run_dir / "screenshot.png"))
        page.locator("#pictures").scroll_into_view_if_needed()
        page.screenshot(path=str(run_dir / "screenshot-pictures.png"))
        browser.close()
    assert errors == []
    # the executive summary: a header row and RO-2, RO-5, RO-10 in numeric order
    assert matrix == 4
    # one row per SOP class, not per transfer syntax: section 2.3 stays readable
    assert 0 < section_23 < 4000, section_23
    assert len(images) >= 4 and all(w and w > 100 for w in images), images  # slices + DVH
    assert headings[:6] == ["1 Overview", "2 Networking", "3 Media interchange",
                            "4 Support of character sets", "5 Security", "6 Annex: IOD contents"]
    assert (run_dir / "screenshot.png").stat().st_size > 10_000


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

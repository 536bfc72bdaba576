"""Values from DICOM objects and SUT files are data in every output, never
markup: a PatientName `<script>`, a Manufacturer `<iframe>`, an ROI name
with Markdown link syntax and table pipes, a SUT name with an `onerror`
image reach report.html, report.md, report.json, junit.xml, cucumber.json
and the statement comparison escaped, and Chromium fires no dialog."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pydicom
import pytest

from helpers import ROOT, chromium_page
from rtconform.cli import main
from rtconform.phantom.faults import write_sample

# one worker runs this module: its module fixture (a run) is made once
pytestmark = pytest.mark.xdist_group("injection")

NAME = "<script>alert(1)</script>"
MAKER = "<iframe src=javascript:alert(2)>"
ROI = "[x](javascript:alert(3)) | <b>bold</b>"
SUT = "<img src=x onerror=alert(4)>"
LINK = re.compile(r"(?<!\\)\]\(javascript:")
RAW = ("<script>", "<iframe", "<img src=x", "<b>bold")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("inject")
    export = tmp / "export"
    write_sample(export)
    for path in export.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.PatientName = NAME
        ds.Manufacturer = MAKER
        if ds.Modality == "RTSTRUCT":
            ds.StructureSetROISequence[0].ROIName = ROI
        ds.save_as(path)
    sut = tmp / "sut.yaml"
    sut.write_text(f"name: '{SUT}'\nactors: [Contourer]\nexport_dir: {export}\n")
    main(["run", "--sut", str(sut), "--tags", "ro2", "--out", str(tmp / "run")])
    return tmp / "run"


def test_no_output_carries_raw_markup(run_dir):
    outputs = {p.name: p.read_text(encoding="utf-8") for p in (
        run_dir / "report.html", run_dir / "report.md", run_dir / "report.json",
        run_dir / "junit.xml", run_dir / "cucumber.json")}
    # the values are there (the test can fail) …
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outputs["report.html"]
    assert "&lt;img src=x onerror=alert(4)&gt;" in outputs["report.md"]
    assert NAME in json.loads(outputs["report.json"])["annex"].__repr__() or \
        SUT in outputs["report.json"]
    # … but never as markup
    for name in ("report.html", "report.md"):
        for raw in RAW:
            assert raw not in outputs[name], (name, raw)
    assert not LINK.search(outputs["report.md"])  # no Markdown link from data
    for line in outputs["report.md"].splitlines():  # and no extra table column
        if "bold" in line and line.startswith("|"):
            assert "\\|" in line


def test_chromium_fires_no_dialog(run_dir):
    dialogs = []
    with chromium_page() as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto((run_dir / "report.html").as_uri())
        page.wait_for_timeout(500)
        frames = page.evaluate("document.querySelectorAll('iframe, script[src], img[src=x]')"
                               ".length")
    assert dialogs == [] and frames == 0


def test_statement_comparison_escapes(tmp_path, capsys):
    root = ROOT / "conformance"
    text = (root / "rtconform-reference.yaml").read_text()
    evil = tmp_path / "evil.yaml"
    evil.write_text(text.replace("name: rtconform reference actors",
                                 f"name: '{SUT} | [y](javascript:alert(5))'", 1))
    assert SUT in evil.read_text()
    out = tmp_path / "cmp"
    main(["compare", str(root / "rtconform-reference.yaml"), str(evil), "--out", str(out)])
    md = (out / "compare.md").read_text()
    assert "<img src=x" not in md and not LINK.search(md)  # no Markdown link from data
    html = (out / "compare.html").read_text()
    assert "<img" not in html and "href=" not in html and "&lt;img src=x" in html


def test_escape_sequences_and_emoji_codes_are_shown_not_obeyed(tmp_path, sample_dir):
    """File names carrying an OSC title sequence and a clear-screen, `:x:` in
    a Patient Name and BEL in an ROI Name: the console shows them as text
    (`\\x1b`, `:x:`), never raw, and the JUnit file parses, the value escaped
    (issue 23 items 2 and 3)."""
    import subprocess
    import sys
    from xml.etree import ElementTree

    from helpers import require_program

    require_program("dciodvfy", "dicom3tools")  # quotes the ROI Name raw in its message
    folder = tmp_path / "export"
    folder.mkdir()
    ds = pydicom.dcmread(sample_dir / "RS_structure_set.dcm")
    ds.PatientName = "Smith^:x:"
    ds.StructureSetROISequence[0].ROIName = "PTV\x07"
    ds.save_as(folder / "RS_structure_set.dcm")
    shutil.copy(sample_dir / "CT_001.dcm", folder / "x\x1b]0;pwned\x07.dcm")
    (folder / "y\x1b[2J.dcm").write_bytes(b"not DICOM")
    junit = tmp_path / "validate.xml"
    proc = subprocess.run([sys.executable, "-m", "rtconform", "validate", str(folder),
                           "--engines", "tro,dciodvfy", "--junit", str(junit)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "\x1b" not in shown and "\x07" not in shown, repr(shown[-500:])
    assert "x\\x1b]0;pwned\\x07.dcm" in shown and "y\\x1b[2J.dcm" in shown
    assert "Smith^:x:" in shown and "\u274c" not in shown  # no emoji the file does not hold
    root = ElementTree.parse(junit).getroot()  # raises on a forbidden character
    text = ElementTree.tostring(root, encoding="unicode")
    assert "PTV\\x07" in text and "forbids" in text

"""Nothing lost: dcmtk storescu pushes an export tree (with its documents)
to `rtconform simulate archive`; reconcile finds every instance; with one
removed from the archive it names exactly that file. And validate --junit
gives a CI server one test case per file."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from peers import dcmtk_run, free_port, running
from rtconform.cli import main


def test_reconcile_after_a_real_push(tmp_path, sample_dir):
    tree = tmp_path / "Doe_John_MRN1"
    shutil.copytree(sample_dir, tree / "DICOM")
    (tree / "Documents").mkdir()
    (tree / "Documents" / "plan.pdf").write_bytes(b"%PDF-1.7\n")
    store, port = tmp_path / "store", free_port()
    with running([sys.executable, "-m", "rtconform", "simulate", "archive", "--store",
                  str(store), "--port", str(port)], port, tmp_path / "archive.log"):
        out = dcmtk_run("storescu", "-aec", "ARCHIVE", "+sd", "+r", "127.0.0.1", str(port),
                        str(tree / "DICOM"))
        assert out.returncode == 0, out.stderr
    report = tmp_path / "r.json"
    assert main(["reconcile", str(tree), str(store), "--json", str(report)]) == 0
    counts = json.loads(report.read_text())["counts"]
    assert counts == {"found": 64, "received": 64, "missing": 0, "differ": 0, "extra": 0}
    # the association log says the same
    assert main(["reconcile", str(tree), str(store / "associations.jsonl")]) == 0
    with sqlite3.connect(store / "index.sqlite") as db:
        db.execute("DELETE FROM instances WHERE sop_instance_uid = (SELECT sop_instance_uid "
                   "FROM instances WHERE modality = 'RTPLAN' LIMIT 1)")
    assert main(["reconcile", str(tree), str(store), "--json", str(report)]) == 1
    data = json.loads(report.read_text())
    assert data["counts"]["missing"] == 1
    (missing,) = data["findings"]
    assert missing["rule_id"] == "RECONCILE-MISSING" and Path(missing["file"]).name in (
        "RP_geometric.dcm", "RP_dosimetric.dcm")


def test_validate_writes_junit_for_a_ci_server(tmp_path):
    from rtconform.phantom.faults import write_sample

    write_sample(tmp_path / "p", "contour-off-plane")
    junit = tmp_path / "v.xml"
    proc = subprocess.run([sys.executable, "-m", "rtconform", "validate", str(tmp_path / "p"),
                           "--engines", "tro", "--junit", str(junit), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    cases = list(ElementTree.parse(junit).getroot().iter("testcase"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].get("name").endswith("RS_structure_set.dcm")
    assert "SS-CONTOUR-ON-PLANE" in failed[0].find("failure").get("message")

"""rtconform matrix: producer → Archive → consumer chains and their grid.

One cell that must fail and one that must work, through the embedded
reference Archive, with a real consumer (dicompyler-core, whose statement
declares it imports RT Dose in GY only: conformance/dicompyler-core.yaml):
the reference Dosimetric Planner's plan dose reaches it intact; the same
planner made to write Dose Units CGY breaks that declared import constraint,
which decides the cell even though dicompyler-core computes a DVH from it
(in the wrong unit). The full matrix of every driver is `.ci/run`'s step and
benchmarks/matrix_bench.py.
"""

from __future__ import annotations

import json

from helpers import ROOT, require


def _cell(grid: dict, producer: str, consumer: str) -> dict:
    (cell,) = [c for c in grid["cells"] if c["producer"] == producer
               and c["consumer"] == consumer]
    return cell


def test_a_cell_that_must_fail_and_one_that_must_work(tmp_path):
    from rtconform.matrix.run import MatrixOptions, run_matrix
    from rtconform.suts import drivers

    missing = drivers()["dicompyler-core"].missing()
    require(missing is None, str(missing))
    planner = tmp_path / "planner.yaml"  # the reference actors as Archive and planner only
    planner.write_text("name: reference planner\nactors: [Archive, Dosimetric Planner]\n"
                       "embedded: {}\n")
    faulty = tmp_path / "cgy-planner.yaml"
    faulty.write_text("name: reference planner writing Dose Units CGY\n"
                      "actors: [Dosimetric Planner]\nembedded: {fault: dose-units}\n")
    lossy = tmp_path / "lossy-archive.yaml"  # a reference Archive that loses an attribute
    lossy.write_text("name: an Archive dropping Series Description\nactors: [Archive]\n"
                     "embedded: {archive_drops: SeriesDescription}\n")
    model = run_matrix([planner, faulty, lossy, ROOT / "suts" / "dicompyler-core.yaml"],
                       MatrixOptions(out=tmp_path / "m", own=False, kinds=["plan-and-dose"]))
    grid = model["grids"]["RTDOSE"]
    assert grid["rows"] == ["planner", "cgy-planner"]
    assert grid["columns"] == ["dicompyler-core:Dose Displayer"]

    works = _cell(grid, "planner", "dicompyler-core")
    assert works["via"]["planner"]["verdict"] == "works", works
    (evidence,) = works["via"]["planner"]["evidence"]
    assert evidence.startswith("accepted (RO-1,RO-7,RO-9,RO-10): DVH PTV")

    fails = _cell(grid, "cgy-planner", "dicompyler-core")
    via = fails["via"]["planner"]
    assert fails["verdict"] == "fails"
    assert via["import_ids"] == ["DICOMPYLER-DOSE-UNITS-GY"]
    assert "DOSE-UNITS-TYPE" in via["rule_ids"]  # the dicom-rt profile says so too
    assert via["evidence"][0].startswith("accepted")  # not refused: the constraint decides
    assert any("DoseUnits has CGY; allowed GY" in e and "dvhcalc.py" in e
               for e in via["evidence"])
    # the plan the faulty planner wrote is not faulty: that grid's cell works
    assert _cell(model["grids"]["RTPLAN"], "cgy-planner", "dicompyler-core")["via"][
        "planner"]["verdict"] == "works"

    # through the Archive that drops an attribute, the same pair fails: values changed
    lost = works["via"]["lossy-archive"]
    assert works["verdict"] == "fails"
    assert lost["verdict"] == "fails" and lost["reasons"] == ["changed through the Archive"]
    assert any("SeriesDescription" in e and "changed through the Archive" in e
               for e in lost["evidence"])

    saved = json.loads((tmp_path / "m" / "matrix.json").read_text())
    assert saved["exit_code"] == 1 and saved["archives"] == ["planner", "lossy-archive"]
    page = (tmp_path / "m" / "matrix.html").read_text()
    assert "reference planner writing Dose Units CGY" in page and "DICOMPYLER-DOSE-UNITS-GY" \
        in page
    assert {p["slug"]: p["version"] for p in saved["participants"]}["dicompyler-core"] == "0.5.6"

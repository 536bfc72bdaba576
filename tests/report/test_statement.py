"""Conformance statements as data: schema, the Brainlab transcription,
compare, and verify against a run."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib import resources

import pytest
import yaml

from helpers import ROOT
from rtconform.phantom.faults import write_sample
from rtconform.statement.compare import compare
from rtconform.statement.model import StatementError, load_statement
from rtconform.statement.verify import verify

BRAINLAB = ROOT / "conformance" / "brainlab-rt-elements.yaml"
REFERENCE = ROOT / "conformance" / "rtconform-reference.yaml"
ORTHANC = ROOT / "conformance" / "orthanc.yaml"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
SS, PLAN, DOSE = ("1.2.840.10008.5.1.4.1.1.481.3", "1.2.840.10008.5.1.4.1.1.481.5",
                  "1.2.840.10008.5.1.4.1.1.481.2")


@pytest.mark.parametrize("path", [BRAINLAB, REFERENCE])
def test_schema_round_trip(path, tmp_path):
    data = load_statement(path)
    again = tmp_path / path.name
    again.write_text(yaml.safe_dump(data, sort_keys=False))
    assert load_statement(again) == data


def test_schema_in_the_package_is_the_published_one():
    packaged = resources.files("rtconform.statement").joinpath("schema.json").read_text()
    assert json.loads(packaged) == json.loads((ROOT / "conformance" / "schema.json").read_text())


def test_every_transcribed_row_names_its_source_table():
    data = load_statement(BRAINLAB)
    rows = [s for ae in data["application_entities"] for s in ae["sop_classes"]] + \
        [k for ae in data["application_entities"] for k in ae.get("query_keys", [])] + \
        [c for iod in data["iods"] for c in iod["constraints"]] + \
        [m for iod in data["iods"] for m in iod["modules"]] + data["character_sets"] + \
        [p for ae in data["application_entities"] for p in ae["presentation_contexts"]] + \
        data["module_tables"]
    assert rows and all("Table" in r["source"] for r in rows)
    tables = {m["source"] for m in data["module_tables"]}
    assert {f"Table 8-{n}" for n in range(4, 37)} == tables  # every module table
    per_application = {ae["source"] for ae in data["application_entities"]}
    assert per_application == {f"Table 4-{n}" for n in (9, 11, 13, 15, 16, 17, 19, 21)}
    assert "Section 7" in data["security"]["source"]


def test_broken_statement_gives_a_located_error(tmp_path):
    broken = tmp_path / "broken.yaml"
    text = REFERENCE.read_text().replace("roles: [SCP]", "roles: [SERVER]", 1)
    broken.write_text(text)
    with pytest.raises(StatementError) as exc:
        load_statement(broken)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "SERVER" in t)
    assert f"broken.yaml:{line}: application_entities[0].sop_classes[0].roles[0]" in str(exc.value)
    proc = subprocess.run([sys.executable, "-m", "rtconform", "statement", "check", str(broken)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "SERVER" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_brainlab_with_the_reference_actors():
    result = compare(load_statement(BRAINLAB), load_statement(REFERENCE))
    flows = {(f["sop_class"], f["direction"].startswith("Brainlab")): f for f in result["flows"]}
    # Brainlab exports RT objects in Implicit VR Little Endian only (Table 4-2 "IMPL");
    # the reference Archive accepts it: those flows work.
    for uid in (SS, PLAN, DOSE):
        assert flows[(uid, True)]["common_transfer_syntaxes"] == [IMPLICIT]
    # The reference producers send RT objects in Explicit VR Little Endian only, which
    # Brainlab's RT Import does not accept: blocked.
    assert {f["sop_class"] for f in result["blocking"]} == {SS, PLAN, DOSE}
    assert flows[("1.2.840.10008.5.1.4.1.1.2", False)]["common_transfer_syntaxes"] == [EXPLICIT]
    assert result["character_sets"]["common"] == ["ISO_IR 100"]
    assert result["exit_code"] == 1


def test_reference_exports_against_brainlab_imports():
    result = compare(load_statement(REFERENCE), load_statement(BRAINLAB))
    verdicts = {(c["iod"], c["attribute"]): c["verdict"] for c in result["import_constraints"]}
    assert verdicts[("RT Structure Set", "ROIContourSequence.ContourSequence.ContourGeometricType"
                     )] == "differs: POINT"
    assert verdicts[("RT Structure Set", "RTROIObservationsSequence.RTROIInterpretedType")] == \
        "differs: ISOCENTER, MARKER, ORGAN"
    assert verdicts[("RT Plan", "RTPlanGeometry")] == "satisfied"
    assert verdicts[("RT Dose", "DoseUnits")] == "satisfied"
    assert verdicts[("RT Dose", "DoseSummationType")] == "differs: BEAM"


BASE = {"BL-SS-GEOMETRIC-TYPE", "BL-SS-INTERPRETED-TYPE", "BL-DOSE-SUMMATION"}


@pytest.mark.parametrize("fault,extra", [
    (None, set()), ("contour-offset-vector", {"BL-SS-OFFSET-ZERO"}),
    ("contour-off-plane", {"BL-SS-CONTOUR-ON-PLANE"}), ("dose-units", {"BL-DOSE-UNITS"}),
    ("two-referenced-frames", {"BL-SS-FOR-ONE"}),
    ("contour-point-count", {"BL-SS-POINT-COUNT"})])
def test_files_against_brainlab_import(tmp_path, fault, extra):
    write_sample(tmp_path, fault, beam_doses=True)  # a planning system's export
    result = compare(load_statement(REFERENCE), load_statement(BRAINLAB), tmp_path)
    errors = {f["rule_id"] for f in result["file_findings"] if f["severity"] == "error"}
    assert errors == BASE | extra
    warnings = [f for f in result["file_findings"] if f["rule_id"] == "IMPORT-DISABLED"]
    assert len(warnings) == 5  # RT Dose import is disabled by default (Table 4-21 note 3)


def test_compare_cli_names_the_contour_geometric_type_constraint(tmp_path):
    write_sample(tmp_path / "p")
    proc = subprocess.run([sys.executable, "-m", "rtconform", "compare", str(REFERENCE),
                           str(BRAINLAB), "--files", str(tmp_path / "p"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "BL-SS-GEOMETRIC-TYPE" in proc.stdout and "Table 8-21" in proc.stdout
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"compare.json", "compare.md",
                                                              "compare.html"}


def test_compare_answers_in_its_first_line(tmp_path):
    """The integrator's question answered first; at most 60 lines; the noise
    (flows offered by one side only) counted, not listed (the appendix of the
    files lists them); real HTML tables; a blocking flow says that Implicit VR
    Little Endian is every implementation's default (PS3.5 10.1)."""
    proc = subprocess.run([sys.executable, "-m", "rtconform", "compare", str(BRAINLAB),
                           str(REFERENCE), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1 and len(lines) <= 60, len(lines)
    assert lines[0].startswith("Brainlab RT Elements ↔ rtconform reference actors: IHE-RO TRO "
                               "flows: ")
    assert "3 blocking" in lines[0] and "offered by one side only" in lines[0]
    assert "no sender" not in proc.stdout
    assert "Implicit VR Little Endian" in proc.stdout and "1.2.840.10008.1.2 " not in proc.stdout
    assert proc.stdout.count("PS3.5 10.1") == 3  # on each blocking flow
    html = (tmp_path / "out" / "compare.html").read_text()
    assert "<table>" in html and "<pre>" not in html and html.count("<tr") > 100
    result = json.loads((tmp_path / "out" / "compare.json").read_text())
    appendix = html.split("Appendix: offered by one side only", 1)[1]
    assert appendix.count("<tr class=\"dim\">") == len(result["one_sided"]) > 100


def _tro(result: dict) -> dict[tuple[str, str], dict]:
    return {(t["transaction"], t["direction"]): t for t in result["transactions"]}


def test_will_brainlab_work_with_orthanc():
    """Per IHE-RO TRO transaction and direction, with the deciding rows:
    Brainlab stores its RT objects in Orthanc in Implicit VR Little Endian,
    retrieves them by C-GET (role selection), queries with the keys of its
    Table 4-7 (some Orthanc does not state it matches); Orthanc plays no
    producer, Brainlab no Archive."""
    result = compare(load_statement(BRAINLAB), load_statement(ORTHANC))
    assert result["verdict"].startswith("Brainlab RT Elements ↔ Orthanc: IHE-RO TRO flows: 11 "
                                        "work, 0 blocked, 11 not claimed")
    flows = _tro(result)
    assert len(flows) == 22  # RO-1 … RO-11, both directions
    store = flows[("RO-2", "Brainlab RT Elements as Contourer → Orthanc as Archive")]
    assert store["verdict"] == "works"
    assert any(r["kind"] == "transfer syntax" and "Implicit VR Little Endian" in r["text"]
               for r in store["rows"])
    assert flows[("RO-2", "Orthanc as Contourer → Brainlab RT Elements as Archive")][
        "verdict"] == "not claimed"
    dose = flows[("RO-10", "Orthanc as Archive → Brainlab RT Elements as Dose Displayer")]
    kinds = {r["kind"]: r for r in dose["rows"]}
    assert dose["verdict"] == "works"
    assert kinds["C-GET role selection"]["verdict"] == "ok"
    assert "C-MOVE destination" not in kinds  # Brainlab retrieves by C-GET only …
    moves = [r for r in dose["rows"] if r["kind"] == "C-MOVE"]
    assert moves and all(r["verdict"] == "not used" and "DicomModalities" in r["text"]
                         for r in moves)  # … and what C-MOVE would take is said
    keys = {r["text"].split(" (")[0]: r for r in dose["rows"] if r["kind"] == "C-FIND keys"}
    assert keys["PATIENT PatientID"]["verdict"] == "ok"
    assert keys["PATIENT PatientName"]["verdict"] == "condition"
    assert keys["STUDY StudyInstanceUID"]["source"] == "Table 4-7"
    assert any(r["kind"] == "import constraint" and "DoseSummationType" in r["text"]
               for r in dose["rows"])
    assert any(r["kind"] == "character sets" and "ISO_IR 100" in r["text"] for r in dose["rows"])
    assert result["exit_code"] == 0


def test_what_blocks_a_tro_flow_is_named():
    """A C-GET SCP that refuses role selection blocks the retrieves by C-GET;
    a receiver that retrieves by C-MOVE needs its AE configured in the
    Archive; an Archive without Implicit VR Little Endian blocks with the
    PS3.5 note."""
    orthanc = load_statement(ORTHANC)
    brainlab = load_statement(BRAINLAB)
    refusing = copy.deepcopy(orthanc)
    for sop in refusing["application_entities"][0]["sop_classes"]:
        if sop["name"].endswith("GET"):
            sop["role_selection"] = False
    result = compare(brainlab, refusing)
    dose = _tro(result)[("RO-10", "Orthanc as Archive → Brainlab RT Elements as Dose Displayer")]
    assert dose["verdict"] == "blocked" and "Role Selection" in dose["reason"]
    assert result["exit_code"] == 1

    explicit_only = copy.deepcopy(orthanc)
    explicit_only["transfer_syntax_lists"]["UNCOMPRESSED"] = ["1.2.840.10008.1.2.1"]
    store = _tro(compare(brainlab, explicit_only))[
        ("RO-5", "Brainlab RT Elements as Dosimetric Planner → Orthanc as Archive")]
    assert store["verdict"] == "blocked"
    assert "PS3.5 10.1" in store["reason"] and "Orthanc does not claim it" in store["reason"]

    displayer = {"schema": "rtconform-statement/1", "product": {"name": "Viewer"},
                 "character_sets": ["ISO_IR 100"],
                 "application_entities": [{"ae_title": "VIEWER", "actors": ["Dose Displayer"],
                                           "sop_classes": [
        {"uid": "1.2.840.10008.5.1.4.1.1.481.2", "roles": ["SCP"],
         "transfer_syntaxes": ["1.2.840.10008.1.2"]},
        {"uid": "1.2.840.10008.5.1.4.1.2.2.2", "roles": ["SCU"],
         "transfer_syntaxes": ["1.2.840.10008.1.2"]}]}]}
    flow = _tro(compare(displayer, orthanc))[
        ("RO-10", "Orthanc as Archive → Viewer as Dose Displayer")]
    (destination,) = [r for r in flow["rows"] if r["kind"] == "C-MOVE destination"]
    assert flow["verdict"] == "works" and destination["verdict"] == "condition"
    assert "Move Destination" in destination["text"] and "DicomModalities" in destination["text"]
    cfind = [r for r in flow["rows"] if r["kind"] == "C-FIND"]
    assert cfind and "UIDs" in cfind[0]["text"]  # no C-FIND SCU: UIDs known another way


def test_empty_sections_say_none(tmp_path):
    from rtconform.statement.render import write_comparison

    result = compare(load_statement(BRAINLAB), load_statement(ORTHANC))
    written = {p.suffix: p.read_text() for p in write_comparison(result, tmp_path)}
    html, md = written[".html"], written[".md"]
    assert "None: Orthanc states no import constraint." in html
    section = md.split("## Orthanc import constraints against Brainlab RT Elements export "
                       "claims", 1)[1]
    assert section.strip().startswith("None.")


def test_verify_statement_clean_then_with_a_false_claim(tmp_path):
    from rtconform.run.runner import run

    code, _ = run(None, tmp_path / "clean", tags="conformance and sut_archive",
                  statement=REFERENCE)
    assert code == 0
    assert verify(load_statement(REFERENCE), tmp_path / "clean") == []

    claims = yaml.safe_load(REFERENCE.read_text())
    claims["application_entities"][0]["sop_classes"].append(
        {"name": "Enhanced SR Storage", "uid": "1.2.840.10008.5.1.4.1.1.88.22", "roles": ["SCP"],
         "transfer_syntaxes": "NOCOMP", "source": "test: a claim the Archive cannot keep"})
    false = tmp_path / "false.yaml"
    false.write_text(yaml.safe_dump(claims))
    code, results = run(None, tmp_path / "false", tags="conformance and sut_archive",
                        statement=false)
    assert code == 1 and sum(r.status == "failed" for r in results) == 3  # one per syntax
    findings = verify(load_statement(false), tmp_path / "false")
    assert {f.rule_id for f in findings} == {"VERIFY-SCP-REJECTED"}
    # one line per SOP class and role, named, with every transfer syntax it concerns
    (finding,) = findings
    assert finding.message.startswith("Enhanced SR Storage as SCP")
    assert "Implicit VR Little Endian" in finding.message and \
        "Explicit VR Little Endian" in finding.message
    proc = subprocess.run([sys.executable, "-m", "rtconform", "verify-statement", str(false),
                           str(tmp_path / "false")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout.count("Enhanced SR Storage") == 1, proc.stdout
    # a SOP class the Archive accepted that the statement leaves out: named, once per role
    claims["application_entities"][0]["sop_classes"] = [
        c for c in claims["application_entities"][0]["sop_classes"]
        if c["uid"] != "1.2.840.10008.5.1.4.1.1.481.2"]  # RT Dose Storage
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(yaml.safe_dump(claims))
    unclaimed = [f for f in verify(load_statement(fewer), tmp_path / "clean")
                 if f.rule_id == "VERIFY-UNCLAIMED-SOP-CLASS"]
    assert [f.message.split(":")[0] for f in unclaimed] == ["RT Dose Storage as SCP"], \
        [f.message for f in unclaimed]

"""The report's header, C-MOVE summaries and executive summary, from small
logs and summaries made here: each wording a reader sees, in its singular
and plural, without a run (tests/report/test_report.py renders real runs)."""

from __future__ import annotations

from rtconform import __version__
from rtconform.actors.recorder import AssociationRecord
from rtconform.report.header import header
from rtconform.report.model import matrix
from rtconform.report.networking import move_operations
from rtconform.run_folder import RunFolder

CT = "1.2.840.10008.5.1.4.1.1.2"
RT_PLAN = "1.2.840.10008.5.1.4.1.1.481.5"


def _rows(result: dict) -> dict[str, str]:
    return {row["label"]: row["value"] for row in result["rows"]}


def test_header_of_an_export_folder_run_with_its_settings(tmp_path):
    summary = {"sut": {"name": "exporter", "actors": ["Contourer"], "export_dir": "/data/x"},
               "run": {"started": "2026-12-05T10:02:00+01:00",
                       "finished": "2026-12-05T10:07:00+01:00", "rtconform": "0.0.1",
                       "engines": [{"name": "dciodvfy", "version": "1.0", "unavailable": ""},
                                   {"name": "dicom-validator", "version": "",
                                    "unavailable": "no standard"}],
                       "tags": "ro2", "harness": {"calling_ae": "RTCONFORM",
                                                  "archive_ae": "ARCH", "archive_port": 0,
                                                  "receive_ae": "HARNESS",
                                                  "receive_port": 11113}}}
    result = header(RunFolder(tmp_path), summary, [], site="Clinic A")
    rows = _rows(result)
    assert rows["System under test"] == "exporter — export folder /data/x"
    assert rows["Run"] == "2026-12-05 10:02–10:07 (UTC+01:00)"
    assert rows["Site"] == "Clinic A" and "Operator" not in rows
    assert rows["Tool"] == f"rtconform 0.0.1 (report rendered by {__version__})"
    assert rows["Standard engines"] == "dciodvfy (1.0); dicom-validator: not run (no standard)"
    assert rows["Scenario selection"] == "ro2" and "Conformance statement" not in rows
    assert rows["Harness AE titles and ports"] == (
        "calls as RTCONFORM; its Archive ARCH listens on a free port per scenario; "
        "C-MOVE destination HARNESS on 11113")
    assert result["date"] == "2026-12-05 10:02"


def test_header_of_an_old_run_folder_says_what_was_not_recorded(tmp_path):
    records = [AssociationRecord("a1", direction="outbound", calling_ae="OLDHARNESS"),
               AssociationRecord("a2", direction="inbound", calling_ae="SUT")]
    rows = _rows(header(RunFolder(tmp_path), {"sut": {"name": "x", "embedded": True}},
                        records))
    assert rows["System under test"] == "x — embedded reference actors"
    assert rows["Tool"] == f"rtconform {__version__}"
    assert rows["Standard engines"].startswith("not recorded")
    assert rows["Harness AE titles and ports"] == \
        "not recorded; calling AE titles seen: OLDHARNESS"
    assert rows["Run"] == "not recorded"  # no association time, no summary.json


def _sub(assoc_id: str, offered: list[tuple[str, str]], stores: list[str]) -> AssociationRecord:
    return AssociationRecord(
        assoc_id, direction="inbound", called_ae="HARNESS", peer={"ae_title": "ORTHANC"},
        contexts=[{"abstract_syntax": uid, "result": result} for uid, result in offered],
        dimse=[{"command": "C-STORE-RQ", "sop_class": uid} for uid in stores])


def test_a_c_move_is_said_in_one_sentence_in_plural_and_singular():
    parent = AssociationRecord("p", actor="Dose Displayer", direction="outbound")
    rq = {"move_destination": "HARNESS"}
    many = [_sub("s1", [(CT, "accepted"), (RT_PLAN, "abstract-syntax-not-supported")],
                 [CT, CT]),
            _sub("s2", [(CT, "accepted")], [CT])]
    (operation,) = move_operations(many, {r.id: (parent, rq) for r in many})
    assert operation["operation"] == "Dose Displayer C-MOVE to HARNESS"
    assert operation["summary"] == (
        "ORTHANC opened 2 associations to HARNESS and offered 2 storage classes; the harness "
        "accepted the 1 it takes (CT Image Storage); 3 instances sent over them "
        "(CT Image Storage 3).")
    one = [_sub("s3", [(RT_PLAN, "accepted")], [RT_PLAN])]
    (operation,) = move_operations(one, {"s3": (parent, rq)})
    assert operation["summary"] == (
        "ORTHANC opened 1 association to HARNESS and offered 1 storage class; the harness "
        "accepted the 1 it takes (RT Plan Storage); 1 instance sent over it "
        "(RT Plan Storage 1).")
    none = [_sub("s4", [(RT_PLAN, "abstract-syntax-not-supported")], [])]
    (operation,) = move_operations(none, {"s4": (parent, rq)})
    assert operation["summary"].endswith("accepted the 0 it takes (none); 0 instances sent "
                                         "over it.")


def test_the_executive_summary_cell_says_the_worst_status():
    scenarios = [
        {"transaction": "RO-2", "name": "The Archive under test stores", "status": "passed"},
        {"transaction": "RO-2", "name": "The Archive under test refuses", "status": "failed"},
        {"transaction": "RO-10", "name": "The Archive under test sends", "status": "skipped"},
        {"transaction": "RO-10", "name": "The Archive under test keeps",
         "status": "not applicable"},
        {"transaction": "RO-1", "name": "An unnamed check", "status": "passed"}]
    result = matrix(scenarios, ["Archive"])
    assert result["columns"] == ["Archive", "—"]
    cells = {row["transaction"]: [(c["verdict"], c["text"]) for c in row["cells"]]
             for row in result["rows"]}
    assert list(cells) == ["RO-1", "RO-2", "RO-10"]  # by transaction number
    assert cells["RO-2"][0] == ("failed", "1 failed, 1 passed")
    assert cells["RO-10"][0] == ("not applicable", "1 not applicable, 1 skipped")
    assert cells["RO-1"] == [("", ""), ("passed", "1 passed")]

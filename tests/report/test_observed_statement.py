"""A run's observed behaviour as a conformance statement
(`rtconform.statement.observed`): a statement the schema accepts, so
`rtconform compare` and `verify-statement` can hold it against a vendor's,
with only what the SUT accepted, each role it played and every transfer
syntax it said yes to. tests/report/test_report.py checks it on a real run."""

from __future__ import annotations

from pathlib import Path

from rtconform.statement.model import claims, load_statement
from rtconform.statement.observed import observed_statement, write_statement

RTSTRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
RTDOSE = "1.2.840.10008.5.1.4.1.1.481.2"
STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"


def report(peers: list[dict]) -> dict:
    """The parts of a report model (`rtconform.report.model.build`) it reads."""
    return {
        "run": "/runs/42", "sut": {"name": "Vendor TPS 9"}, "actors": ["Archive"],
        "networking": {
            "policies": {"peers": peers},
            "contexts": [
                {"abstract_syntax": RTSTRUCT, "sut_role": "SCP", "accepted_uids": [EXPLICIT]},
                {"abstract_syntax": RTSTRUCT, "sut_role": "SCP", "accepted_uids": [IMPLICIT]},
                {"abstract_syntax": RTDOSE, "sut_role": "SCU", "accepted_uids": [EXPLICIT]},
                {"abstract_syntax": STUDY_MOVE, "sut_role": "SCP", "accepted_uids": []},
            ],
            "move_contexts": [{"abstract_syntaxes": [RTDOSE], "sut_role": "SCU",
                               "accepted_uids": [IMPLICIT]}],
        },
        "character_sets": [{"value": "ISO_IR 100"}],
        "security": {"tls": False},
    }


PEER = {"ae_title": "VENDOR_TPS", "implementation_class_uid": "1.2.3.4.5",
        "implementation_version_name": "TPS_9"}


def test_the_observed_statement_is_a_valid_statement(tmp_path: Path) -> None:
    path = write_statement(report([PEER]), tmp_path / "observed.yaml")
    statement = load_statement(path)  # raises if the schema refuses it
    found = {(c.uid, c.role): c.syntaxes for c in claims(statement)}
    # a C-MOVE sub-association's context counts too (the SUT sending RT Dose as Storage SCU)
    assert found == {(RTDOSE, "SCU"): {EXPLICIT, IMPLICIT}, (RTSTRUCT, "SCP"): {EXPLICIT, IMPLICIT}}
    (ae,) = statement["application_entities"]
    assert (ae["ae_title"], ae["implementation_version_name"]) == ("VENDOR_TPS", "TPS_9")
    assert STUDY_MOVE not in {c["uid"] for c in ae["sop_classes"]}  # offered, never accepted
    assert statement["character_sets"] == ["ISO_IR 100"]
    assert statement["product"] == {"name": "Vendor TPS 9", "version": "observed"}


def test_a_run_with_no_peer_still_gives_a_statement(tmp_path: Path) -> None:
    data = report([])
    data["networking"]["contexts"] = data["networking"]["move_contexts"] = []
    statement = observed_statement(data)
    assert statement["application_entities"][0]["ae_title"] == ""
    assert statement["application_entities"][0]["sop_classes"] == []
    load_statement(write_statement(data, tmp_path / "empty.yaml"))

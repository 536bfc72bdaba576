"""The redactor (`rtconform.redact`) as the report, the findings and the
console use it: it learns identity from the data (PS3.15 Annex E attributes,
every PN, nested items too), keeps what the retain options keep (UIDs, dates,
device identity), and replaces every spelling of a learnt value wherever it
appears. tests/system/test_redaction.py checks the commands' outputs end to end."""

from __future__ import annotations

from pydicom.dataset import Dataset

from rtconform.redact import MASK, Redactor, identity_values, is_identifying


def patient() -> Dataset:
    ds = Dataset()
    ds.PatientName = "Doe^Jane^Q"
    ds.PatientID = "MRN-004711"
    ds.PatientBirthDate = "19700101"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.StudyDate = "20261206"
    ds.StationName = "LINAC-3"
    ds.RTPlanLabel = "Prostate"
    operator = Dataset()
    operator.ReviewerName = "Smith^Ann"  # a PN inside a sequence item
    ds.ApprovalSequence = [operator]
    return ds


def test_what_identifies_and_what_is_retained() -> None:
    values = identity_values(patient())
    assert {"Doe^Jane^Q", "MRN-004711", "19700101", "Smith^Ann"} <= values
    assert "1.2.826.0.1.3680043.8.498.1" not in values  # Retain UIDs
    assert "20261206" not in values  # Retain Full Dates (the birth date is not retained)
    assert "LINAC-3" not in values  # Retain Device Identity
    assert "Prostate" not in values
    assert is_identifying("PatientName", "PN") and is_identifying("OperatorsName", "PN")
    assert not is_identifying("StudyInstanceUID", "UI")


def test_every_spelling_of_a_learnt_value_is_replaced() -> None:
    redact = Redactor()
    redact.learn(patient())
    text = "file Doe^Jane^Q/CT_1.dcm: patient 'Doe Jane Q' (doe), ID mrn-004711, born 19700101"
    assert redact(text) == (f"file {MASK}/CT_1.dcm: patient '{MASK}' ({MASK}), ID {MASK}, "
                            f"born {MASK}")
    assert redact("reviewed by Smith^Ann") == f"reviewed by {MASK}"
    assert redact("study 1.2.826.0.1.3680043.8.498.1 on LINAC-3") == (
        "study 1.2.826.0.1.3680043.8.498.1 on LINAC-3")


def test_short_components_are_not_scrubbed_everywhere() -> None:
    redact = Redactor()
    redact.add("Li^Q")  # "Q" alone would mangle every word holding a q
    assert redact("Li^Q asked a question") == f"{MASK} asked a question"
    assert redact("Q") == "Q"
    redact.add("Al")  # too short to scrub at all
    assert redact("Alpha") == "Alpha"


def test_scrub_walks_the_report_model_and_disabled_changes_nothing() -> None:
    redact = Redactor()
    redact.add("Doe^Jane")
    model = {"sut": {"patient": "Doe^Jane"}, "rows": [("Jane", 3), ["ok"]], "n": 3}
    assert redact.scrub(model) == {"sut": {"patient": MASK}, "rows": [[MASK, 3], ["ok"]], "n": 3}
    off = Redactor(enabled=False)
    off.learn(patient())
    assert off("Doe^Jane^Q") == "Doe^Jane^Q"

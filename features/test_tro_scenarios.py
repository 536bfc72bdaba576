"""Bind every .feature file here, and the conformance-table scenarios generated
from the statement ($RTCONFORM_STATEMENT or conformance/rtconform-reference.yaml)."""

from pathlib import Path

from pytest_bdd import scenarios

from rtconform.run.statement_features import generated_features_dir

HERE = Path(__file__).parent

scenarios(str(HERE))
GENERATED = generated_features_dir(HERE.parent / "conformance" / "rtconform-reference.yaml")
# a statement may claim nothing a table scenario tests (a Dose Displayer's
# retrieve-only statement): no generated feature, nothing to bind
if any(GENERATED.glob("*.feature")):
    scenarios(str(GENERATED))

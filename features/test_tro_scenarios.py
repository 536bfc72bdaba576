"""Bind every .feature file here, and the conformance-table scenarios generated
from the statement ($RTCONFORM_STATEMENT or conformance/rtconform-reference.yaml)."""

from pathlib import Path

from pytest_bdd import scenarios

from rtconform.run.statement_features import generated_features_dir

HERE = Path(__file__).parent

scenarios(str(HERE))
scenarios(str(generated_features_dir(HERE.parent / "conformance" / "rtconform-reference.yaml")))

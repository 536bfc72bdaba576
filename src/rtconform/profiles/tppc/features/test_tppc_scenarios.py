"""Bind the TPPC scenarios (`rtconform run --profile tppc`); their steps are
`rtconform.profiles.tppc.steps`, loaded by the scenario plugin."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios(str(Path(__file__).parent / "tppc.feature"))

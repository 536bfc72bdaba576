"""The TPPC scenarios' own Gherkin steps (loaded by the scenario plugin
beside the common ones, `rtconform.run.steps`): thin, each calls
`rtconform.profiles.tppc.scenarios`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import given, parsers, then, when

from rtconform.profiles.tppc import scenarios as tppc
from rtconform.run import checks

BEAM = r"(?P<beam_type>[a-z-]+)"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "tppc: IHE-RO TPPC (Treatment Planning – Plan Content)")
    config.addinivalue_line("markers", "tppc_reference: needs IHE-RO's TPPC reference data")


@pytest.fixture(autouse=True)
def tppc_applicable(request):
    """A TPPC scenario that cannot apply is skipped before it starts (a skip
    inside a step would read as a pass in cucumber.json): a beam type the SUT
    does not declare, reference data that is absent, a plan consumer with no
    operator to judge it."""
    if request.node.get_closest_marker("tppc") is None:
        return
    run_context = request.getfixturevalue("run_context")
    why = tppc.not_applicable(run_context.sut, tppc.outline_row(request.node),
                              {m.name for m in request.node.iter_markers()})
    if why:
        pytest.skip(why)


@given(parsers.re(rf"the system under test declares {BEAM} plans"))
def declares(scenario, beam_type):
    assert tppc.declares(scenario.ctx.sut, beam_type)


@given(parsers.re(rf"the harness Archive holds the TPPC stimulus: CT series, structure set and "
                  rf"the {BEAM} plan"))
def harness_holds(scenario, beam_type):
    tppc.harness_holds(scenario, beam_type)


@given("the IHE-RO TPPC reference plans", target_fixture="reference_plans")
def reference_plans():
    plans = tppc.reference_plans()
    assert len(plans) == 14, f"{len(plans)} reference plans in {tppc.reference_folder()}"
    return plans


@when(parsers.re(rf"the planning system under test plans {BEAM} beams"))
def planner_plans(scenario, beam_type):
    tppc.planner_plans(scenario, beam_type)


@when(parsers.re(rf"the harness sends the synthetic {BEAM} plan to the Archive under test"))
def send_to_archive(scenario, beam_type):
    tppc.send_to_archive(scenario, beam_type)


@when(parsers.re(rf"the harness sends the synthetic {BEAM} plan to the plan consumer under "
                 r"test"))
def send_to_consumer(scenario, beam_type):
    tppc.send_to_consumer(scenario, beam_type)


@when("the harness sends the reference plans to the Archive under test")
def send_reference_plans(scenario, reference_plans):
    tppc.send_reference_plans(scenario, reference_plans)


@then(parsers.re(rf"every beam of the received plans is a {BEAM} beam"))
def beams_are(scenario, beam_type):
    wrong = tppc.wrong_beam_types(scenario.received, beam_type)
    assert not wrong, "TPPC beam type: " + "; ".join(wrong[:10])


@then("the received plans pass the TPPC rules and the standard engines")
def plans_pass(scenario):
    assert scenario.received, "no RTPLAN objects were received"
    errors = tppc.judge(scenario)
    assert not errors, "; ".join(f"{f.rule_id} {Path(f.file).name} {f.tag_path}: {f.message}"
                                 for f in errors[:10])


@then(parsers.re(rf"the plan consumer under test shows the {BEAM} plan as sent"))
def consumer_shows(scenario, beam_type):
    verdict, evidence = tppc.consumer_shows(scenario, beam_type)
    assert verdict, evidence


@then("the harness retrieves every plan it sent by C-GET, unchanged")
def retrieved_unchanged(scenario):
    checks.assert_unchanged(scenario, tppc.retrieve_sent(scenario))

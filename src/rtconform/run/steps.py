"""Gherkin step definitions: thin, each calls the library (the run session,
the harness's actions, its checks, validation). A vendor writes new scenarios from these
phrases without Python. Loaded with the plugin (`rtconform.run.plugin`)."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pytest_bdd import given, parsers, then, when

from rtconform.dicom.uids import SOP_CLASS_BY_MODALITY
from rtconform.ihe.tro import ARCHIVE
from rtconform.run import checks, harness

SOP_CLASS_OF = SOP_CLASS_BY_MODALITY


# -- Given ----------------------------------------------------------------------------
@given(parsers.re(r"the harness Archive holds the (?P<which>synthetic|limited|uneven) "
                  r"(?P<objects>.+)"))
def harness_holds(scenario, which, objects):
    harness.holds(scenario, objects, None if which == "synthetic" else which)


@given(parsers.parse("the Archive under test holds the synthetic {objects}"))
def sut_archive_holds(scenario, objects):
    harness.archive_holds(scenario, objects)


# -- When -------------------------------------------------------------------------------
@when(parsers.re(r"the (?P<actor>[A-Za-z ]+) under test performs "
                 r"(?P<transaction>RO-\d+(?:(?:, | and )RO-\d+)*)"))
def sut_performs(scenario, actor, transaction):
    harness.sut_performs(scenario, actor, transaction)


@when(parsers.re(r'the harness (?P<actor>[A-Za-z ]+?) stores the synthetic (?P<objects>.+?)'
                 r'(?: with fault "(?P<fault>[a-z0-9-]+)")? in the Archive under test'))
def harness_stores(scenario, actor, objects, fault):
    harness.stores(scenario, actor, objects, fault)


@when(parsers.re(r"the harness (?P<actor>[A-Za-z ]+?) retrieves the (?P<modality>[A-Z]+) series "
                 r"from the Archive under test by (?P<method>C-GET|C-MOVE)"))
def harness_retrieves(scenario, actor, modality, method):
    harness.retrieves(scenario, actor, modality, method)


@when(parsers.parse("the harness proposes {sop_class} with {transfer_syntax} to the Archive "
                    "under test"), target_fixture="negotiation")
def harness_proposes(scenario, sop_class, transfer_syntax):
    return {"accepted": harness.proposes(scenario, sop_class, transfer_syntax)}


@when(parsers.re(r"the harness queries the Archive under test at (?P<level>[A-Z]+) level with "
                 r"(?P<keyword>\w+) by (?P<matching>[a-zA-Z ]+ matching)"),
      target_fixture="matches")
def harness_queries(scenario, level, keyword, matching):
    return harness.query_key(scenario, level, keyword, matching)


# -- Then -------------------------------------------------------------------------------
@then(parsers.re(r"the harness Archive received (?P<modality>[A-Z]+) objects from the system "
                 r"under test"))
def harness_received(scenario, modality):
    """At least one: how many a producer makes (one plan dose, a resampled
    series of any length) is its own business; each one is then judged."""
    paths = checks.received(scenario, modality)
    scenario.received = paths
    assert paths, f"no {modality} object arrived from the system under test"


@then(parsers.parse("the received {modality} objects pass the TRO rules and the standard "
                    "engines"))
def received_pass(scenario, modality):
    assert scenario.received, f"no {modality} objects were received"
    given, context = checks.judging_context(scenario)
    findings = scenario.ctx.validate(scenario.received, context, scenario.name, given)
    mine = {str(p) for p in scenario.received}
    errors = [f for f in findings if f.severity == "error" and not f.waived
              and (f.file in mine or not f.file)]
    assert not errors, "; ".join(f"{f.rule_id} {Path(f.file).name} {f.tag_path}: {f.message}"
                                 for f in errors[:10])


@then("every C-STORE from the system under test was answered with Success")
def sut_stores_succeeded(scenario):
    if scenario.driver.exports_files:  # a folder's equivalent: complete Part 10 files
        broken = checks.unreadable_exports(scenario)
        assert not broken, "FILE-UNREADABLE: " + "; ".join(broken[:5])
        return
    statuses = [s for r in scenario.sut_requested() for s in r.statuses("C-STORE-RSP")]
    assert statuses, "the system under test sent no C-STORE to the harness Archive"
    assert set(statuses) == {"0x0000"}, f"statuses {sorted(set(statuses))}"


@then("every C-STORE from the harness was answered with Success")
def harness_stores_succeeded(scenario):
    assert scenario.statuses, "the harness sent nothing"
    bad = [f"0x{s:04X}" for s in scenario.statuses if s != 0]
    assert not bad, f"the Archive under test answered {bad}"


@then(parsers.parse("the Archive under test finds the {modality} series with a C-FIND at "
                    "{level} level"))
def sut_finds(scenario, modality, level):
    found = harness.finds(scenario, modality, level)
    problems = checks.find_problems(found, scenario.sent.get(modality, []), modality, level)
    assert not problems, "; ".join(problems)


@then(parsers.parse("the harness retrieves the {modality} series by {method} unchanged"))
def retrieves_unchanged(scenario, modality, method):
    retrieved = harness.retrieves(scenario, "Dose Displayer", modality, method)
    sent = {str(ds.SOPInstanceUID): ds for ds in scenario.sent.get(modality, [])}
    assert sent, f"the harness sent no {modality} object in this scenario"
    got = {str(ds.SOPInstanceUID): ds for ds in retrieved}
    assert set(got) >= set(sent), f"{len(set(sent) - set(got))} sent objects not returned"
    checks.assert_unchanged(scenario, [(sent[uid], got[uid]) for uid in sent])


@then(parsers.re(r"the harness received the (?P<modality>[A-Z]+) objects it gave, unchanged"))
def received_unchanged(scenario, modality):
    """The objects this scenario gave the Archive came back, unchanged (a real
    Archive may hold more from earlier work: those are not counted)."""
    given = {str(ds.SOPInstanceUID): ds for ds in scenario.sent.get(modality, [])}
    assert given, f"the scenario gave no {modality} object"
    got = {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, scenario.received)}
    missing = set(given) - set(got)
    assert not missing, f"{len(missing)} of {len(given)} {modality} objects were not returned"
    checks.assert_unchanged(scenario, [(given[uid], got[uid]) for uid in given])


@then(parsers.re(r"the harness Archive sent the (?P<modality>[A-Z]+) objects it holds to the "
                 r"system under test"))
def harness_sent(scenario, modality):
    count = scenario.seeded_by_modality.get(modality, 0)
    assert count, f"the harness holds no {modality} object"
    sop_class = SOP_CLASS_OF[modality]
    records = [r for r in scenario.new_associations() if r.actor == ARCHIVE]
    finals = [s for r in records for s in r.final_statuses("C-GET-RSP", "C-MOVE-RSP")]
    assert finals and set(finals) == {"0x0000"}, f"retrieve statuses {finals}"
    delivered = sum(r.stores_sent(sop_class) for r in records)  # the sub-operations
    assert delivered == count, f"{delivered} {modality} sub-operations succeeded, the harness " \
                               f"holds {count}"


@then(parsers.parse("the received plan is a {kind} plan"))
def plan_kind(scenario, kind):
    checks.plans_of_kind(scenario, kind)


@then("the new CT series has its own Series Instance UID and the source's Frame of Reference")
def new_series(scenario):
    given = [pydicom.dcmread(p, stop_before_pixels=True) for p in scenario.given_paths()]
    given_series = {str(ds.SeriesInstanceUID) for ds in given if ds.Modality == "CT"}
    given_frames = {str(ds.FrameOfReferenceUID) for ds in given if ds.Modality == "CT"}
    made = [pydicom.dcmread(p, stop_before_pixels=True) for p in scenario.received]
    series = {str(ds.SeriesInstanceUID) for ds in made}
    frames = {str(ds.FrameOfReferenceUID) for ds in made}
    scenario.made_series = series
    assert len(series) == 1 and not series & given_series, \
        f"one new Series Instance UID expected (IHE-RO RO-11), got {sorted(series)}"
    assert frames <= given_frames, f"Frame of Reference {sorted(frames)} is not the input's"


@then("the received structure set references the new CT series")
def structure_set_on_new_series(scenario):
    made = getattr(scenario, "made_series", set())
    for path in scenario.received:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        referenced = {str(series.SeriesInstanceUID)
                      for frame in ds.get("ReferencedFrameOfReferenceSequence", [])
                      for study in frame.get("RTReferencedStudySequence", [])
                      for series in study.get("RTReferencedSeriesSequence", [])}
        assert referenced and referenced <= made, \
            f"{path.name} references series {sorted(referenced)}, not the new one {sorted(made)}"


@then(parsers.parse("the Archive under test {verdict} it"))
def negotiation_verdict(negotiation, verdict):
    assert verdict in ("accepts", "rejects")
    assert negotiation["accepted"] == (verdict == "accepts")


@then("the Archive under test finds the structure set it holds")
def finds_what_it_holds(scenario, matches):
    checks.assert_found(scenario, matches)


@then(parsers.parse("the {actor} under test refuses the structure set"))
def refuses(scenario, actor):
    checks.assert_refused(scenario, actor)


@then(parsers.parse("the system under test proposed {sop_class} with {transfer_syntax}"))
def sut_proposed(scenario, sop_class, transfer_syntax):
    proposals = [pair for r in scenario.sut_requested() for pair in r.proposals()]
    assert (sop_class, transfer_syntax) in proposals, "not proposed"

"""Real Archives that nobody here wrote, at their own defaults, as the system
under test, each with its verdict pinned per scenario and the reason it is
right. A change of rtconform that flips one of these verdicts fails here,
naming the scenario and why its verdict was expected.

- Orthanc (Debian, Orthanc's defaults: OverwriteInstances false) and dcmtk's
  dcmqrscp conform: every Archive scenario passes, and a second run on the
  same store gives the same verdict (the harness never reuses a UID for
  other content, so what the store already holds changes nothing).
- pynetdicom's qrscp answers a SERIES-level C-FIND once per *instance*
  (measured with pynetdicom 3.0.4), which PS3.4 C.4.1.3.1.1 does not allow:
  every scenario whose series holds more than one instance fails with
  ARCHIVE-FIND-DUPLICATE; single-instance series pass.
- dcmtk's storescp is a Storage SCP only: it stores everything it is sent,
  and every Archive scenario fails with SUT-CAPABILITY-MISSING (no Study Root
  Query/Retrieve FIND), never with a connection refusal.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import ROOT, require
from pdftext import body, pdf_pages, printed, squeezed, strings
from peers import dcmqrscp, qrscp, storescp
from rtconform.report.render import render
from rtconform.run.runner import ScenarioResult, run

FIND_DUPLICATE = ("ARCHIVE-FIND-DUPLICATE",)
QRSCP_DUPLICATES = ("its SERIES-level C-FIND answers once per instance of a multi-instance "
                    "series (PS3.4 C.4.1.3.1.1: once per series)")
QRSCP_SINGLE = "the series it is asked for holds one instance, so one answer is right"
# pynetdicom qrscp 3.0.4: scenario → (status, rule ids, why that verdict is right)
QRSCP = {
    "The Archive under test returns a CT series by C-GET":
        ("failed", FIND_DUPLICATE, f"60 CT images: {QRSCP_DUPLICATES}"),
    "The Archive under test returns a CT series by C-MOVE":
        ("failed", FIND_DUPLICATE, f"60 CT images: {QRSCP_DUPLICATES}"),
    "The Archive under test stores a resampled CT series and gives it back unchanged":
        ("failed", FIND_DUPLICATE, f"30 resampled images: {QRSCP_DUPLICATES}"),
    "The Archive under test stores a dosimetric plan and gives it back unchanged":
        ("failed", FIND_DUPLICATE, f"geometric and dosimetric plan share a series: "
                                   f"{QRSCP_DUPLICATES}"),
    "The Archive under test stores the doses and gives them back unchanged":
        ("failed", FIND_DUPLICATE, f"plan dose and four beam doses: {QRSCP_DUPLICATES}"),
    "The Archive under test returns both image series of a study":
        ("failed", FIND_DUPLICATE, f"two CT series: {QRSCP_DUPLICATES}"),
    "The Archive under test returns the doses unchanged by C-GET": ("passed", (), QRSCP_SINGLE),
    "The Archive under test returns the doses unchanged by C-MOVE": ("passed", (), QRSCP_SINGLE),
    "The Archive under test stores a structure set and gives it back unchanged":
        ("passed", (), QRSCP_SINGLE),
    "The Archive under test keeps a non-conformant structure set as it was sent":
        ("passed", (), QRSCP_SINGLE),
    "The Archive under test stores a geometric plan and gives it back unchanged":
        ("passed", (), QRSCP_SINGLE),
    "The Archive under test keeps a geometric plan with metersets as it was sent":
        ("passed", (), "the variant is a new instance in a series of its own: " + QRSCP_SINGLE),
    "The Archive under test keeps a plan without a meterset as it was sent":
        ("passed", (), "the variant is a new instance in a series of its own: " + QRSCP_SINGLE),
    "The Archive under test keeps a dose with a short grid frame offset vector as it was sent":
        ("passed", (), "the variant is a new instance in a series of its own: " + QRSCP_SINGLE),
    "The Archive under test returns a structure set unchanged": ("passed", (), QRSCP_SINGLE),
    "The Archive under test returns a geometric plan unchanged": ("passed", (), QRSCP_SINGLE),
    "The Archive under test returns a dosimetric plan unchanged": ("passed", (), QRSCP_SINGLE),
}
STORESCP_WHY = ("a Storage SCP only: it stores what it is sent but accepts no Study Root "
                "Query/Retrieve context, which the Archive needs in RO-1, RO-6 … RO-10")


def _check(results: list[ScenarioResult], expected: dict[str, tuple]) -> None:
    got = {r.name: r for r in results}
    assert set(got) == set(expected), sorted(set(got) ^ set(expected))
    flipped = [f"{name}: expected {status} {list(rules)} because {why}; got {got[name].status} "
               f"{list(got[name].rule_ids)}: {got[name].message[:300]}"
               for name, (status, rules, why) in expected.items()
               if (got[name].status, got[name].rule_ids) != (status, rules)]
    assert not flipped, "\n".join(flipped)


def _all(results: list[ScenarioResult], status: str, rules: tuple, why: str) -> dict:
    return {r.name: (status, rules, why) for r in results}


def test_orthanc_at_its_defaults_passes_and_again_on_the_same_store(orthanc_runs):
    """Orthanc at its own defaults, configured as the README says (only
    RTCONFORM and HARNESS may talk to it), keeps the first copy of a SOP
    Instance UID (OverwriteInstances false): the harness's non-conformant
    variants are new instances, so the statement's run and a second run of
    the Archive scenarios on the same store both pass."""
    first, second = orthanc_runs.statement, orthanc_runs.archive
    why = "Orthanc stores at level 2, finds each entity once and serves C-GET and C-MOVE"
    conformance = [r for r in first.results if r.transaction == "conformance"]
    assert len(first.results) - len(conformance) == 17 and len(conformance) > 40
    _check(first.results, _all(first.results, "passed", (), why))
    archive = {r.name: ("passed", (), why) for r in first.results
               if r.transaction != "conformance"}
    _check(second.results, archive)
    assert (first.code, second.code) == (0, 0)


def test_dcmqrscp_with_its_statement(tmp_path, shared_dir):
    """dcmtk's dcmqrscp with conformance/dcmtk-dcmqrscp.yaml: the Archive
    scenarios and every conformance-table row pass, C-FIND keys sent by the
    book (Patient Root for PATIENT level, the unique keys above)."""
    with dcmqrscp(tmp_path, shared_dir) as sut:
        code, results = run(sut, tmp_path / "run",
                            statement=ROOT / "conformance" / "dcmtk-dcmqrscp.yaml")
    conformance = [r for r in results if r.transaction == "conformance"]
    assert len(results) - len(conformance) == 17 and len(conformance) > 40
    assert any("C-FIND" in r.name or "matches" in r.name for r in conformance)
    _check(results, _all(results, "passed", (), "dcmqrscp conforms at its defaults"))
    assert code == 0


def test_pynetdicom_qrscp_answers_c_find_once_per_instance(tmp_path):
    """A real Archive that answers C-FIND wrongly fails, with the rule and
    its PS3.4 section; each series is still retrieved once."""
    with qrscp(tmp_path) as sut:
        code, results = run(sut, tmp_path / "run", tags="not conformance")
    _check(results, QRSCP)
    assert code == 1
    failure = next(r for r in results if r.status == "failed")
    assert "PS3.4 C.4.1.3.1.1" in failure.message and "answered" in failure.message
    # read once: one C-GET (or C-MOVE) per series, not one per duplicate answer
    from rtconform.actors.recorder import read_associations

    log = read_associations(tmp_path / "run" / "associations.jsonl")
    retrieves = sum(1 for r in log for d in r.dimse if d["command"] in ("C-GET-RQ",
                                                                        "C-MOVE-RQ"))
    assert retrieves <= 2 * len(results), retrieves


def test_dcmtk_storescp_lacks_query_retrieve(tmp_path):
    """storescp accepts the association and every C-STORE but no Q/R context:
    the first failure names the missing capability, says what succeeded, and
    no text blames a connection refusal."""
    with storescp(tmp_path) as sut:
        code, results = run(sut, tmp_path / "run", tags="not conformance")
    _check(results, _all(results, "failed", ("SUT-CAPABILITY-MISSING",), STORESCP_WHY))
    assert code == 1 and len(results) == 17
    first = results[0].message
    assert "no Study Root Query/Retrieve FIND accepted" in first
    assert "succeeded in this scenario: C-STORE" in first
    assert all("refused" not in r.message and "no answer" not in r.message for r in results)
    stored = list((tmp_path / "storescp-store").iterdir())
    assert len(stored) > 90  # every object the harness sent is there
    from rtconform.report.render import render

    html = Path(render(tmp_path / "run")["html"]).read_text()
    assert "succeeded in this scenario: C-STORE" in html  # the report says what worked


def test_an_archive_holding_other_content_under_a_uid_fails_with_both_values(tmp_path):
    """A broken Archive that really answers wrong: rtconform's own Archive in
    another process (duplicates kept, as Orthanc's default), whose stored
    structure set was changed on disk after a first run. Run again with the
    same seed, the harness sends the same instance again; the Archive keeps
    and returns its other content under that UID. The scenario fails and the
    evidence shows the value sent and the value returned."""
    import sys

    import pydicom

    from peers import free_port, running, sut_file

    seed = "stale-copy"
    port, receive = free_port(), free_port()
    sut = sut_file(tmp_path, "Archive with a changed copy", "VENDOR", port, receive)
    cmd = [sys.executable, "-m", "rtconform", "simulate", "archive", "--aet", "VENDOR",
           "--port", str(port), "--store", str(tmp_path / "store"), "--duplicates", "keep",
           "--move-dest", f"HARNESS=127.0.0.1:{receive}"]
    with running(cmd, port, tmp_path / "archive.log"):
        first, _ = run(sut, tmp_path / "run1", tags="ro7 and not conformance", seed=seed)
        (stored,) = [p for p in (tmp_path / "store").rglob("*.dcm")
                     if pydicom.dcmread(p, stop_before_pixels=True).Modality == "RTSTRUCT"]
        ds = pydicom.dcmread(stored)
        label = str(ds.StructureSetLabel)
        ds.StructureSetLabel = "CHANGED COPY"
        ds.save_as(stored, enforce_file_format=True)
        second, results = run(sut, tmp_path / "run2", tags="ro7 and not conformance",
                              seed=seed)
    (result,) = results
    assert (first, second) == (0, 1)
    assert result.rule_ids == ("ARCHIVE-STORAGE-LEVEL-2",), result.message
    assert f"StructureSetLabel: sent {label!r}, returned 'CHANGED COPY'" in result.message


def test_the_orthanc_report_says_each_fact_once_in_at_most_12_pages(orthanc_archive_run):
    """All 17 Archive scenarios against Orthanc print in at most 12 pages
    (21 before), and every value of the JSON report is in the PDF."""
    require(shutil.which("chromium") is not None, "chromium not installed")
    assert len(orthanc_archive_run.results) == 17
    written = render(orthanc_archive_run.out, ("json", "pdf"))
    pages = pdf_pages(written["pdf"])
    assert len(pages) <= 12, len(pages)
    text = squeezed(body(pages)).lower()
    report = json.loads(written["json"].read_text())
    missing = sorted({value for value in strings(report) if not printed(value, text)})
    assert not missing, missing[:20]
    net = report["networking"]
    assert net["move_operations"] and all(op["offered"] > len(op["accepted"])
                                          for op in net["move_operations"])
    services = {s["name"] for s in net["services"]}
    assert "RT Ion Plan Storage" not in services  # negotiated by C-GET, never exchanged
    assert "RT Ion Plan Storage" in {n["name"] for n in net["negotiated_not_used"]}
    # no empty column: every printed column header has a value under it
    assert "Rejected contexts" not in text

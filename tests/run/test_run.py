"""`rtconform run`: the embedded default, Orthanc as the Archive under test, a
separate process as the Contourer under test, deliberately broken SUTs, and an
unreachable one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from helpers import ROOT, require
from peers import fill_template, free_port, running
from rtconform.ihe.tro import TRANSACTIONS
from rtconform.run.runner import run
from rtconform.run_folder import RunFolder

FEATURES = ROOT / "features"


def _statuses(results) -> dict[str, str]:
    return {f"{r.transaction} {r.name}": r.status for r in results}


def test_eleven_feature_files_each_with_both_directions():
    files = sorted(FEATURES.glob("ro*.feature"))
    assert len(files) == 11
    seen = set()
    for path in files:
        text = path.read_text()
        (transaction,) = re.findall(r"^Feature: (RO-\d+)", text, re.M)
        seen.add(transaction)
        sut_tags = set(re.findall(r"@sut_(\w+)", text))
        t = TRANSACTIONS[transaction]
        sends = {a.lower().replace(" ", "_") for a in t.senders}
        receives = {a.lower().replace(" ", "_") for a in t.receivers}
        assert sut_tags & sends, f"{path.name}: no scenario where the SUT sends"
        assert sut_tags & receives, f"{path.name}: no scenario where the SUT receives"
    assert seen == set(TRANSACTIONS)


def test_run_writes_the_evidence(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--out", str(out), "--tags",
                           "ro2 or ro5"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "7 passed, 0 failed" in proc.stdout
    # the header first, then one named line per scenario, in the order they ran
    assert proc.stdout.startswith("system under test: rtconform reference actors")
    assert "harness: calls as RTCONFORM" in proc.stdout and "7 scenarios" in proc.stdout
    assert len(re.findall(r"^  passed  RO-[25] +The ", proc.stdout, re.M)) == 7
    cases = list(ElementTree.parse(out / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == 7
    assert {c.get("classname") for c in cases} == {"rtconform.RO-2", "rtconform.RO-5"}
    assert all(c.get("name").startswith("The ") for c in cases)  # Gherkin names
    cucumber = json.loads((out / "cucumber.json").read_text())
    assert {f["name"] for f in cucumber} == {"RO-2 Structure Set Storage", "RO-5 Dose Storage"}
    assert all(f["uri"].startswith("features/") and (ROOT / f["uri"]).is_file()
               for f in cucumber)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"passed": 7} and summary["exit_code"] == 0
    log = [json.loads(line) for line in (out / "associations.jsonl").read_text().splitlines()]
    assert {e["event"] for e in log} >= {"accepted", "dimse", "stored", "released"}
    from rtconform.report.model import stored_objects

    received = stored_objects(out, received_only=False)
    assert len(received) >= 60 + 1 + 1 and all(p.is_file() for p in received.values())
    assert (out / "findings.json").is_file()
    assert (out / "report.html").is_file() and f"report {out / 'report.html'}" in proc.stdout


def test_broken_contourer_fails_its_scenario_with_the_rule_id(tmp_path):
    sut = tmp_path / "sut.yaml"
    sut.write_text("name: Contourer emitting a contour off its plane\nactors: [Contourer]\n"
                   "embedded: {fault: contour-off-plane}\n")
    code, results = run(sut, tmp_path / "run", tags="ro1 or ro2 or ro11")
    assert code == 1
    failed = [r for r in results if r.status == "failed"]
    # the structure sets of Contourer scenarios 1, 3 (edit) and 2 (combine) all fail
    assert sorted((r.transaction, r.rule_ids) for r in failed) == [
        ("RO-11", ("SS-CONTOUR-ON-PLANE",)), ("RO-2", ("SS-CONTOUR-ON-PLANE",)),
        ("RO-2", ("SS-CONTOUR-ON-PLANE",))]
    assert sum(r.status == "passed" for r in results) == 2  # RO-1, RO-11 resampling pass


@pytest.mark.parametrize(("actor", "fault", "tags", "expected"), [
    # Contourer scenario 3: the edited structure set keeps the UID it was given
    ("Contourer", "brto-edit-keeps-uid", "ro2 and not sut_archive",
     {"The Contourer under test edits a structure set it is given and stores a new instance":
      ("BRTO-NEW-SOP-INSTANCE",)}),
    # Contourer scenario 2 and RO-11: the new series keeps the input's Series Instance UID
    ("Contourer", "brto-resampled-keeps-series", "ro11 and not sut_archive",
     {"The Contourer under test stores a resampled CT series":
      ("BRTO-NEW-SOP-INSTANCE", "CT-SERIES-POSITIONS"),  # mixed into the input's series
      "The Contourer under test combines the series it is given into one and contours it":
      ("BRTO-NEW-SOP-INSTANCE", "CT-SERIES-POSITIONS")}),
    # the harness's old geometric plan: metersets where BRTO wants none
    ("Geometric Planner", "brto-geometric-metersets", "ro3 and not sut_archive",
     {name: ("BRTO-GEOMETRIC-PLAN-BEAMS", "BRTO-GEOMETRIC-PLAN-CONTROL-POINTS") for name in (
         "The Geometric Planner under test stores a conformant geometric plan",
         "The Geometric Planner under test plans on the limited stimulus",
         "The Geometric Planner under test plans on the uneven stimulus")}),
    ("Dosimetric Planner", "brto-dose-relative", "ro5 and not sut_archive",
     {"The Dosimetric Planner under test stores conformant doses": ("BRTO-DOSE-VALUES",)}),
])
def test_broken_producers_fail_the_brto_scenarios(tmp_path, actor, fault, tags, expected):
    sut = tmp_path / "sut.yaml"
    sut.write_text(f"name: broken {actor}\nactors: [{actor}]\nembedded: {{fault: {fault}}}\n")
    code, results = run(sut, tmp_path / "run", tags=tags)
    failed = {r.name: r.rule_ids for r in results if r.status == "failed"}
    assert code == 1 and failed == expected, [(r.name, r.message[-300:]) for r in results]


def test_archive_dropping_an_attribute_fails_the_unchanged_scenarios(tmp_path):
    sut = tmp_path / "sut.yaml"
    sut.write_text("name: Archive dropping Patient Birth Date\nactors: [Archive]\n"
                   "embedded: {archive_drops: PatientBirthDate}\n")
    code, results = run(sut, tmp_path / "run", tags="(ro2 or ro7) and not conformance")
    assert code == 1
    by_name = _statuses(results)
    assert all(s == "failed" for s in by_name.values()), by_name
    assert all(r.rule_ids == ("ARCHIVE-STORAGE-LEVEL-2",) for r in results)
    assert "PatientBirthDate" in results[0].message


def test_unreachable_sut_exits_2_within_its_timeout(tmp_path):
    port = free_port()
    sut = tmp_path / "sut.yaml"
    sut.write_text(f"actors: [Archive]\nnetwork: {{ae_title: VENDOR, host: 127.0.0.1, "
                   f"port: {port}}}\ntimeout: 5\n")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut), "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert time.monotonic() - start < 30
    assert f"VENDOR@127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()  # a run that could not start leaves no folder
    earlier = tmp_path / "earlier"  # nor does it wipe an earlier run's evidence
    earlier.mkdir()
    (earlier / "summary.json").write_text("{}")
    again = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut),
                            "--out", str(earlier)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and [p.name for p in earlier.iterdir()] == ["summary.json"]


def test_bad_sut_file_exits_2(tmp_path):
    sut = tmp_path / "sut.yaml"
    sut.write_text("actors: [Radiologist]\nembedded: {}\n")
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2 and "Radiologist" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sut.yaml"]  # no reports/run-…


def test_contourer_in_another_process_driven_by_a_trigger(tmp_path):
    """A SUT the harness only reaches through its trigger: here rtconform's own
    CLI in a separate process, as a vendor's script would be."""
    sut = tmp_path / "sut.yaml"
    sut.write_text(
        "name: Contourer in another process\nactors: [Contourer]\ntimeout: 120\n"
        f"trigger: {sys.executable} -m rtconform simulate contourer run --aec "
        "$RTCONFORM_ARCHIVE_AE $RTCONFORM_ARCHIVE_HOST $RTCONFORM_ARCHIVE_PORT --study "
        f"$RTCONFORM_STUDY_UID --out {tmp_path / 'vendor'}\n")
    code, results = run(sut, tmp_path / "run", tags="ro2 and not acts_on_input")
    assert (code, _statuses(results)) == (
        0, {"RO-2 The Contourer under test stores a conformant structure set": "passed"})


def test_file_exporter_as_the_sut(tmp_path):
    """An exporter that writes a folder: its structure set is checked as if sent;
    with a fault in it, the same scenario fails with the fault's rule."""
    from rtconform.phantom.faults import write_sample

    for fault, expected in ((None, "passed"), ("contour-offset-vector", "failed")):
        export = tmp_path / f"export-{fault}"
        write_sample(export, fault)
        sut = tmp_path / f"sut-{fault}.yaml"
        sut.write_text(f"name: exporter\nactors: [Contourer]\nexport_dir: {export}\n")
        code, results = run(sut, tmp_path / f"run-{fault}")
        ran = [r for r in results if r.status != "not applicable"]
        (result,) = ran  # RO-2 is the one storage transaction of a Contourer's export
        assert (result.transaction, result.status) == ("RO-2", expected), result.message[-500:]
        assert code == (1 if fault else 0)
        if fault:
            assert result.rule_ids == ("SS-CONTOUR-OFFSET",)
        # the retrieves and the acts on the harness's input are said not applicable
        assert len(results) - len(ran) >= 5
    from rtconform.report.model import build

    report, _, _ = build(tmp_path / "run-None")
    assert report["media"]["files"] == 64 and report["media"]["dicomdir"] is False
    # the report is built from the exported files: an annex of their IODs
    assert {i["iod"] for i in report["annex"]} >= {"RT Structure Set", "CT Image"}
    # the folder's equivalent of a failed C-STORE: an exported file cut short
    export = tmp_path / "export-cut"
    write_sample(export)
    ss = export / "RS_structure_set.dcm"
    ss.write_bytes(ss.read_bytes()[: ss.stat().st_size * 9 // 10])
    sut = tmp_path / "sut-cut.yaml"
    sut.write_text(f"name: exporter\nactors: [Contourer]\nexport_dir: {export}\n")
    _, results = run(sut, tmp_path / "run-cut", tags="ro2 and not sut_archive")
    (result,) = [r for r in results if r.status != "not applicable"]
    assert result.status == "failed" and "FILE-UNREADABLE" in result.rule_ids


def test_a_dose_displayer_that_does_not_retrieve_fails_its_scenarios(tmp_path):
    """The Dose Displayer scenarios of the IHE-RO test tool (DD1, DD2, DDE) can
    fail: a Dose Displayer that never retrieves the structure set or dose."""
    sut = tmp_path / "sut.yaml"
    sut.write_text("name: idle Dose Displayer\nactors: [Dose Displayer]\n"
                   "embedded: {idle: [RO-7, RO-10]}\n")
    code, results = run(sut, tmp_path / "run", tags="(ro7 or ro10) and not conformance")
    by_name = {r.name: r.status for r in results}
    assert code == 1 and by_name == {
        "The Dose Displayer under test retrieves a structure set": "failed",
        "The Dose Displayer under test retrieves the doses": "failed",
        "The Dose Displayer under test retrieves the limited plan and dose": "failed",
        "The Dose Displayer under test retrieves the uneven plan and dose": "failed"}
    assert all("retrieve statuses []" in r.message for r in results)


def test_the_embedded_default_passes_with_the_uneven_stimulus(tmp_path):
    code, results = run(None, tmp_path / "run", stimulus="uneven")
    failed = [(r.name, r.message[-300:]) for r in results if r.status != "passed"]
    assert code == 0 and not failed, failed
    assert len(results) > 100
    # every scenario says what it tried: no two share a name, in the results or in JUnit
    names = [r.name for r in results]
    assert len(set(names)) == len(names), [n for n in names if names.count(n) > 1]
    cases = [c.get("name") for c in ElementTree.parse(tmp_path / "run" / "junit.xml")
             .getroot().iter("testcase")]
    assert len(set(cases)) == len(cases) and not any("<" in c for c in cases)


def test_a_sut_named_like_the_harness_appears_in_its_report(tmp_path):
    """No AE title decides what is the harness: a vendor Archive called
    RTC_VENDOR (here rtconform's own Archive simulator in another process)
    is in its report with every association of the run."""
    from peers import free_port, running
    from rtconform.report.model import build

    port, receive = free_port(), free_port()
    sut = tmp_path / "sut.yaml"
    sut.write_text(f"name: Vendor archive\nactors: [Archive]\nnetwork: {{ae_title: RTC_VENDOR, "
                   f"host: 127.0.0.1, port: {port}}}\ntimeout: 30\n"
                   f"harness: {{receive_ae: HARNESS, receive_port: {receive}}}\n")
    cmd = [sys.executable, "-m", "rtconform", "simulate", "archive", "--aet", "RTC_VENDOR",
           "--port", str(port), "--store", str(tmp_path / "store"), "--move-dest",
           f"HARNESS=127.0.0.1:{receive}"]
    with running(cmd, port, tmp_path / "archive.log"):
        code, results = run(sut, tmp_path / "run", tags="ro2 and not negative")
    assert code == 0, [(r.name, r.message[-300:]) for r in results]
    report, _, _ = build(tmp_path / "run")
    peers = {p["ae_title"] for p in report["networking"]["policies"]["peers"]}
    assert peers == {"RTC_VENDOR"}
    log = (tmp_path / "run" / "associations.jsonl").read_text().splitlines()
    opened = {json.loads(line)["assoc"] for line in log if '"accepted"' in line}
    assert report["networking"]["policies"]["associations"] == len(opened) > 0


def test_the_embedded_default_run_folder_is_small_and_whole(tmp_path):
    """Objects are stored once by content (a scenario's store indexes them):
    the embedded default's run folder, a CI artifact, stays under 25 MB, and
    every object it received is still readable from it."""
    import os

    import pydicom

    from rtconform.report.model import stored_objects

    out = tmp_path / "run"
    code, results = run(None, out)
    failed = [(r.name, r.message[-1500:]) for r in results if r.status != "passed"]
    assert code == 0 and not failed, failed
    inodes = {}
    for root, _, files in os.walk(out):
        for name in files:
            st = os.stat(os.path.join(root, name))
            inodes[(st.st_dev, st.st_ino)] = st.st_blocks * 512  # as du counts
    assert sum(inodes.values()) < 25 * 1024 * 1024, sum(inodes.values())
    received = stored_objects(out, received_only=False)
    assert len(received) > 100  # distinct SOP instances
    for path in received.values():
        assert path.is_relative_to(out / "objects")
        pydicom.dcmread(path)


def test_an_engine_asked_for_that_cannot_run_fails_the_scenario(tmp_path, monkeypatch):
    """No verdict on the TRO rules alone when a standard engine was asked for:
    dicom-validator without a local standard fails the producer scenario."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/dicom-validator standard here
    code, results = run(None, tmp_path / "run", tags="ro2 and sut_contourer and not acts_on_input",
                        engines="dicom-validator")
    (result,) = results
    assert code == 1 and result.status == "failed"
    assert result.rule_ids == ("ENGINE-FAILED",) and "dicom-validator" in result.message


def test_a_contourer_that_does_not_refuse_a_broken_input_fails(tmp_path):
    """RO-7's negative scenario needs a sign of refusal: a lenient Contourer
    that takes a structure set without its images gives none."""
    name = "The Contourer under test is given a structure set whose images are missing"
    for lenient, expected in ((False, "passed"), (True, "failed")):
        sut = tmp_path / f"sut{lenient}.yaml"
        sut.write_text(f"name: Contourer\nactors: [Contourer]\n"
                       f"embedded: {{lenient: {str(lenient).lower()}}}\n")
        _, results = run(sut, tmp_path / f"run{lenient}", tags="ro7 and negative")
        (result,) = results
        assert (result.name, result.status) == (name, expected)
        if lenient:
            assert "gave no sign of refusing" in result.message


def test_a_find_answer_is_compared_with_what_was_stored():
    """The C-FIND check can fail: a wrong series, a wrong modality, nothing."""
    from pydicom.dataset import Dataset

    from rtconform.run.checks import find_problems

    def item(series, modality):
        ds = Dataset()
        ds.SeriesInstanceUID, ds.Modality, ds.StudyInstanceUID = series, modality, "1.2.3"
        return ds

    sent = [item("1.2.3.4", "RTPLAN")]
    assert find_problems([item("1.2.3.4", "RTPLAN")], sent, "RTPLAN", "SERIES") == []
    assert find_problems([], sent, "RTPLAN", "SERIES") == ["no RTPLAN match at SERIES level"]
    assert len(find_problems([item("1.2.3.5", "RTPLAN")], sent, "RTPLAN", "SERIES")) == 1
    assert len(find_problems([item("1.2.3.4", "CT")], sent, "RTPLAN", "SERIES")) == 1


def test_a_broken_statement_is_refused_before_any_association(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema: rtconform-statement/1\nproduct: {name: x}\n"
                      "application_entities: [{ae_title: A, sop_classes: [{uid: 1.2, "
                      "roles: [SERVER]}]}]\n")
    port = free_port()
    sut = tmp_path / "sut.yaml"
    sut.write_text(f"actors: [Archive]\nnetwork: {{ae_title: VENDOR, host: 127.0.0.1, "
                   f"port: {port}}}\ntimeout: 5\n")
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut),
                           "--statement", str(broken), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "broken.yaml" in proc.stderr and "SERVER" in proc.stderr
    assert not (tmp_path / "run").exists()  # nobody was called, no run folder left


def test_orthanc_that_does_not_know_the_harness_ae(tmp_path, shared_dir):
    """Orthanc as a hospital runs it, only known AEs may talk to it: without
    RTCONFORM in its DicomModalities the run stops at once, naming the AE
    Orthanc refused (with both known, every scenario passes: the session's
    orthanc_runs, tests/system/test_real_peers.py)."""
    from peers import orthanc

    with orthanc(tmp_path, shared_dir, known=("HARNESS",)) as sut:
        proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut),
                               "--out", str(tmp_path / "run")],
                              capture_output=True, text=True, timeout=900)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "rejected the association from RTCONFORM" in proc.stderr
    assert "A-ASSOCIATE-RJ" in proc.stderr


@pytest.mark.parametrize(("text", "said"), [
    ("actors: [Archive]\nnetwork: {ae_title: X, host: 127.0.0.1, port: 104, aet: Y}\n",
     "sut.yaml:2: network: Additional properties are not allowed ('aet' was unexpected)"),
    ("actors: [Archive]\nnetwork: {ae_title: X, host: 127.0.0.1, port: 104}\n"
     "harness: {recieve_port: 5}\n", "did you mean 'receive_port'?"),
    ("actors: [Archive]\nnetwork: {ae_title: X, host: 127.0.0.1, port: forty}\n",
     "sut.yaml:2: network.port: 'forty' is not of type 'integer'"),
    ("actors: [Radiologist]\nembedded: {}\n", "unknown IHE-RO TRO actor 'Radiologist'"),
    ("actors: [Archive]\nnetwork: {ae_title: THIS-AE-TITLE-IS-TOO-LONG, host: h, port: 1}\n",
     "network.ae_title"),
])
def test_malformed_sut_files_are_one_clear_line_each(tmp_path, text, said):
    sut = tmp_path / "sut.yaml"
    sut.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut), "--out",
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_tags_syntax_error_is_said_as_such(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--tags", "ro2 and",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "is not a valid expression" in proc.stderr


def test_ihe_ro_reference_data_as_an_export(tmp_path, reference_dir):
    """IHE-RO's own patient as a planning system's export: the storage
    scenarios fail only on its documented true defects (UIDs with root 3,
    which dciodvfy reports too, and dciodvfy's module findings); no TRO or
    BRTO rule raises a false alarm, and the retrieves are not applicable."""
    sut = tmp_path / "sut.yaml"
    sut.write_text("name: IHE-RO reference export\nactors: [Contourer, Geometric Planner, "
                   f"Dosimetric Planner]\nexport_dir: {reference_dir}\n")
    _, results = run(sut, tmp_path / "run")
    ran = {r.transaction: r for r in results if r.status != "not applicable"}
    assert set(ran) == {"RO-2", "RO-3", "RO-4", "RO-5"}
    for r in ran.values():
        assert set(r.rule_ids) <= {"UID-VALID", "DCIODVFY-ERROR"}, (r.name, r.rule_ids)
    findings = json.loads((tmp_path / "run" / "findings.json").read_text())
    rules = {f["rule_id"] for f in findings if f["severity"] == "error"}
    assert rules <= {"UID-VALID", "DCIODVFY-ERROR"}, rules
    # its report is built from the exported files: annex and pictures with a DVH
    from rtconform.report import model
    from rtconform.report.render import pictures

    report, received, redactor = model.build(tmp_path / "run")
    assert {i["iod"] for i in report["annex"]} >= {"RT Structure Set", "RT Plan", "RT Dose"}
    (picture_set,) = pictures(tmp_path / "run", received, redactor, [])
    assert picture_set["slices"] and picture_set["dvh"]  # planes through target, dose max
    assert all("axial z =" in s["caption"] for s in picture_set["slices"])


def test_redacted_runs_keep_identity_out_of_the_logs(tmp_path):
    """Query identifiers are evidence in the log; with --redact the patient's
    identity in them is masked (control: without it, the ID is there)."""
    from rtconform.phantom.patient import PATIENT_ID

    for redact in (False, True):
        out = tmp_path / f"run{redact}"
        code, _ = run(None, out, tags="conformance and sut_archive", redact=redact)
        assert code == 0
        log = (out / "associations.jsonl").read_text()
        assert ('"C-FIND-RQ"' in log) and ((PATIENT_ID in log) != redact)


def test_a_pytest_session_leaves_no_temporary_folders(tmp_path):
    """pytest on the features, without --rtconform-out, keeps nothing behind:
    neither its run folder nor the generated conformance-table features."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "features"), "-q",
                           "-p", "no:cacheprovider", "-k", "ro7 and not conformance",
                           "-n", "0"],  # the checkout's addopts would start xdist workers
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("rtconform-")] == []


def test_pytest_with_a_run_folder_keeps_it_in_one_session(tmp_path):
    """`pytest features/ --rtconform-out DIR` in a checkout whose addopts start
    xdist workers: the run folder is one session's (one collection, every
    scenario's line), not several workers' writing over each other."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-p",
                           "no:cacheprovider", "-k", "ro7 and not conformance", "-n", "2",
                           "--rtconform-out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:]
    events = [json.loads(line) for line in (out / "progress.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events].count("collected") == 1
    assert sum(e["event"] == "scenario" and e["status"] == "passed" for e in events) == 5
    assert "bringing up nodes" not in proc.stdout


def test_orthanc_over_dicom_tls(tmp_path, shared_dir):
    """Orthanc with DicomTlsEnabled, mutual authentication, as the Archive under
    test: the SUT file's tls: block makes every association of the harness
    (its calls, and the C-MOVE results Orthanc sends to HARNESS) TLS, every
    Archive scenario passes, and the report's security section says so."""
    from peers import make_pki

    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    require(Path(executable).is_file(), "Orthanc not installed (apt-get install orthanc)")
    pki = make_pki(tmp_path / "pki")
    dicom_port, http_port, move_port = free_port(), free_port(), free_port()
    store = tmp_path / "store"
    store.mkdir()
    config = json.loads(fill_template(
        shared_dir / "peers" / "orthanc.json", tmp_path / "template.json", STORE=store,
        DICOM_PORT=dicom_port, HTTP_PORT=http_port, MOVE_PORT=move_port).read_text())
    config.update({"DicomTlsEnabled": True, "DicomTlsCertificate": str(pki["server"]),
                   "DicomTlsPrivateKey": str(pki["server_key"]),
                   "DicomTlsTrustedCertificates": str(pki["ca"]),
                   "DicomTlsRemoteCertificateRequired": True,
                   "DicomModalities": {"harness": {"AET": "HARNESS", "Host": "127.0.0.1",
                                                   "Port": move_port, "UseDicomTls": True}}})
    (tmp_path / "orthanc.json").write_text(json.dumps(config))
    sut = tmp_path / "sut.yaml"
    sut.write_text(f"name: Orthanc over TLS\nactors: [Archive]\nnetwork: {{ae_title: ORTHANC, "
                   f"host: 127.0.0.1, port: {dicom_port}}}\ntimeout: 30\n"
                   f"harness: {{receive_ae: HARNESS, receive_port: {move_port}}}\n"
                   f"tls: {{cert: {pki['client']}, key: {pki['client_key']}, "
                   f"ca: {pki['ca']}}}\n")
    # C-STORE, C-FIND, C-GET and C-MOVE (its results sent back over TLS); the
    # plain Orthanc test above runs all 17 Archive scenarios
    with running([executable, str(tmp_path / "orthanc.json")], dicom_port,
                 tmp_path / "orthanc.log"):
        code, results = run(sut, tmp_path / "run", tags="ro10")
    failed = [(r.name, r.message[-300:]) for r in results if r.status != "passed"]
    assert code == 0 and not failed, failed
    assert any("C-MOVE" in r.name for r in results) and any("C-GET" in r.name for r in results)
    from rtconform.report.model import build

    model, _, _ = build(tmp_path / "run")
    assert model["security"]["tls"] and "TLSv1." in model["security"]["text"], model["security"]
    plain = [r for r in RunFolder(tmp_path / "run").associations() if r.contexts and not r.tls]
    assert plain == []  # not one association in the clear


def test_a_failure_reads_as_evidence_everywhere(tmp_path):
    """The README's broken Contourer: console, JUnit, cucumber and the HTML
    report say the rule id, the AEs of the association and the status
    meanings — text a reviewer can act on — and no Python traceback."""
    sut = tmp_path / "sut.yaml"
    sut.write_text("name: Contourer emitting a contour off its plane\nactors: [Contourer]\n"
                   "embedded: {fault: contour-off-plane}\n")
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut), "--out",
                           str(out), "--tags", "ro2 and not acts_on_input"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    junit = ElementTree.parse(out / "junit.xml").getroot()
    (failure,) = junit.iter("failure")
    # the whole evidence, whatever the pytest version abbreviates (9.2 cuts the attribute)
    assert failure.get("message") == failure.text
    cucumber = json.dumps(json.loads((out / "cucumber.json").read_text()))
    html = (out / "report.html").read_text()
    for where, text in (("console", proc.stdout), ("junit", failure.get("message")),
                        ("cucumber", cucumber), ("html", html)):
        assert "SS-CONTOUR-ON-PLANE" in text, where
        assert "CONTOURER → RTCONFORM" in text or "CONTOURER &#8594; RTCONFORM" in text \
            or "CONTOURER \\u2192 RTCONFORM" in text, where
        assert "0x0000 Success" in text, where
        assert "Traceback" not in text and "def received_pass" not in text, where

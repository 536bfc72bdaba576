"""The command line as a user runs it: exit codes, JSON, redaction, waivers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from rtconform.cli import main
from rtconform.phantom.faults import FAULTS
from rtconform.phantom.patient import PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME


def run(*args: str, check: int | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "rtconform", *args], capture_output=True,
                          text=True, timeout=300)
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def test_sample_then_validate_is_clean(tmp_path):
    run("sample", str(tmp_path / "p"), check=0)
    proc = run("validate", str(tmp_path / "p"), "--json", str(tmp_path / "out.json"), check=0)
    assert "no errors" in proc.stdout
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["counts"]["error"] == 0 and report["files"] == 64
    assert report["summary"]["frames_of_reference"] == 1


def test_list_faults_names_them_all():
    proc = run("sample", "--list-faults", check=0)
    for name in FAULTS:
        assert name in proc.stdout


@pytest.mark.parametrize("name", ["contour-off-plane", "truncated-file", "invalid-uid"])
def test_fault_fails_with_its_rule_in_json(tmp_path, name):
    run("sample", str(tmp_path / "f"), "--fault", name, check=0)
    out = tmp_path / "out.json"
    run("validate", str(tmp_path / "f"), "--json", str(out), check=1)
    rules = {f["rule_id"] for f in json.loads(out.read_text())["findings"]}
    assert FAULTS[name].rule_ids <= rules


@pytest.mark.parametrize("name", [
    n for n, f in FAULTS.items() if not f.scenario_only
    # the beam-type plans' faults: each in tests/rules/test_rules.py, one here
    and (not f.techniques or n == "tppc-vmat-weights-down")])
def test_every_fault_exits_1_with_its_rule(tmp_path, capsys, name):
    """Each fault (one test each, so that xdist spreads them) fires its rules
    and exits 1 when one of them is an error; the scenario-only faults show only
    against the SUT's input: tests/run/test_run.py."""
    from rtconform.rules.profiles import rules_of

    fault = FAULTS[name]
    folder, out = tmp_path / name, tmp_path / f"{name}.json"
    severities = {r.id: r.severity for r in rules_of(fault.profile)}
    errors = any(severities[r] == "error" for r in fault.rule_ids)
    assert main(["sample", str(folder), "--fault", name]) == 0
    complete = ["--complete"] if fault.complete else []
    # one job: the faults, not the worker pool (tests/validate/test_scale.py), are under test here
    assert main(["validate", str(folder), "--engines", "tro", "--profile", fault.profile,
                 *complete, "--json", str(out), "-q", "--jobs", "1"]) == \
        (1 if errors else 0), name
    rules = {f["rule_id"] for f in json.loads(out.read_text())["findings"]}
    assert fault.rule_ids <= rules, name
    capsys.readouterr()


def test_truncated_and_text_files_are_named_without_traceback(tmp_path, sample_dir):
    data = (sample_dir / "RS_structure_set.dcm").read_bytes()
    (tmp_path / "half.dcm").write_bytes(data[: len(data) // 2])
    (tmp_path / "readme.txt").write_text("not dicom")
    proc = run("validate", str(tmp_path), "--json", str(tmp_path / "o.json"), "--max-errors",
               "10", check=1)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "half.dcm" in proc.stdout and "readme.txt" in proc.stdout
    findings = json.loads((tmp_path / "o.json").read_text())["findings"]
    named = {f["rule_id"]: f["file"] for f in findings
             if f["rule_id"] in ("FILE-UNREADABLE", "FILE-NOT-DICOM")}
    # the broken DICOM is an error; a text file beside it is listed, not failed
    assert named == {"FILE-UNREADABLE": str(tmp_path / "half.dcm"),
                     "FILE-NOT-DICOM": str(tmp_path / "readme.txt")}


def test_redact_keeps_patient_identity_out(tmp_path, capsys):
    folder = tmp_path / PATIENT_ID  # exporters name folders after patients
    assert main(["sample", str(folder), "--fault", "patient-identity-mismatch"]) == 0
    capsys.readouterr()
    out = tmp_path / "out.json"
    assert main(["validate", str(folder), "--redact", "--json", str(out),
                 "--engines", "tro"]) == 1
    console = capsys.readouterr().out
    text = console + out.read_text()
    assert "[REDACTED]" in text
    for secret in (PATIENT_ID, PATIENT_BIRTH_DATE, "19800101", *PATIENT_NAME.split("^")):
        assert secret not in text, secret
    # without --redact the same run does show them: the test can fail
    assert main(["validate", str(folder), "--json", str(out), "--engines", "tro"]) == 1
    assert PATIENT_BIRTH_DATE in out.read_text()


def test_waivers(tmp_path, capsys):
    folder = tmp_path / "p"
    main(["sample", str(folder), "--fault", "contour-off-plane"])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("- rule: SS-CONTOUR-ON-PLANE\n  reason: known exporter rounding, #42\n"
                       "  file: '*/RS_*.dcm'\n  expires: 2999-01-01\n")
    out = tmp_path / "o.json"
    args = ["validate", str(folder), "--engines", "tro", "--json", str(out),
            "--waivers", str(waivers)]
    assert main(args) == 0
    (finding,) = json.loads(out.read_text())["findings"]
    assert finding["waived"] and finding["waiver_reason"].startswith("known exporter")

    waivers.write_text("- rule: SS-CONTOUR-ON-PLANE\n  reason: r\n  expires: 2001-01-01\n"
                       "- rule: DOSE-UNITS-TYPE\n  reason: unused one\n")
    assert main(args) == 1
    found = json.loads(out.read_text())["findings"]
    rules = sorted(f["rule_id"] for f in found)
    assert rules == ["SS-CONTOUR-ON-PLANE", "WAIVER-EXPIRED", "WAIVER-UNUSED"]
    unused = next(f["message"] for f in found if f["rule_id"] == "WAIVER-UNUSED")
    assert f"waiver {waivers}:4 (DOSE-UNITS-TYPE)" in unused  # file:line of the entry

    waivers.write_text("- rule: X\n")  # no reason
    assert main(args) == 2
    assert f"{waivers}:1: [0]: 'reason' is a required property" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert main(["validate", str(tmp_path), "--engines", "nonsense"]) == 2
    assert main(["sample", str(tmp_path), "--fault", "nonsense"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_help_has_examples():
    for command in ("sample", "validate", "rules"):
        proc = run(command, "--help", check=0)
        assert "examples:" in proc.stdout and f"rtconform {command}" in proc.stdout


def test_rules_lists_ids_and_sources():
    proc = run("rules", "--json", check=0)
    rules = json.loads(proc.stdout)
    assert len(rules) > 30
    assert all(r["id"] and r["source"] and r["severity"] for r in rules)


def test_validate_with_local_standard(tmp_path, capsys):
    from mini_standard import write_mini_standard

    main(["sample", str(tmp_path / "p")])
    standard = write_mini_standard(tmp_path / "std")
    out = tmp_path / "o.json"
    assert main(["validate", str(tmp_path / "p"), "--engines", "tro,dicom-validator",
                 "--standard-path", str(standard), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["engines"]["dicom-validator"] == "ran"
    assert {f["rule_id"] for f in report["findings"]} == {"DV-UNKNOWN-SOP-CLASS"}
    capsys.readouterr()


def test_a_fifo_and_markup_in_names_neither_hang_nor_crash(tmp_path, sample_dir):
    """A FIFO named like a DICOM file is not read (it would block forever);
    '[/]' in a path is data, not console markup."""
    import os
    import shutil

    folder = tmp_path / "in[" / "]put"  # the path holds '[/]'
    folder.mkdir(parents=True)
    shutil.copy(sample_dir / "CT_001.dcm", folder / "CT_001.dcm")
    os.mkfifo(folder / "x.dcm")
    (folder / "odd[b]name.dcm").write_bytes(b"not dicom at all")
    proc = subprocess.run([sys.executable, "-m", "rtconform", "validate", str(folder),
                           "--engines", "tro", "--json", str(tmp_path / "o.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    findings = json.loads((tmp_path / "o.json").read_text())["findings"]
    unreadable = {Path(f["file"]).name: f["message"] for f in findings
                  if f["rule_id"] == "FILE-UNREADABLE"}
    assert "not a regular file" in unreadable["x.dcm"] and "odd[b]name.dcm" in unreadable
    assert "in[/]put" in proc.stdout and "odd[b]name.dcm" in proc.stdout
    missing = subprocess.run([sys.executable, "-m", "rtconform", "validate", "nonexist[/]"],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "nonexist[/]" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_wildcard_matching_is_the_standard_one():
    """PS3.4 wildcards, checked against fnmatch on every small case (and a
    pattern that made a regex backtrack for seconds answers at once)."""
    import fnmatch
    import itertools

    from rtconform.actors.query import wildcard_match

    for n in range(5):
        for pattern in map("".join, itertools.product("ab*?", repeat=n)):
            for m in range(5):
                for value in map("".join, itertools.product("ab", repeat=m)):
                    assert wildcard_match(pattern, value) == fnmatch.fnmatchcase(value, pattern)
    assert not wildcard_match("*a" * 7 + "*b", "a" * 64)


def test_ctrl_c_says_so_and_keeps_the_findings_so_far(tmp_path, sample_dir):
    """SIGINT during a long validate: exit 2, 'interrupted after N of M files'
    on stderr, and the JSON of the files done so far (marked interrupted)."""
    import shutil
    import signal
    import time

    from helpers import default_sigint

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1500):
        shutil.copy(sample_dir / "CT_001.dcm", folder / f"CT_{i:04d}.dcm")
    out, state = tmp_path / "partial.json", tmp_path / "state" / "validate-state.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "rtconform", "validate", str(folder),
                             "--json", str(out), "--out", str(state.parent)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    # interrupted once some files are done (not after a fixed time: the suite runs
    # beside other work, in parallel workers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not (
            state.is_file() and state.read_text().count("\n") >= 2):
        time.sleep(0.1)
    assert proc.poll() is None, "validate ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    assert "interrupted after" in stderr and "Traceback" not in stderr
    report = json.loads(out.read_text())
    assert report["interrupted"] is True and 0 < report["files"] < 1500
    assert report["exit_code"] == proc.returncode  # the JSON says what the process did


def test_require_engines_gates_on_checks_that_did_not_happen(tmp_path, sample_dir):
    out = tmp_path / "o.json"
    base = ["validate", str(sample_dir), "--json", str(out)]
    assert main([*base, "--require-engines", "dciodvfy"]) == 0  # it ran on every file
    assert main([*base, "--engines", "tro", "--require-engines", "dciodvfy"]) == 1
    (finding,) = [f for f in json.loads(out.read_text())["findings"]
                  if f["rule_id"] == "ENGINE-REQUIRED"]
    assert "dciodvfy is required" in finding["message"]
    # dicom-validator without a standard folder: skipped, so the gate fails
    assert main([*base, "--engines", "tro,dicom-validator", "--standard-path",
                 str(tmp_path / "none"), "--require-engines", "dicom-validator"]) == 1
    assert json.loads(out.read_text())["format"] == "rtconform-findings/1"


def test_an_export_tree_with_documents_is_not_failed_for_them(tmp_path, sample_dir):
    """A batch exporter's patient tree holds PDFs, XML and logs beside the
    DICOM: listed as FILE-NOT-DICOM (info, with their type), never an error;
    a file named .dcm that is not DICOM still is one."""
    import shutil

    tree = tmp_path / "Doe_John_MRN1"
    shutil.copytree(sample_dir, tree / "DICOM")
    (tree / "Documents").mkdir()
    (tree / "Documents" / "plan report.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n")
    (tree / "Plan_Files").mkdir()
    (tree / "Plan_Files" / "plan.xml").write_text("<?xml version='1.0'?><plan/>")
    (tree / "export.log").write_text("exported 64 files\n")
    out = tmp_path / "o.json"
    assert main(["validate", str(tree), "--engines", "tro", "--json", str(out)]) == 0
    listed = {Path(f["file"]).name: (f["severity"], f["message"])
              for f in json.loads(out.read_text())["findings"]
              if f["rule_id"] == "FILE-NOT-DICOM"}
    assert listed == {
        "plan report.pdf": ("info", "not a DICOM file (PDF document): listed, not checked"),
        "plan.xml": ("info", "not a DICOM file (XML document): listed, not checked"),
        "export.log": ("info", "not a DICOM file (text): listed, not checked")}
    (tree / "DICOM" / "CT_999.dcm").write_bytes(b"%PDF-1.7 in disguise")
    assert main(["validate", str(tree), "--engines", "tro", "--json", str(out)]) == 1


def test_a_waiver_matches_the_tag_path_the_console_shows(tmp_path):
    from rtconform.findings import Finding, Severity
    from rtconform.waivers import Waiver

    finding = Finding("SS-CONTOUR-ON-PLANE", Severity.ERROR, "contour lies 1 mm off its plane",
                      "src", "/x/RS.dcm", "1.2.3", "ROIContourSequence[1].ContourSequence[3]")
    assert Waiver("SS-CONTOUR-ON-PLANE", "r", message="ROIContourSequence[1]").matches(finding)
    assert not Waiver("SS-CONTOUR-ON-PLANE", "r", message="ROIContourSequence[2]").matches(
        finding)


def test_quiet_prints_the_verdict_and_each_error_rule_with_its_count(tmp_path, capsys):
    """-q, for a CI log: the verdict line, then one line per error rule id with
    its count; the notes (an engine that did not run) only with -v."""
    from rtconform.validate import ValidationResult

    assert main(["sample", str(tmp_path / "bad"), "--fault", "contour-off-plane"]) == 0
    capsys.readouterr()
    args = ["validate", str(tmp_path / "bad"), "--engines", "tro,dicom-validator",
            "--standard-path", str(tmp_path / "no-standard"), "--json",
            str(tmp_path / "f.json"), "-q", "--jobs", "1"]
    assert main(args) == 1
    lines = capsys.readouterr().out.splitlines()
    errors = Counter(f["rule_id"] for f in json.loads((tmp_path / "f.json").read_text())
                     ["findings"] if f["severity"] == "error" and not f.get("waived"))
    assert lines[0].startswith(f"NOT CONFORMANT: {sum(errors.values())} errors")
    assert sorted(lines[1:]) == sorted(f"  {rule}: {n} error{'s' if n > 1 else ''}"
                                       for rule, n in errors.items())
    assert main([*args, "-v"]) == 1
    verbose = capsys.readouterr().out
    assert "note dicom-validator" in verbose and len(verbose.splitlines()) > len(lines)
    # the JSON written after Ctrl-C says the exit code the process ends with
    from rtconform.dicom.graph import ObjectGraph

    partial = ValidationResult([], ObjectGraph(), 3, {}, interrupted=True)
    assert partial.to_json([tmp_path], False)["exit_code"] == 2

"""validate at scale: a process pool (--jobs), a Dask cluster (--scheduler),
an interrupted run resumed (--resume), a worker that dies. Every run goes
through the command line, with real dciodvfy processes; a stand-in placed
before it on PATH counts the files it was asked to check (and, in one test,
kills the worker that called it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import default_sigint, require_module, require_program
from rtconform.phantom.faults import write_sample

TIMEOUT = 300
FILES = 130  # the tree's files, 128 of them DICOM


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """Two patients (one with a contour off its plane), an exporter's log and
    notes: 130 files, enough for the process pool to be used. The notes come
    first, so a fresh worker's first file is not DICOM (a worker once had no
    rule registered for that)."""
    root = tmp_path_factory.mktemp("tree") / "export"
    write_sample(root / "clean")
    (root / "0-notes.txt").write_text("export of 2 patients\n")
    write_sample(root / "faulty", "contour-off-plane", uid_root="1.2.826.0.1.3680043.10.543.")
    (root / "faulty" / "export.log").write_text("exported 65 objects\n")
    return root


def validate(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtconform", "validate", *args],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, **(env or {})}, **kwargs)


def findings(path: Path) -> list[dict]:
    return json.loads(path.read_text())["findings"]


@pytest.fixture(scope="module")
def one_job(tree, tmp_path_factory) -> list[dict]:
    """The reference: one file at a time."""
    require_program("dciodvfy", "dicom3tools")
    out = tmp_path_factory.mktemp("one") / "findings.json"
    proc = validate(str(tree), "--jobs", "1", "--engines", "tro,dciodvfy", "--json", str(out))
    assert proc.returncode == 1, proc.stderr  # the faulty patient
    found = findings(out)
    assert {f["rule_id"] for f in found if f["severity"] == "error"} == {"SS-CONTOUR-ON-PLANE"}
    assert any(f["rule_id"] == "FILE-NOT-DICOM" for f in found)
    return found


@pytest.fixture
def counting_dciodvfy(tmp_path) -> tuple[dict, Path]:
    """A `dciodvfy` before the real one on PATH that logs each file it is given."""
    real = require_program("dciodvfy", "dicom3tools")
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    shim = bin_dir / "dciodvfy"
    shim.write_text(f'#!/bin/sh\necho "$2" >> {calls}\necho $PPID >> {calls}.pids\n'
                    f'case "$2" in *{os.sep}clean{os.sep}CT_010.dcm) '
                    f'[ -n "$KILL_WORKER" ] && kill -9 $PPID ;; esac\n'
                    f'[ -n "$SLOW" ] && sleep 0.05\nexec {real} "$@"\n')
    shim.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, calls


def test_two_jobs_find_what_one_finds(tree, one_job, tmp_path, counting_dciodvfy):
    env, calls = counting_dciodvfy
    out = tmp_path / "findings.json"
    proc = validate(str(tree), "--jobs", "2", "--engines", "tro,dciodvfy", "--json", str(out),
                    env=env)
    assert proc.returncode == 1, proc.stderr
    assert findings(out) == one_job
    assert len(calls.read_text().split()) == 128  # every DICOM file, once


def test_a_dask_cluster_finds_what_one_job_finds(tree, one_job, tmp_path, counting_dciodvfy):
    distributed = require_module("distributed", "distributed")
    env, calls = counting_dciodvfy
    out = tmp_path / "findings.json"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        proc = validate(str(tree), "--scheduler", cluster.scheduler_address, "--engines",
                        "tro,dciodvfy", "--json", str(out), env=env)
        workers = set(client.run(os.getpid).values())
    assert proc.returncode == 1, proc.stderr
    assert findings(out) == one_job
    # the files were checked by the cluster's two workers, both of them
    callers = Path(f"{calls}.pids").read_text().split()
    assert len(callers) == 128 and {int(c) for c in callers} == workers, workers


def test_interrupted_then_resumed_checks_each_file_once(tree, one_job, tmp_path,
                                                        counting_dciodvfy):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it)
    leaves the results so far; --resume checks only the rest, and the
    findings are those of an uninterrupted run."""
    env, calls = counting_dciodvfy
    out = tmp_path / "run"
    state = out / "validate-state.jsonl"
    args = [str(tree), "--jobs", "2", "--engines", "tro,dciodvfy", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "rtconform", "validate", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env, "SLOW": "1"},  # ≥ 3 s: time to stop it
                            start_new_session=True, preexec_fn=default_sigint)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        if state.is_file() and len(state.read_text().splitlines()) > 20:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the validation ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 2, err
    assert "interrupted after" in err and "--resume" in err and "Traceback" not in err, err
    partial = json.loads((out / "findings.json").read_text())
    assert partial["interrupted"] is True and 0 < partial["files"] < FILES
    kept = len(state.read_text().splitlines()) - 1  # a header line, then one per file
    assert not [f for f in partial["findings"] if f["rule_id"] == "ENGINE-FAILED"]
    assert oct(state.stat().st_mode & 0o777) == "0o600"  # unredacted findings inside

    calls.write_text("")
    proc = validate(*args, "--resume", env=env)
    assert proc.returncode == 1, proc.stderr
    assert f"resumed: {kept} file(s) kept from the earlier run, {FILES - kept} checked" \
        in proc.stdout
    checked = calls.read_text().split()
    assert len(checked) == len(set(checked)) <= FILES - kept
    assert findings(out / "findings.json") == one_job

    # a file changed since is checked again; nothing else is
    os.utime(tree / "clean" / "CT_005.dcm")
    calls.write_text("")
    proc = validate(*args, "--resume", env=env)
    assert proc.returncode == 1, proc.stderr
    assert calls.read_text().split() == [str(tree / "clean" / "CT_005.dcm")]
    # other settings: nothing is reused
    proc = validate(*args[:-2], "--out", str(out), "--resume", "--profile", "brto", env=env)
    assert "resumed: 0 file(s) kept" in proc.stdout and "other settings" in proc.stdout


def test_a_worker_that_dies_costs_one_file(tree, tmp_path, counting_dciodvfy):
    """The stand-in kills the worker process checking clean/CT_010.dcm: that
    file is reported, every other file is still checked."""
    env, calls = counting_dciodvfy
    out = tmp_path / "findings.json"
    proc = validate(str(tree), "--jobs", "2", "--engines", "tro,dciodvfy", "--json", str(out),
                    env={**env, "KILL_WORKER": "1"})
    assert proc.returncode == 1, proc.stderr
    report = json.loads(out.read_text())
    assert report["files"] == FILES
    (died,) = [f for f in report["findings"] if f["rule_id"] == "FILE-UNREADABLE"]
    assert died["file"].endswith("clean/CT_010.dcm") and "worker process" in died["message"]
    assert set(calls.read_text().split()) >= {str(p) for p in tree.rglob("*.dcm")}


@pytest.mark.parametrize("args, message", [
    (["--resume"], "--resume needs --out DIR"),
    (["--jobs", "0"], "--jobs must be 1 or more"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    (["--scheduler", "not-an-address"], "expected tcp://HOST:PORT"),
])
def test_usage_errors_exit_2(sample_dir, args, message):
    proc = validate(str(sample_dir), *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_worker_processes_read_as_the_command_does(tmp_path):
    """An invalid UID is a UID-VALID finding, not a pydicom warning printed by
    each worker process (the reading policy is per process)."""
    write_sample(tmp_path / "p", "invalid-uid")
    proc = validate(str(tmp_path / "p"), "--jobs", "2", "--engines", "tro")
    assert proc.returncode == 1 and "UID-VALID" in proc.stdout, proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def multi_valued_name(tmp_path_factory) -> Path:
    """The synthetic patient with a Patient Name of two values in its structure
    set: legal-looking, and a pydicom dataset holding it cannot be pickled."""
    import pydicom

    root = tmp_path_factory.mktemp("pn") / "p"
    write_sample(root)
    path = root / "RS_structure_set.dcm"
    ds = pydicom.dcmread(path)
    ds.PatientName = "A^B\\C^D"
    ds.save_as(path)
    return root


def test_a_multi_valued_patient_name_crosses_every_executor(multi_valued_name, tmp_path):
    """Workers hand back plain data: --jobs 2, a Dask cluster and a stimulus
    (--given) holding the same file all give the findings of --jobs 1."""
    distributed = require_module("distributed", "distributed")
    args = [str(multi_valued_name), "--engines", "tro", "--profile", "brto",
            "--given", str(multi_valued_name)]
    one = tmp_path / "one.json"
    proc = validate(*args, "--jobs", "1", "--json", str(one))
    assert proc.returncode in (0, 1), proc.stderr
    expected = findings(one)
    two = tmp_path / "two.json"
    proc = validate(*args, "--jobs", "2", "--json", str(two))
    assert proc.returncode in (0, 1) and "internal error" not in proc.stderr, proc.stderr
    assert findings(two) == expected
    dask = tmp_path / "dask.json"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        proc = validate(*args, "--scheduler", cluster.scheduler_address, "--json", str(dask))
    assert proc.returncode in (0, 1) and "internal error" not in proc.stderr, proc.stderr
    assert findings(dask) == expected


def test_the_resume_state_is_checked_not_trusted(sample_dir, tmp_path, capsys):
    """A finding forged into validate-state.jsonl, and a line of 100,000
    nested brackets: on --resume neither is believed nor crashes the command;
    their files are checked again (issue 23 item 7)."""
    from rtconform.cli import main

    files = tmp_path / "files"
    files.mkdir()
    for name in ("CT_001.dcm", "CT_002.dcm", "RS_structure_set.dcm"):
        (files / name).write_bytes((sample_dir / name).read_bytes())
    out = tmp_path / "out"
    args = ["validate", str(files), "--engines", "tro", "--jobs", "1", "--out", str(out)]
    assert main(args) == 0
    state = out / "validate-state.jsonl"
    key = out / ".validate-state.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    lines = state.read_text().splitlines()
    forged = json.loads(lines[1].partition(" ")[2])
    forged["findings"] = [{"rule_id": "FORGED", "severity": "error", "message": "not real"}]
    lines[1] = "0" * 64 + " " + json.dumps(forged)  # a hash the forger cannot make
    lines.append("[" * 100_000)
    state.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0  # the forged error is not reported
    said = capsys.readouterr()
    assert "resumed: 2 file(s) kept" in said.out and "failed their integrity check" in said.out
    report = json.loads((out / "findings.json").read_text())
    assert not [f for f in report["findings"] if f["rule_id"] == "FORGED"]
    assert "internal error" not in said.err


def one_contour_structure_set(folder: Path, points: int) -> Path:
    """The synthetic structure set with one contour of `points` points, and two CTs."""
    from rtconform.dicom.mutations import long_contour

    write_sample(folder)
    for path in folder.glob("*.dcm"):
        if not path.name.startswith(("RS", "CT_001", "CT_002")):
            path.unlink()
    path = folder / "RS_structure_set.dcm"
    path.write_bytes(long_contour(path.read_bytes(), points).data)
    return path


def test_contour_data_is_decoded_as_an_array(tmp_path):
    """A structure set whose one contour holds 100,000 points (2.5 MB): the
    rules' Python allocations peak below 10x the file, where three hundred
    thousand DSfloat objects took about 50x (issue 23 item 8; the 20 MB case
    is in benchmarks/hostile_bench.py)."""
    import tracemalloc

    from helpers import tro_findings

    path = one_contour_structure_set(tmp_path / "p", 100_000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        findings = tro_findings(tmp_path / "p", profile="brto")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * size, f"peak {peak / size:.1f}x the file"
    by_rule = {f.rule_id for f in findings if f.severity == "error"}
    assert "SS-CONTOUR-POINT-COUNT" not in by_rule and "SS-CONTOUR-ON-PLANE" not in by_rule
    assert "BRTO-SS-CONTOUR-DATA-LENGTH" in by_rule  # it is still measured, as encoded

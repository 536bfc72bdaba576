"""An installed rtconform (not an editable checkout) runs its scenarios: the
Gherkin features and reference statements ship in the wheel, and the pytest
plugin comes in through its entry point."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from helpers import ROOT
from peers import free_port
from wheelenv import closure, declared, make_venv


def test_the_package_list_is_complete():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(ROOT / "src"))
    assert set(config["packages"]) == found | {"rtconform.features", "rtconform.conformance"}
    assert config["package-dir"]["rtconform.features"] == "features"


@pytest.mark.xdist_group("wheel")
def test_a_wheel_runs_scenarios_outside_the_checkout(tmp_path, rtconform_wheel):
    """Installed as a user installs it: the wheel, with what it declares and
    nothing else (a dependency used but not declared fails here)."""
    env_dir = make_venv(tmp_path / "venv", rtconform_wheel)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index",
                              str(rtconform_wheel)],
                             capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stderr[-2000:]
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True,
                           timeout=120, check=False)
    assert check.returncode == 0, check.stdout[-2000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(python), "-c", "import rtconform; print(rtconform.__file__)"],
                           cwd=empty, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(env_dir)), where
    run = subprocess.run([str(env_dir / "bin" / "rtconform"), "run", "--tags",
                          "ro7 and not conformance", "--out", str(empty / "run")], cwd=empty,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "5 passed, 0 failed" in run.stdout
    assert "site-packages/rtconform/features" in (empty / "run" / "junit.xml").read_text() or \
        (empty / "run" / "cucumber.json").is_file()
    coverage = subprocess.run([str(env_dir / "bin" / "rtconform"), "rules", "--coverage"],
                              cwd=empty, capture_output=True, text=True, check=False)
    assert coverage.stdout.splitlines()[-1].startswith("289 rows:")
    tppc = subprocess.run([str(env_dir / "bin" / "rtconform"), "rules", "--coverage", "--profile",
                           "tppc"], cwd=empty, capture_output=True, text=True, check=False)
    assert tppc.stdout.splitlines()[-1].startswith("333 rows:"), tppc.stderr  # found by entry point
    _shipped_statements_by_name(env_dir / "bin" / "rtconform", empty, tmp_path)
    assert sorted(p.name for p in empty.iterdir()) == ["run"]  # nothing else left behind


def _shipped_statements_by_name(rtconform: Path, empty: Path, tmp_path: Path) -> None:
    """From a folder that holds no statement: the packaged ones are listed and
    used by name; a run that cannot start leaves no run folder."""
    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(rtconform), *args], cwd=empty, capture_output=True,
                              text=True, timeout=120, check=False)

    listed = call("statement", "list")
    assert listed.returncode == 0, listed.stderr
    shipped = sorted(p.stem for p in (ROOT / "conformance").glob("*.yaml"))
    reference = {"brainlab-rt-elements", "dcmtk-dcmqrscp", "orthanc", "rtconform-reference"}
    assert reference <= set(shipped)
    assert [line.split()[0] for line in listed.stdout.splitlines()[:len(shipped)]] == shipped
    assert "site-packages/rtconform/conformance/orthanc.yaml" in listed.stdout
    check = call("statement", "check", "orthanc")
    assert check.returncode == 0 and "valid rtconform-statement/1" in check.stdout, check.stderr
    verify = call("verify-statement", "rtconform-reference", str(empty / "run"))
    assert verify.returncode == 0 and "differences between claim and behaviour" in verify.stdout, \
        verify.stderr
    compare = call("compare", "rtconform-reference", "orthanc", "--out", str(tmp_path / "cmp"))
    assert compare.returncode in (0, 1) and (tmp_path / "cmp" / "compare.json").is_file(), \
        compare.stderr
    sut = tmp_path / "sut.yaml"  # an Archive nobody runs: the run cannot start
    sut.write_text(f"name: nobody\nactors: [Archive]\nnetwork: {{ae_title: NOBODY, host: "
                   f"127.0.0.1, port: {free_port()}}}\ntimeout: 2\n")
    unreached = call("run", "--sut", str(sut), "--statement", "orthanc", "--out", "never")
    assert unreached.returncode == 2, unreached.stderr
    assert "not reached" in unreached.stderr  # the statement was read: the SUT was tried
    unknown = call("run", "--sut", str(sut), "--statement", "no-such", "--out", "never")
    assert unknown.returncode == 2 and "orthanc" in unknown.stderr, unknown.stderr
    assert not (empty / "never").exists()


@pytest.mark.xdist_group("wheel")
def test_an_undeclared_dependency_is_not_in_the_venv(rtconform_wheel):
    """The venv above sees only declared distributions: one rtconform does not
    declare (hypothesis, a test need) is not among them, declared ones are."""
    names = set(closure(declared(rtconform_wheel)))
    assert {"pydicom", "pynetdicom", "rich", "pytest-bdd", "pyyaml"} <= names
    assert "hypothesis" not in names and "pytest-xdist" not in names

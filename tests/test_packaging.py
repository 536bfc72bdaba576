"""An installed rtconform (not an editable checkout) runs its scenarios: the
Gherkin features and reference statements ship in the wheel, and the pytest
plugin comes in through its entry point."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import venv

from setuptools import find_packages

from helpers import ROOT


def test_the_package_list_is_complete():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(ROOT / "src"))
    assert set(config["packages"]) == found | {"rtconform.features", "rtconform.conformance"}
    assert config["package-dir"]["rtconform.features"] == "features"


def test_a_wheel_runs_scenarios_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("rtconform-*.whl")
    env_dir = tmp_path / "venv"
    # its dependencies come from this interpreter's site-packages (no download);
    # rtconform itself only from the wheel
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                              "--force-reinstall", str(wheel)],
                             capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stderr[-2000:]
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
    assert sorted(p.name for p in empty.iterdir()) == ["run"]  # nothing else left behind

"""Shared fixtures. Peers (dciodvfy, dcmtk, Orthanc) and ../shared may be
missing on a laptop, where their tests skip with a reason; under CI=true a
missing peer fails the run instead."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pydicom
import pytest

from rtconform.dicom.faults import write_sample
from rtconform.validate import ValidationOptions, validate_paths

sys.path.insert(0, str(Path(__file__).parent))

IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[1]
PYDICOM_TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop, fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def require_program(name: str, package: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} not installed (apt-get install {package})")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(os.environ.get("RTCONFORM_SHARED", ROOT.parent / "shared"))
    require(path.is_dir(), f"shared folder {path} is absent (set RTCONFORM_SHARED)")
    return path


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "ihe-ro-brto-reference"
    require(path.is_dir(), f"IHE-RO reference data {path} is absent")
    return path


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder)
    return folder


@pytest.fixture
def dciodvfy() -> str:
    return require_program("dciodvfy", "dicom3tools")


def tro_findings(*paths: Path, **context):
    """Findings of the TRO rules alone (no standard engines)."""
    from rtconform.rules.registry import RuleContext

    return validate_paths(list(paths), ValidationOptions(context=RuleContext(**context))).findings


def rule_ids(findings, severities=("error", "warning")) -> set[str]:
    return {f.rule_id for f in findings if f.severity in severities}

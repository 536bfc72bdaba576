"""Shared fixtures. Peers (dciodvfy, dcmtk, Orthanc) and ../shared may be
missing on a laptop, where their tests skip with a reason; under CI=true a
missing peer fails the run instead."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import ROOT, require, require_program
from rtconform.phantom.faults import write_sample

PEER_SIGNS = ("dciodvfy", "dcmtk", "orthanc", "chromium", "storescu", "storescp", "dcmqrscp",
              "findscu", "movescu", "getscu", "require(")


@pytest.hookimpl(tryfirst=True)  # before xdist names each item's group from its markers
def pytest_collection_modifyitems(items) -> None:
    """Mark the tests that need a peer program (`-m "not peer"` leaves them out)."""
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function else ""
        except (OSError, TypeError) as exc:  # no source: say why, mark nothing
            source = f"({exc})"
        names = " ".join(getattr(item, "fixturenames", ()))
        if any(sign in source.lower() or sign in names for sign in PEER_SIGNS):
            item.add_marker(pytest.mark.peer)
        if {"orthanc_runs", "orthanc_archive_run"} & set(getattr(item, "fixturenames", ())):
            # one xdist worker makes the Orthanc runs (minutes) once for all who read them
            item.add_marker(pytest.mark.xdist_group("orthanc-runs"))


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


@pytest.fixture(scope="session")
def rtconform_wheel(tmp_path_factory) -> Path:
    """rtconform built as a wheel, once per test process (tests/wheelenv.py);
    the tests that use it share an xdist group, so it is built once."""
    from wheelenv import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def orthanc_runs(tmp_path_factory, shared_dir):
    """A real Orthanc at its own defaults, run once per session (several
    minutes): first with its statement (the Archive scenarios and every
    conformance-table row), then the Archive scenarios again on the same
    store. tests/system/test_real_peers.py checks the verdicts; test_report prints
    the second run."""
    from types import SimpleNamespace

    from peers import orthanc
    from rtconform.run.runner import run

    tmp = tmp_path_factory.mktemp("orthanc")
    # as the README configures it: only RTCONFORM (every association of the
    # harness) and HARNESS (its C-MOVE destination) may talk to it
    with orthanc(tmp, shared_dir, known=("RTCONFORM", "HARNESS")) as sut:
        first = run(sut, tmp / "run1", statement=ROOT / "conformance" / "orthanc.yaml")
        again = run(sut, tmp / "run2", tags="not conformance")
    return SimpleNamespace(statement=SimpleNamespace(out=tmp / "run1", code=first[0],
                                                     results=first[1]),
                           archive=SimpleNamespace(out=tmp / "run2", code=again[0],
                                                   results=again[1]))


@pytest.fixture(scope="session")
def orthanc_archive_run(orthanc_runs):
    """The 17 Archive scenarios against Orthanc (the second run on its store)."""
    return orthanc_runs.archive

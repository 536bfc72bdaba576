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
from rtconform.dicom.faults import write_sample

PEER_SIGNS = ("dciodvfy", "dcmtk", "orthanc", "chromium", "storescu", "storescp", "dcmqrscp",
              "findscu", "movescu", "getscu", "require(")


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
def orthanc_archive_run(tmp_path_factory, shared_dir):
    """Every Archive scenario against a real Orthanc, run once per session
    (about 70 s): test_run checks its verdicts, test_report prints it."""
    import shutil
    from types import SimpleNamespace

    from peers import fill_template, free_port, running
    from rtconform.run.runner import run

    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    require(Path(executable).is_file(), "Orthanc not installed (apt-get install orthanc)")
    tmp = tmp_path_factory.mktemp("orthanc-archive")
    dicom_port, http_port, move_port = free_port(), free_port(), free_port()
    (tmp / "store").mkdir()
    config = fill_template(shared_dir / "peers" / "orthanc.json", tmp / "orthanc.json",
                           STORE=tmp / "store", DICOM_PORT=dicom_port, HTTP_PORT=http_port,
                           MOVE_PORT=move_port)
    sut = tmp / "orthanc-sut.yaml"
    sut.write_text(f"name: Orthanc (Debian)\nactors: [Archive]\nnetwork: {{ae_title: ORTHANC, "
                   f"host: 127.0.0.1, port: {dicom_port}}}\ntimeout: 30\n"
                   f"harness: {{receive_ae: HARNESS, receive_port: {move_port}}}\n")
    with running([executable, str(config)], dicom_port, tmp / "orthanc.log"):
        code, results = run(sut, tmp / "run")
    return SimpleNamespace(out=tmp / "run", code=code, results=results)

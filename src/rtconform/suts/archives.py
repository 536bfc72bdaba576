"""Real Archives started for a run: Orthanc (Debian's, at its defaults but for
what a test Archive needs), dcmtk's dcmqrscp and pynetdicom's qrscp, each on
free loopback ports with its store in the run folder, each knowing the AE
titles that will call it and the C-MOVE destinations it must reach.

Orthanc's configuration is the one tests/peers.py and ../shared/peers use
(OverwriteInstances false as Orthanc ships; find/move/get allowed for any
caller, since the tools call under their own AE titles); dcmqrscp's is
dcmtk's documented minimum (one storage area, a HostTable).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rtconform.actors.node import Peer


class ArchiveError(RuntimeError):
    """An Archive that could not be started here, with why."""


@dataclass
class ArchiveSpec:
    """What an Archive must know for one run: who calls it, where C-MOVE goes."""

    folder: Path
    move_destinations: dict[str, tuple[str, int]] = field(default_factory=dict)
    callers: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-600:] if log.is_file() else ""
            raise ArchiveError(f"exited with {proc.returncode} before listening on {port}: "
                               f"{tail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise ArchiveError(f"nothing listening on 127.0.0.1:{port} after {timeout:g} s")


@contextlib.contextmanager
def _process(cmd: list[str], port: int, log: Path, cwd: Path | None = None) -> Iterator[None]:
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            _wait(port, proc, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def find_dcmtk(name: str) -> str | None:
    """dcmtk's tool, not pynetdicom's console script of the same name (which
    may come first on PATH); None when dcmtk is not installed."""
    for path in (f"/usr/bin/{name}", f"/usr/local/bin/{name}", shutil.which(name)):
        if path and Path(path).is_file():
            out = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 timeout=10, check=False)
            if "dcmtk" in (out.stdout + out.stderr).lower():
                return path
    return None


def _dcmtk(name: str) -> str:
    if (path := find_dcmtk(name)) is None:
        raise ArchiveError(f"dcmtk's {name} is not installed (apt-get install dcmtk)")
    return path


def _version(cmd: list[str]) -> str:
    """The first version number the program prints of itself."""
    import re

    out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    found = re.search(r"\d+\.\d+(?:\.\d+)?", out.stdout + out.stderr)
    return found.group(0) if found else "unknown"


@contextlib.contextmanager
def orthanc(spec: ArchiveSpec) -> Iterator[Peer]:
    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    if not Path(executable).is_file():
        raise ArchiveError("Orthanc is not installed (apt-get install orthanc)")
    dicom_port, http_port = free_port(), free_port()
    store = spec.folder / "store"
    store.mkdir(parents=True, exist_ok=True)
    modalities = {name.lower(): [name, host, port]
                  for name, (host, port) in spec.move_destinations.items()}
    for caller in spec.callers:  # known to Orthanc (C-MOVE back to themselves too)
        modalities.setdefault(caller.lower(), [caller, "127.0.0.1", 104])
    config = {
        "Name": "rtconform-matrix-orthanc", "StorageDirectory": str(store),
        "IndexDirectory": str(store), "Plugins": [], "HttpServerEnabled": True,
        "HttpPort": http_port, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
        "DicomServerEnabled": True, "DicomAet": "ORTHANC", "DicomPort": dicom_port,
        "DicomCheckCalledAet": False, "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True, "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowMove": True, "DicomAlwaysAllowGet": True,
        "DicomCheckModalityHost": False, "UnknownSopClassAccepted": False,
        "DicomModalities": modalities, "SynchronousCMove": True, "SaveJobs": False,
        "OverwriteInstances": False, "StorageCompression": False, "DeidentifyLogs": False}
    path = spec.folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=1))
    with _process([executable, str(path)], dicom_port, spec.folder / "orthanc.log"):
        yield Peer("ORTHANC", "127.0.0.1", dicom_port)


@contextlib.contextmanager
def dcmqrscp(spec: ArchiveSpec) -> Iterator[Peer]:
    executable = _dcmtk("dcmqrscp")
    port = free_port()
    store = spec.folder / "store"
    store.mkdir(parents=True, exist_ok=True)
    hosts = [f"{name.lower()} = ({name}, {host}, {p})"
             for name, (host, p) in spec.move_destinations.items()]
    config = spec.folder / "dcmqrscp.cfg"
    config.write_text("\n".join([
        f"NetworkTCPPort  = {port}", "MaxPDUSize      = 16384", "MaxAssociations = 16", "",
        "HostTable BEGIN", *hosts, "HostTable END", "", "VendorTable BEGIN", "VendorTable END",
        "", "AETable BEGIN", f"DCMQRSCP   {store}   RW (2000, 1024mb)   ANY", "AETable END",
        ""]))
    # its default forking mode: with -s it stops after the first association
    with _process([executable, "-c", str(config)], port, spec.folder / "dcmqrscp.log"):
        yield Peer("DCMQRSCP", "127.0.0.1", port)


@contextlib.contextmanager
def qrscp(spec: ArchiveSpec) -> Iterator[Peer]:
    try:
        import sqlalchemy  # noqa: F401  (pynetdicom's qrscp app needs it)
    except ImportError as exc:
        raise ArchiveError("pynetdicom's qrscp needs SQLAlchemy (pip install sqlalchemy)") \
            from exc
    port = free_port()
    config = spec.folder / "qrscp.ini"
    sections = "".join(f"[{name}]\n    address: {host}\n    port: {p}\n\n"
                       for name, (host, p) in spec.move_destinations.items())
    config.write_text(
        f"[DEFAULT]\n    ae_title: QRSCP\n    port: {port}\n    max_pdu: 16382\n"
        "    acse_timeout: 30\n    dimse_timeout: 30\n    network_timeout: 30\n"
        f"    bind_address: 127.0.0.1\n    instance_location: {spec.folder / 'store'}\n"
        f"    database_location: {spec.folder / 'qrscp.sqlite'}\n    log_identifier: False\n\n"
        + sections)
    with _process([sys.executable, "-m", "pynetdicom", "qrscp", "-c", str(config), "-q"], port,
                  spec.folder / "qrscp.log"):
        yield Peer("QRSCP", "127.0.0.1", port)


def _qrscp_version() -> str:
    import pynetdicom

    return pynetdicom.__version__


# name → (start, its version, what it is)
ARCHIVES = {
    "orthanc": (orthanc, lambda: _version([shutil.which("Orthanc") or "/usr/sbin/Orthanc",
                                           "--version"]),
                "Orthanc (Debian), its defaults: OverwriteInstances false"),
    "dcmqrscp": (dcmqrscp, lambda: _version([_dcmtk("dcmqrscp"), "--version"]),
                 "dcmtk dcmqrscp"),
    "qrscp": (qrscp, _qrscp_version, "pynetdicom qrscp"),
}


def archive_version(name: str) -> str:
    try:
        return ARCHIVES[name][1]()
    except (ArchiveError, OSError, subprocess.SubprocessError) as exc:
        return f"unavailable: {exc}"

"""Real peer processes for the tests: dcmtk tools, dcmqrscp and Orthanc, each on
a free loopback port, each stopped by the test that started it.

Note: pip's pynetdicom installs console scripts also named storescu, findscu…
so dcmtk's are looked up by what they say they are, not by name alone.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

from helpers import require, require_program
from rtconform.suts.archives import find_dcmtk, free_port


def dcmtk(name: str) -> str:
    """Path of the dcmtk tool `name` (not pynetdicom's namesake)."""
    path = find_dcmtk(name)
    require(path is not None, f"dcmtk's {name} not installed (apt-get install dcmtk)")
    return path


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


@contextlib.contextmanager
def running(cmd: list[str], port: int, log: Path, cwd: Path | None = None):
    """Start a peer process, wait for its port, and always stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            wait_listening(port, proc)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def fill_template(template: Path, target: Path, **values) -> Path:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    target.write_text(text)
    return target


def dcmtk_run(tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([dcmtk(tool), *args], capture_output=True, text=True,
                          timeout=timeout)


def make_pki(folder: Path) -> dict[str, Path]:
    """A CA and two certificates it signed for 127.0.0.1: a server and a client
    (the harness is both: it calls, and receives C-MOVE results)."""
    openssl = require_program("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {n: folder / f"{n}.pem" for n in ("ca", "ca_key", "server", "server_key",
                                              "client", "client_key")}

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=rtc-ca",
        "-keyout", str(paths["ca_key"]), "-out", str(paths["ca"]))
    for name in ("server", "client"):
        csr = folder / f"{name}.csr"
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=rtc-{name}",
            "-keyout", str(paths[f"{name}_key"]), "-out", str(csr))
        ext = folder / f"{name}.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1\n")
        run("x509", "-req", "-in", str(csr), "-CA", str(paths["ca"]), "-CAkey",
            str(paths["ca_key"]), "-CAcreateserial", "-days", "2", "-out", str(paths[name]),
            "-extfile", str(ext))
    return paths


def sut_file(folder: Path, name: str, ae_title: str, port: int, receive_port: int,
             **extra: str) -> Path:
    """A SUT file for a real Archive on 127.0.0.1 that sends C-MOVE results
    to the harness as HARNESS on `receive_port`."""
    path = folder / f"{ae_title.lower()}-sut.yaml"
    lines = [f"name: {name}", "actors: [Archive]",
             f"network: {{ae_title: {ae_title}, host: 127.0.0.1, port: {port}}}",
             "timeout: 30", f"harness: {{receive_ae: HARNESS, receive_port: {receive_port}}}",
             *(f"{k}: {v}" for k, v in extra.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def orthanc(folder: Path, shared: Path, known: tuple[str, ...] | None = None, **overrides):
    """Orthanc with the shared template (Orthanc's own defaults, the harness's
    C-MOVE destination in DicomModalities), plus `overrides`; yields its SUT
    file. `known`: Orthanc as the README configures it, only these AE titles
    may talk to it (DicomAlwaysAllow* false, Orthanc's own default; each in
    DicomModalities, the C-MOVE destination at the harness's receive port)."""
    import json

    executable = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    require(Path(executable).is_file(), "Orthanc not installed (apt-get install orthanc)")
    dicom_port, http_port, move_port = free_port(), free_port(), free_port()
    store = folder / "orthanc-store"
    store.mkdir(parents=True, exist_ok=True)
    config = json.loads(fill_template(shared / "peers" / "orthanc.json",
                                      folder / "orthanc-template.json", STORE=store,
                                      DICOM_PORT=dicom_port, HTTP_PORT=http_port,
                                      MOVE_PORT=move_port).read_text())
    if known is not None:
        config.update({f"DicomAlwaysAllow{s}": False for s in ("Echo", "Store", "Find", "Move",
                                                               "Get")})
        config["DicomModalities"] = {ae.lower(): [ae, "127.0.0.1", move_port] for ae in known}
    config.update(overrides)
    (folder / "orthanc.json").write_text(json.dumps(config))
    with running([executable, str(folder / "orthanc.json")], dicom_port,
                 folder / "orthanc.log"):
        yield sut_file(folder, "Orthanc (Debian, its defaults)", "ORTHANC", dicom_port,
                       move_port)


@contextlib.contextmanager
def qrscp(folder: Path):
    """pynetdicom's own Query/Retrieve SCP application (needs SQLAlchemy), its
    C-MOVE destination HARNESS; yields its SUT file."""
    import sys

    from helpers import require_module

    require_module("sqlalchemy", "sqlalchemy")
    port, move_port = free_port(), free_port()
    config = folder / "qrscp.ini"
    config.write_text(
        "[DEFAULT]\n    ae_title: QRSCP\n    port: {port}\n    max_pdu: 16382\n"
        "    acse_timeout: 30\n    dimse_timeout: 30\n    network_timeout: 30\n"
        "    bind_address: 127.0.0.1\n    instance_location: {store}\n"
        "    database_location: {db}\n    log_identifier: False\n\n"
        "[HARNESS]\n    address: 127.0.0.1\n    port: {move}\n".format(
            port=port, store=folder / "qrscp-store", db=folder / "qrscp.sqlite",
            move=move_port))
    with running([sys.executable, "-m", "pynetdicom", "qrscp", "-c", str(config), "-q"],
                 port, folder / "qrscp.log"):
        yield sut_file(folder, "pynetdicom qrscp", "QRSCP", port, move_port)


@contextlib.contextmanager
def storescp(folder: Path):
    """dcmtk's storescp, a Storage SCP only; yields its SUT file."""
    port = free_port()
    store = folder / "storescp-store"
    store.mkdir(parents=True, exist_ok=True)
    with running([dcmtk("storescp"), "-aet", "STORESCP", "-od", str(store), str(port)], port,
                 folder / "storescp.log"):
        yield sut_file(folder, "dcmtk storescp", "STORESCP", port, free_port())


@contextlib.contextmanager
def dcmqrscp(folder: Path, shared: Path):
    """dcmtk's dcmqrscp with the shared configuration; yields its SUT file."""
    port, move_port = free_port(), free_port()
    store = folder / "dcmqrscp-store"
    store.mkdir(parents=True, exist_ok=True)
    config = fill_template(shared / "peers" / "dcmqrscp.cfg", folder / "qr.cfg", PORT=port,
                           MOVE_PORT=move_port, STORE=store)
    with running([dcmtk("dcmqrscp"), "-c", str(config)], port, folder / "dcmqrscp.log"):
        yield sut_file(folder, "dcmtk dcmqrscp", "DCMQRSCP", port, move_port)


def send_raw_c_store(port: int, payload: bytes, sop_uid: str) -> int:
    """C-STORE whose dataset bytes are sent exactly as given, as a broken peer
    would (pynetdicom's own send_c_store re-encodes, and so repairs, the data).
    Uses pynetdicom's reactor pause the way send_c_store does."""
    from io import BytesIO

    from pydicom.uid import ExplicitVRLittleEndian
    from pynetdicom import AE
    from pynetdicom.dimse_primitives import C_STORE

    ae = AE("BROKEN")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.481.5", ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port, ae_title="ARCHIVE")
    req = C_STORE()
    req.MessageID = 1
    req.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.481.5"
    req.AffectedSOPInstanceUID = sop_uid
    req.Priority = 2
    req.DataSet = BytesIO(payload)
    assoc._reactor_checkpoint.clear()
    while not assoc._is_paused:
        time.sleep(0.001)
    try:
        assoc.dimse.send_msg(req, assoc.accepted_contexts[0].context_id)
        _, rsp = assoc.dimse.get_msg(block=True)
    finally:
        assoc._reactor_checkpoint.set()
    assoc.release()
    return int(rsp.Status)

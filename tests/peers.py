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

DCMTK_DIRS = ("/usr/bin", "/usr/local/bin")


def dcmtk(name: str) -> str:
    """Path of the dcmtk tool `name` (not pynetdicom's namesake)."""
    candidates = [str(Path(d) / name) for d in DCMTK_DIRS]
    if found := shutil.which(name):
        candidates.append(found)
    for path in candidates:
        if not Path(path).is_file():
            continue
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        if "dcmtk" in (out.stdout + out.stderr).lower():
            return path
    require(False, f"dcmtk's {name} not installed (apt-get install dcmtk)")
    raise AssertionError  # unreachable: require failed or skipped


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

"""The Archive against peers that misbehave on purpose: raw sockets speaking
half a PDU, garbage, absurd lengths, no presentation contexts, floods of
idle connections, a plain-TCP client on a TLS port, and a kill -9 mid-push.
Each is answered or closed within the configured time, and a real dcmtk
`storescu` succeeds right after."""

from __future__ import annotations

import os
import resource
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from peers import dcmtk, dcmtk_run, free_port, make_pki
from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.node import PeerUnreachable, ServiceUser, Timeouts
from rtconform.actors.recorder import AssociationRecorder, read_events
from rtconform.actors.tls import TLSConfig

ARTIM = 2.0
LIMIT = ARTIM + 3.0  # answered or closed within this


@pytest.fixture
def recorder(tmp_path) -> AssociationRecorder:
    return AssociationRecorder(tmp_path / "associations.jsonl")


@pytest.fixture
def archive(tmp_path, recorder):
    config = ArchiveConfig(store_dir=tmp_path / "store", max_pending=40,
                           max_pending_per_address=40,  # one address here: all are held
                           timeouts=Timeouts(acse=ARTIM, network=5.0))
    with Archive(config, recorder) as arc:
        yield arc


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=LIMIT + 5)
    return sock


def _answer(sock: socket.socket) -> tuple[str, float]:
    """What the Archive did: 'RJ', 'AC', 'ABORT', 'closed' — and how fast."""
    start = time.monotonic()
    try:
        head = sock.recv(6)
    except ConnectionResetError:
        return "closed", time.monotonic() - start
    except TimeoutError:  # nothing happened: never mistaken for a close
        return "timeout", time.monotonic() - start
    elapsed = time.monotonic() - start
    kinds = {0x02: "AC", 0x03: "RJ", 0x07: "ABORT"}
    return (kinds.get(head[0], f"0x{head[0]:02X}") if head else "closed"), elapsed


def _ae(title: str) -> bytes:
    return title.encode().ljust(16)


def associate_rq(called: str = "ARCHIVE", calling: str = "RAW", contexts: bool = True,
                 extra_length: int = 0) -> bytes:
    """An A-ASSOCIATE-RQ built by hand (PS3.8 9.3.2): Verification only."""
    def item(kind: int, body: bytes) -> bytes:
        return struct.pack(">BBH", kind, 0, len(body)) + body

    body = item(0x10, b"1.2.840.10008.3.1.1.1")
    if contexts:
        body += item(0x20, bytes([1, 0, 0, 0]) + item(0x30, b"1.2.840.10008.1.1")
                     + item(0x40, b"1.2.840.10008.1.2"))
    body += item(0x50, item(0x51, struct.pack(">I", 16384)) + item(0x52, b"1.2.3.4"))
    fixed = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + bytes(32)
    pdu = fixed + body
    return struct.pack(">BBI", 0x01, 0, len(pdu) + extra_length) + pdu


def _storescu_ok(port: int, sample_dir: Path) -> None:
    out = dcmtk_run("storescu", "-aec", "ARCHIVE", "-aet", "AFTER", "127.0.0.1", str(port),
                    str(sample_dir / "CT_001.dcm"))
    assert out.returncode == 0, out.stderr


def _notes(recorder: AssociationRecorder) -> list[str]:
    return [e["message"] for e in read_events(recorder.path) if e["event"] == "note"]


@pytest.mark.parametrize("name,payload,expected", [
    ("garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", {"ABORT", "closed"}),
    ("unknown PDU type", struct.pack(">BBI", 0x09, 0, 4) + b"\0" * 4, {"ABORT", "closed"}),
    ("PDU length 0xFFFFFFFF", struct.pack(">BBI", 0x01, 0, 0xFFFFFFFF) + b"\0" * 64,
     {"ABORT"}),
    ("truncated A-ASSOCIATE-RQ", associate_rq(extra_length=100), {"ABORT", "closed"}),
    ("no presentation context", associate_rq(contexts=False), {"RJ"}),
    ("wrong called AE title", associate_rq(called="NOT_ME"), {"RJ"}),
    ("nothing at all", b"", {"ABORT", "closed"}),
    ("5 bytes of a header, then a stall", b"\x01\x00\x00\x00\x00", {"ABORT", "closed"}),
])
def test_raw_socket_is_answered_within_the_timeout(archive, sample_dir, name, payload,
                                                   expected):
    with _connect(archive.peer.port) as sock:
        sock.sendall(payload)
        kind, elapsed = _answer(sock)
    assert kind in expected, f"{name}: {kind}"
    assert elapsed < LIMIT, f"{name}: {elapsed:.1f} s"
    _storescu_ok(archive.peer.port, sample_dir)


def test_a_well_formed_request_is_accepted(archive):
    """Control: the hand-built A-ASSOCIATE-RQ is one the Archive accepts."""
    with _connect(archive.peer.port) as sock:
        sock.sendall(associate_rq())
        assert _answer(sock)[0] == "AC"


def test_oversized_pdu_is_aborted_before_it_is_buffered(archive, recorder, sample_dir):
    """A peer announcing 1 GB and streaming it: A-ABORT after the header,
    and the Archive's memory does not grow with what the peer sends."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sent = 0
    with _connect(archive.peer.port) as sock:
        sock.sendall(associate_rq())
        assert _answer(sock)[0] == "AC"
        sock.sendall(struct.pack(">BBI", 0x04, 0, 1 << 30))
        chunk = b"\0" * (1 << 20)
        with pytest.raises(OSError):
            while sent < 1 << 30:
                sock.sendall(chunk)
                sent += len(chunk)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert sent < 1 << 30 and grown_mb < 64, (sent, grown_mb)
    assert any("A-ABORT sent: PDU type 0x04 declares 1073741824 bytes" in n
               for n in _notes(recorder))
    _storescu_ok(archive.peer.port, sample_dir)


def test_idle_and_stalled_connections_cannot_lock_out_real_senders(archive, sample_dir):
    """12 connections sending half a PDU header and 20 silent ones, all held
    open: a real association gets through at once (they are not counted
    against the association limit), and all of them are closed by ARTIM."""
    held = [_connect(archive.peer.port) for _ in range(32)]
    try:
        for sock in held[:12]:
            sock.sendall(b"\x01\x00\xff\xff")
        time.sleep(0.3)
        start = time.monotonic()
        _storescu_ok(archive.peer.port, sample_dir)
        assert time.monotonic() - start < ARTIM
        time.sleep(LIMIT)
        closed = 0
        for sock in held:
            sock.settimeout(15)  # closed by now; a loaded machine gets some slack
            if _answer(sock)[0] in ("closed", "ABORT"):
                closed += 1
        assert closed == 32
        artim = [n for n in _notes(archive.recorder) if "closed by ARTIM" in n]
        assert len(artim) == 32 and f"within {ARTIM:g} s" in artim[0], artim
    finally:
        for sock in held:
            sock.close()


def test_a_flood_from_one_address_evicts_its_own_oldest(tmp_path, recorder, sample_dir):
    """40 silent connections from one address with room for 10 of it: each
    new one closes that address's oldest at once (logged), the newest 10 stay,
    and a real sender still gets in."""
    # ARTIM long enough that none is closed by it, however loaded the machine
    config = ArchiveConfig(store_dir=tmp_path / "flood", max_pending=40,
                           timeouts=Timeouts(acse=120.0, network=120.0))
    with Archive(config, recorder) as archive:
        held = [_connect(archive.peer.port) for _ in range(40)]
        try:
            held[0].settimeout(60)  # the accept loop may be slow on a loaded machine
            assert _answer(held[0])[0] == "closed"
            _storescu_ok(archive.peer.port, sample_dir)
            made_room = [n for n in _notes(recorder) if "to make room" in n]
            assert len(made_room) >= 30 and "(limit 10 per address)" in made_room[0]
            held[-1].settimeout(0.5)
            assert _answer(held[-1])[0] == "timeout"  # the newest still wait
        finally:
            for sock in held:
                sock.close()


def _silent(port: int, source: str, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=LIMIT + 5,
                                     source_address=(source, 0)) for _ in range(count)]


def test_seventy_silent_sockets_from_one_host_lock_out_nobody(tmp_path, recorder, sample_dir):
    """The issue-23 lock-out: 70 silent connections from one address, held
    open, with ARTIM far away. A sender from another loopback address stores
    at once; one from the same address too, after that address's oldest
    silent connection is closed for it."""
    config = ArchiveConfig(store_dir=tmp_path / "held", max_pending=64,
                           timeouts=Timeouts(acse=120.0, network=120.0))
    with Archive(config, recorder) as archive:
        port = archive.peer.port
        held = _silent(port, "127.0.0.3", 70)
        try:
            _storescu_ok(port, sample_dir)  # dcmtk, from 127.0.0.1
            held += _silent(port, "127.0.0.1", 70)
            _storescu_ok(port, sample_dir)  # the same address as 70 silent ones
            notes = _notes(recorder)
            assert any("127.0.0.3" in n and "closed (silent for" in n for n in notes), notes
            assert any(n.startswith("connection from 127.0.0.1:") and "to make room" in n
                       for n in notes)
        finally:
            for sock in held:
                sock.close()
        assert archive.store.count() == 1  # the same object twice: kept once


def test_called_ae_check_can_be_turned_off(tmp_path, recorder):
    config = ArchiveConfig(store_dir=tmp_path / "s", check_called_ae=False)
    with Archive(config, recorder) as arc, _connect(arc.peer.port) as sock:
        sock.sendall(associate_rq(called="ANY_NAME"))
        assert _answer(sock)[0] == "AC"


# -- a killed Archive ------------------------------------------------------------------
def _start_archive_process(store: Path, port: int, *args: str,
                           env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rtconform", "simulate", "archive", "--store", str(store),
         "--port", str(port), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env={**os.environ, **(env or {})})
    line = proc.stdout.readline()
    assert "storing in" in line, line
    return proc


def test_kill_9_mid_push_leaves_index_and_files_agreeing(tmp_path, sample_dir):
    store = tmp_path / "store"
    port = free_port()
    archive = _start_archive_process(store, port)
    files = sorted(sample_dir.glob("CT_*.dcm"))
    push = subprocess.Popen([dcmtk("storescu"), "-aec", "ARCHIVE", "127.0.0.1", str(port),
                             *map(str, files)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(store.rglob("*.dcm"))) < 5:
        time.sleep(0.02)
    os.kill(archive.pid, signal.SIGKILL)
    archive.wait(timeout=10)
    push.wait(timeout=30)
    (store / "1.2.3" / ".incoming-abc.part").parent.mkdir(parents=True, exist_ok=True)
    (store / "1.2.3" / ".incoming-abc.part").write_bytes(b"half")  # as a kill would leave
    archive = _start_archive_process(store, port)
    try:
        assert not list(store.rglob("*.part"))
        with sqlite3.connect(store / "index.sqlite") as db:
            indexed = {Path(p) for (p,) in db.execute("SELECT path FROM instances")}
        on_disk = set(store.rglob("*.dcm"))
        assert indexed == on_disk and len(indexed) >= 5
        out = dcmtk_run("storescu", "-aec", "ARCHIVE", "127.0.0.1", str(port),
                        *map(str, files))
        assert out.returncode == 0, out.stderr
    finally:
        archive.send_signal(signal.SIGTERM)
        archive.wait(timeout=20)
    notes = [e["message"] for e in read_events(store / "associations.jsonl")
             if e["event"] == "note"]
    assert any("half-written by an earlier run" in n for n in notes)


# -- TLS ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_archive(tmp_path, recorder, pki):
    server = TLSConfig(cert=pki["server"], key=pki["server_key"], ca=pki["ca"],
                       require_client_cert=True)
    config = ArchiveConfig(store_dir=tmp_path / "tls-store", tls=server,
                           timeouts=Timeouts(acse=ARTIM, network=5.0))
    with Archive(config, recorder) as arc:
        yield arc


def test_tls_association_with_own_ca(tls_archive, recorder, pki, sample_dir):
    client = TLSConfig(cert=pki["client"], key=pki["client_key"], ca=pki["ca"])
    user = ServiceUser("TLSUSER", recorder, "test", tls=client)
    assert user.echo(tls_archive.peer).ok
    assert user.store(tls_archive.peer, [sample_dir / "CT_001.dcm"]).ok
    assert tls_archive.store.count() == 1
    # dcmtk as the TLS client too
    out = dcmtk_run("storescu", "+tls", str(pki["client_key"]), str(pki["client"]),
                    "+cf", str(pki["ca"]), "-aec", "ARCHIVE", "127.0.0.1",
                    str(tls_archive.peer.port), str(sample_dir / "CT_002.dcm"))
    assert out.returncode == 0, out.stderr
    assert tls_archive.store.count() == 2


def test_plain_tcp_to_the_tls_port_is_refused_and_recorded(tls_archive, recorder, pki,
                                                           sample_dir):
    with pytest.raises(PeerUnreachable):
        ServiceUser("PLAIN", recorder, "test").echo(tls_archive.peer)
    with _connect(tls_archive.peer.port) as sock:  # and a raw one that says nothing
        assert _answer(sock)[0] == "closed"
    # dcmtk speaking plain TCP to the TLS port: refused, and said once
    assert dcmtk_run("storescu", "-aec", "ARCHIVE", "127.0.0.1", str(tls_archive.peer.port),
                     str(sample_dir / "CT_001.dcm")).returncode != 0
    refused = [n.partition(": TLS")[0] for n in _notes(recorder) if "TLS handshake failed" in n]
    assert len(refused) >= 2 and len(refused) == len(set(refused)), refused
    without_cert = TLSConfig(ca=pki["ca"])  # mutual authentication is required
    with pytest.raises(PeerUnreachable):
        ServiceUser("NOCERT", recorder, "test", tls=without_cert).echo(tls_archive.peer)
    assert tls_archive.store.count() == 0


def test_abusive_identifiers_get_a_status_and_the_archive_keeps_serving(archive, recorder,
                                                                        sample_dir):
    """C-FIND with 300 keys, a 100 K value, and the exponential-regex pattern
    '*a*a*a*a*a*a*a*b' against a stored name of 64 'a': answered at once."""
    from rtconform.actors.node import identifier

    ds = pydicom.dcmread(sample_dir / "CT_001.dcm")
    ds.PatientName = "a" * 64
    user = ServiceUser("ABUSER", recorder, "test")
    assert user.store(archive.peer, [ds]).ok
    many = identifier("PATIENT", PatientID="")
    for i in range(300):
        many.add_new((0x0011, 0x1000 + i), "LO", f"x{i}")
    assert user.find(archive.peer, many, "patient").statuses[-1] == 0xA900
    huge = identifier("PATIENT", PatientID="x" * 100_000)
    assert user.find(archive.peer, huge, "patient").statuses[-1] == 0xA900
    start = time.monotonic()
    found = user.find(archive.peer, identifier("PATIENT", PatientName="*a*a*a*a*a*a*a*b",
                                               PatientID=""), "patient")
    assert found.statuses == [0x0000] and time.monotonic() - start < 5
    assert user.echo(archive.peer).ok


def test_a_200_character_uid_is_aborted_and_the_reason_logged(archive, recorder, sample_dir):
    """pynetdicom aborts a C-STORE-RQ whose Affected SOP Instance UID has 200
    characters: the Archive's log says why (issue 23 item 9)."""
    from rtconform.actors.rawpeer import RawPeer, encode_implicit

    ct = "1.2.840.10008.5.1.4.1.1.2"
    uid = "1." + "2" * 198
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = ct, uid
    with RawPeer("127.0.0.1", archive.peer.port) as peer:
        assert peer.associate("ARCHIVE", "RAW", ct)
        assert peer.store(ct, uid, [encode_implicit(ds)]) is None  # aborted
    said = [n for n in _notes(recorder) if n.startswith("A-ABORT sent: the C-STORE-RQ")]
    assert said and "64" in said[0], _notes(recorder)
    _storescu_ok(archive.peer.port, sample_dir)


def _peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_large_c_store_is_refused_as_it_arrives_with_memory_flat(tmp_path, sample_dir):
    """50 MB of Pixel Data in legal 16 KB P-DATA-TF PDUs to an Archive that
    takes at most 8 MB per object: refused with 0xA700 and an A-ABORT while
    it arrives, its peak memory grows by less than the object would take, no
    temporary file is left, and the Archive still stores (issue 23 item 5;
    benchmarks/hostile_bench.py sends a gigabyte)."""
    from rtconform.actors.rawpeer import RawPeer, pixel_data_stream

    temp = tmp_path / "tmp"  # where pynetdicom streams what arrives
    temp.mkdir()
    port = free_port()
    proc = _start_archive_process(tmp_path / "store", port, "--max-object-mb", "8",
                                  env={"TMPDIR": str(temp)})
    try:
        _storescu_ok(port, sample_dir)  # warm: every module loaded, one object stored
        before = _peak_rss_mb(proc.pid)
        ct = "1.2.840.10008.5.1.4.1.1.2"
        header = pydicom.dcmread(sample_dir / "CT_002.dcm", stop_before_pixels=True)
        header.file_meta = None
        with RawPeer("127.0.0.1", port) as peer:
            assert peer.associate("ARCHIVE", "BIG", ct)
            status = peer.store(ct, header.SOPInstanceUID,
                                pixel_data_stream(header, 50 << 20), pdu_data=16372)
            assert peer.sent < 40 << 20  # stopped before the end (socket buffers aside)
        assert status in (0xA700, None), hex(status or 0)
        grown = _peak_rss_mb(proc.pid) - before
        assert grown < 25, f"peak memory grew by {grown:.0f} MB"
        deadline = time.monotonic() + 30  # the Archive removes it as the connection closes
        while list(temp.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(temp.iterdir()) == []
        _storescu_ok(port, sample_dir)
        notes = [e["message"] for e in read_events(tmp_path / "store" / "associations.jsonl")
                 if e["event"] == "note"]
        assert any("C-STORE refused with 0xA700" in n and "8 MB" in n for n in notes), notes
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)

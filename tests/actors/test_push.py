"""`rtconform push`: an export folder into a real Storage SCP (rtconform's
Archive, dcmtk's storescp), every file answered with its status and meaning,
the documents beside the DICOM skipped, refusals and an absent receiver told
apart by the exit code, DICOM TLS as the other commands take it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from peers import dcmtk, free_port, make_pki, running
from rtconform.actors.archive import Archive, ArchiveConfig
from rtconform.actors.recorder import AssociationRecorder
from rtconform.actors.tls import TLSConfig
from rtconform.cli import main
from rtconform.phantom.faults import write_sample
from rtconform.reconcile import reconcile


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """The batch exporter's tree: 68 DICOM objects beside a PDF, an XML and a log."""
    folder = tmp_path_factory.mktemp("push") / "export"
    write_sample(folder, export="patient-tree")
    return folder


def _archive(tmp_path: Path, **config) -> Archive:
    archive = Archive(ArchiveConfig(store_dir=tmp_path / "store", **config),
                      AssociationRecorder(tmp_path / "associations.jsonl"))
    archive.start()
    return archive


def test_an_export_is_stored_whole_and_its_documents_skipped(export, tmp_path, capsys):
    archive = _archive(tmp_path)
    try:
        code = main(["push", str(export), "--to", f"ARCHIVE@127.0.0.1:{archive.peer.port}",
                     "--json", str(tmp_path / "push.json")])
    finally:
        archive.stop()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "68 sent to ARCHIVE@127.0.0.1" in out and "0 refused, 0 not sent, 3 skipped" in out
    assert "0x0000 Success" in out
    report = json.loads((tmp_path / "push.json").read_text())
    skipped = sorted(Path(f["file"]).suffix for f in report["files"]
                     if f["outcome"] == "skipped")
    assert skipped == [".log", ".pdf", ".xml"], skipped
    result = reconcile(export, tmp_path / "store")
    assert (result.found, result.received, result.missing, result.differ) == (68, 68, 0, 0)


def test_refusals_are_named_with_their_ps34_meaning(export, tmp_path, capsys):
    """An Archive that refuses a second copy of an instance: every object of the
    second push is refused, with its status and what it means; exit 1."""
    archive = _archive(tmp_path, duplicate_policy="reject")
    to = f"ARCHIVE@127.0.0.1:{archive.peer.port}"
    try:
        assert main(["push", str(export), "--to", to, "-q"]) == 0
        capsys.readouterr()
        code = main(["push", str(export), "--to", to])
    finally:
        archive.stop()
    out = capsys.readouterr().out
    assert code == 1, out
    assert "0 sent" in out and "68 refused" in out, out
    assert "NOT ALL STORED" in out
    refused = [line for line in out.splitlines() if line.startswith("refused ")]
    assert len(refused) == 20 and "… and 48 more" in out  # the rest are in --json
    assert all(re.search(r": 0x[0-9A-F]{4} (Failure|Refused)", line) for line in refused), \
        refused[:3]


def test_no_receiver_is_an_environment_error(export, capsys):
    port = free_port()  # nothing listens there
    assert main(["push", str(export), "--to", f"ARCHIVE@127.0.0.1:{port}", "--wait", "1",
                 "--timeout", "2"]) == 2
    err = capsys.readouterr().err
    assert f"no association with ARCHIVE@127.0.0.1:{port}" in err and "Traceback" not in err
    assert main(["push", str(export), "--to", "ARCHIVE-127.0.0.1-11112"]) == 2
    assert "--to" in capsys.readouterr().err


def test_push_over_dicom_tls(export, tmp_path, capsys):
    pki = make_pki(tmp_path / "pki")
    archive = _archive(tmp_path, tls=TLSConfig(cert=pki["server"], key=pki["server_key"],
                                               ca=pki["ca"], require_client_cert=True))
    to = f"ARCHIVE@127.0.0.1:{archive.peer.port}"
    try:
        plain = main(["push", str(export), "--to", to, "--timeout", "5"])
        capsys.readouterr()
        code = main(["push", str(export), "--to", to, "--tls-cert", str(pki["client"]),
                     "--tls-key", str(pki["client_key"]), "--tls-ca", str(pki["ca"])])
    finally:
        archive.stop()
    assert plain == 2  # in the clear, the TLS Archive is not reached
    assert code == 0, capsys.readouterr()
    records = [json.loads(line) for line in (tmp_path / "associations.jsonl").read_text()
               .splitlines()]
    assert any(r.get("tls") for r in records), records[-1]


def test_push_to_dcmtk_storescp(export, tmp_path, capsys):
    """A receiver that is not ours: dcmtk's storescp keeps every object."""
    port = free_port()
    store = tmp_path / "storescp"
    store.mkdir()
    with running([dcmtk("storescp"), "-aet", "STORESCP", "-od", str(store), str(port)], port,
                 tmp_path / "storescp.log"):
        code = main(["push", str(export), "--to", f"STORESCP@127.0.0.1:{port}"])
    assert code == 0, capsys.readouterr().out
    assert len(list(store.iterdir())) == 68

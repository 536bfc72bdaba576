"""The Storage Commitment SCU actor against a real Orthanc (a Storage
Commitment SCP since 1.6.0): it stores a few instances of the synthetic
patient, asks Orthanc to commit them and one it never stored, and reads from
Orthanc's N-EVENT-REPORT (sent on an association Orthanc opens to the AE it
knows from DicomModalities) which were committed and which failed, and why."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml
from pydicom.uid import generate_uid

from peers import free_port, orthanc
from rtconform.actors.association import Peer, Timeouts
from rtconform.actors.commitment import STORAGE_COMMITMENT_PUSH_MODEL, StorageCommitter
from rtconform.actors.recorder import AssociationRecorder, read_associations, read_events
from rtconform.phantom.sets import build_sample
from rtconform.run.evidence import describe

pytestmark = pytest.mark.xdist_group("orthanc-commitment")


@pytest.fixture(scope="module")
def committed(tmp_path_factory, shared_dir):
    """One Orthanc, that knows COMMITTER (at the port its reports go to) and
    not STRANGER; what each asked and was answered."""
    folder = tmp_path_factory.mktemp("commitment")
    recorder = AssociationRecorder(folder / "associations.jsonl")
    report_port = free_port()
    known = {"committer": ["COMMITTER", "127.0.0.1", report_port]}
    sample = build_sample()
    names = ["RS_structure_set.dcm", "RP_geometric.dcm", "CT_001.dcm"]
    stored = [sample.datasets[n] for n in names if n in sample.datasets]
    assert len(stored) == 3, sorted(sample.datasets)[:5]
    never = copy.deepcopy(stored[2])
    never.SOPInstanceUID = generate_uid()  # a CT instance Orthanc never received
    timeouts = Timeouts(dimse=30)
    with orthanc(folder, shared_dir, DicomModalities=known) as sut:
        network = yaml.safe_load(sut.read_text())["network"]
        archive = Peer(network["ae_title"], "127.0.0.1", network["port"])
        actor = StorageCommitter(recorder, folder / "committer", report_port=report_port,
                                 timeouts=timeouts)
        stranger = StorageCommitter(recorder, folder / "stranger", ae_title="STRANGER",
                                    timeouts=timeouts)
        try:
            store, wholly = actor.store_and_commit(archive, stored)
            partly = actor.commit(archive, [*stored, never])
            refused = stranger.commit(archive, stored, wait=5)
        finally:
            actor.stop_receiver()
            stranger.stop_receiver()
        # the registry's act, as `rtconform simulate` starts it, its reports at the same port
        cli = subprocess.run(
            [sys.executable, "-m", "rtconform", "simulate", "storage-commitment-requester",
             "run", "--aec", archive.ae_title, "127.0.0.1", str(archive.port), "--study",
             str(stored[0].StudyInstanceUID), "--method", "move", "--receive-port",
             str(report_port), "--out", str(folder / "cli")],
            capture_output=True, text=True, timeout=120)
    return {"stored": stored, "never": never, "store": store, "partly": partly,
            "wholly": wholly, "refused": refused, "recorder": recorder, "cli": cli,
            "cli_log": folder / "cli" / "associations.jsonl"}


def _uids(datasets) -> set[str]:
    return {str(ds.SOPInstanceUID) for ds in datasets}


def test_orthanc_commits_what_was_stored(committed):
    assert committed["store"].statuses == [0, 0, 0]
    wholly = committed["wholly"]
    assert wholly.action.ok and wholly.report is not None
    assert wholly.report.event_type == 1  # storage commitment request successful
    # Orthanc reports on an association of its own (PS3.4 J.3.3.1), to the AE it knows
    assert not wholly.report.own and wholly.report.calling_ae == "ORTHANC"
    assert {uid for _, uid in wholly.committed} == _uids(committed["stored"])
    assert wholly.failed == {} and wholly.problems == [] and wholly.ok
    assert "committed 3 of 3 instance(s) (N-EVENT-REPORT event type 1, on an association " \
        "ORTHANC opened)" in wholly.describe()


def test_an_instance_never_stored_is_reported_failed_with_its_reason(committed):
    partly = committed["partly"]
    never = str(committed["never"].SOPInstanceUID)
    assert partly.report is not None and partly.report.event_type == 2  # failure exists
    assert {uid for _, uid in partly.committed} == _uids(committed["stored"])
    assert partly.failed == {never: 0x0112}  # No such object instance (PS3.3 C.14.1.1)
    assert partly.problems == [] and not partly.ok
    assert f"failed: {never} (0x0112 No such object instance" in partly.describe()


def test_the_exchange_is_in_the_association_log_with_its_statuses(committed):
    records = read_associations(committed["recorder"].path)
    mine = [r for r in records if r.actor == "Storage Commitment Requester"]
    requests = [r for r in mine if r.direction == "outbound"
                and any(d["command"] == "N-ACTION-RQ" for d in r.dimse)]
    reports = [r for r in mine if r.direction == "inbound"]
    assert len(requests) == 3 and len(reports) == 2  # the stranger got none
    action = next(d for d in requests[0].dimse if d["command"] == "N-ACTION-RQ")
    assert (action["sop_class"], action["action_type"]) == (STORAGE_COMMITMENT_PUSH_MODEL, 1)
    assert requests[0].statuses("N-ACTION-RSP") == ["0x0000"]
    assert reports[0].calling_ae == "ORTHANC" and reports[0].called_ae == "COMMITTER"
    assert [d["command"] for d in reports[0].dimse] == ["N-EVENT-REPORT-RQ",
                                                        "N-EVENT-REPORT-RSP"]
    sent = reports[1].attributes[0]["attributes"]
    assert sent["FailedSOPSequence"][0]["ReferencedSOPInstanceUID"] == \
        str(committed["never"].SOPInstanceUID)
    assert "N-ACTION-RSP 0x0000 Success" in describe(requests[0])


def test_an_archive_that_does_not_know_the_requester_says_so(committed):
    """Orthanc 1.10 aborts the association at an N-ACTION from an AE not in
    its DicomModalities (where it could not send the report)."""
    refused = committed["refused"]
    assert not refused.ok and refused.report is None and refused.action.statuses == [0xFFFF]
    assert refused.describe() == (
        f"{refused.archive} refused the storage commitment request: N-ACTION no status "
        "(association lost or refused) (no N-ACTION-RSP: the peer aborted the association "
        "(A-ABORT, source: DICOM UL service-user))")


def test_the_registry_act_commits_the_study_from_the_command_line(committed):
    cli = committed["cli"]
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "Storage Commitment Requester performed RAD-10" in cli.stdout
    (note,) = [e for e in read_events(committed["cli_log"]) if e["event"] == "note"
               and e.get("transaction")]
    assert "committed 3 of 3 instance(s)" in note["message"]
    assert set(note["committed"]) == _uids(committed["stored"]) and note["failed"] == {}

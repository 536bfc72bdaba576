"""The SUT drivers: real open-source RT tools made TRO actors
(rtconform.suts), and what rtconform had to learn from them."""

from __future__ import annotations

from pathlib import Path

import pydicom

from helpers import ROOT, rule_ids, tro_findings


def _sample(folder: Path) -> Path:
    from rtconform.phantom.sets import build_sample

    build_sample().write(folder)
    return folder


def test_an_empty_birth_date_is_unknown_not_another_patient(tmp_path):
    """plastimatch 1.9.4 writes its RT Structure Set with Patient Birth Date
    and Patient Sex empty (Type 2: unknown, PS3.5 7.4.3) over a CT that has
    them: information lost (a warning), not a second patient in the study
    (the error rtconform raised before). Another value stays an error."""
    folder = _sample(tmp_path / "p")
    ss = folder / "RS_structure_set.dcm"
    ds = pydicom.dcmread(ss)
    ds.PatientBirthDate, ds.PatientSex = "", ""
    ds.save_as(ss)
    findings = [f for f in tro_findings(folder) if f.rule_id == "REF-PATIENT-IDENTITY"]
    assert {(f.severity, f.tag_path) for f in findings} == {
        ("warning", "PatientBirthDate"), ("warning", "PatientSex")}
    assert all("empty (unknown)" in f.message for f in findings)
    ds.PatientBirthDate = "19800101"
    ds.save_as(ss)
    assert "REF-PATIENT-IDENTITY" in rule_ids(tro_findings(folder), ("error",))


# -- each driver with its real tool, on a few slices ------------------------------------
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from helpers import require  # noqa: E402

SLICES = 12  # CT_001 … CT_012: the body on every slice, a part of the target sphere
# DicomRTTool 6.2.0's template_RS.dcm's SOP Instance UID, which every structure set
# it writes keeps (see the Contourer test)
DICOMRTTOOL_TEMPLATE_UID = "1.2.826.0.1.3680043.8.498.56960541372785674661895853472353681251"


@contextlib.contextmanager
def archive_holding(folder: Path, *names: str):
    """rtconform's own Archive on a free port, holding the first SLICES CT
    images of the synthetic patient and the named objects."""
    from rtconform.actors.archive import Archive, ArchiveConfig
    from rtconform.actors.node import ServiceUser
    from rtconform.actors.recorder import AssociationRecorder
    from rtconform.phantom.sets import build_sample

    sample = build_sample()
    chosen = [ds for name, ds in sample.datasets.items()
              if name in names or ("CT" in names and name.startswith("CT_")
                                   and int(name[3:6]) <= SLICES)]
    recorder = AssociationRecorder(folder / "associations.jsonl")
    archive = Archive(ArchiveConfig(ae_title="ARCHIVE", store_dir=folder / "store"), recorder)
    archive.start()
    try:
        assert ServiceUser("SEED", recorder, "seed").store(archive.peer, chosen).ok
        yield archive, str(chosen[0].StudyInstanceUID)
    finally:
        archive.stop()


def drive(tool: str, archive, study: str, transactions: str, actor: str = "Contourer",
          keep: Path | None = None) -> tuple[int, dict, str]:
    env = {**os.environ, "RTCONFORM_TRANSACTION": transactions, "RTCONFORM_ACTOR": actor,
           "RTCONFORM_ARCHIVE_AE": archive.peer.ae_title, "RTCONFORM_ARCHIVE_HOST": "127.0.0.1",
           "RTCONFORM_ARCHIVE_PORT": str(archive.peer.port), "RTCONFORM_STUDY_UID": study}
    if keep is not None:
        env["RTCONFORM_KEEP_DIR"] = str(keep)
    proc = subprocess.run([sys.executable, "-m", "rtconform.suts", tool], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, json.loads(lines[-1]) if lines else {}, proc.stderr


def _ready(tool: str):
    from rtconform.suts import drivers

    driver = drivers()[tool]
    require(driver.missing() is None, str(driver.missing()))
    return driver


def _held(archive, modality: str) -> list:
    return [r for r in archive.store.rows() if r["modality"] == modality]


@pytest.mark.parametrize("tool", ["rt-utils", "dicomrttool", "plastimatch"])
def test_a_real_contourer_draws_stores_what_it_wrote_and_reads_it_back(tmp_path, tool):
    """RO-2: the tool draws the body and a target on the CT it retrieved and
    the Archive holds exactly what the tool wrote (the driver fixes nothing);
    RO-1 + RO-7: the same tool reads that structure set back with its images;
    RO-11 is not something these tools do (exit 4, said why).

    A finding against DicomRTTool 6.2.0, pinned: prediction_array_to_RT copies
    its template_RS.dcm and keeps the template's SOP Instance UID, so every
    patient's structure set has the same UID (PS3.5 9.1); an Archive that keeps
    its first copy (Orthanc at its defaults) returns the first patient's
    contours for the next. rtconform matrix reports it as MATRIX-UID-REUSED."""
    from rtconform.dicom.compare import differences

    _ready(tool)
    with archive_holding(tmp_path, "CT") as (archive, study):
        code, log, err = drive(tool, archive, study, "RO-2", keep=tmp_path / "kept")
        assert code == 0, err
        assert log["retrieved"] == {"CT": SLICES} and len(log["stored"]) == 1
        (held,) = _held(archive, "RTSTRUCT")
        (kept,) = (tmp_path / "kept").iterdir()
        stored, written = pydicom.dcmread(held["path"]), pydicom.dcmread(kept)
        assert not differences(written, stored)
        names = {str(r.ROIName).upper() for r in stored.StructureSetROISequence}
        assert names == {"BODY", "PTV"}
        assert all(len(c.ContourSequence) > 0 for c in stored.ROIContourSequence)
        if tool == "dicomrttool":
            assert stored.SOPInstanceUID == DICOMRTTOOL_TEMPLATE_UID

        code, log, err = drive(tool, archive, study, "RO-1,RO-7")
        assert code == 0, err
        assert log["retrieved"] == {"CT": SLICES, "RTSTRUCT": 1}
        loaded = json.dumps(log["loaded"]).upper()
        assert "BODY" in loaded and "PTV" in loaded

        code, log, err = drive(tool, archive, study, "RO-11")
        assert code == 4 and "RO-11" in log["refused"]


def test_rt_utils_refuses_a_structure_set_without_its_images(tmp_path):
    """The negative RO-7 scenario: rt-utils cannot load a structure set whose
    images it was not given, and says so (exit 1: the harness reads a refusal)."""
    _ready("rt-utils")
    with archive_holding(tmp_path, "RS_structure_set.dcm") as (archive, study):
        code, log, _ = drive("rt-utils", archive, study, "RO-7")
    assert code == 1 and "No DICOM Images found" in log["refused"]


@pytest.mark.parametrize("tool", ["dicompyler-core", "plastimatch"])
def test_a_real_dose_displayer_computes_a_dvh_of_what_it_retrieved(tmp_path, tool):
    """RO-1, RO-7, RO-9, RO-10: the Dose Displayer retrieves the set and the
    tool computes the target's DVH from it (the synthetic plan dose gives the
    PTV its 60 Gy prescription, D95 a little below)."""
    _ready(tool)
    with archive_holding(tmp_path, "CT", "RS_structure_set.dcm", "RP_dosimetric.dcm",
                         "RD_plan.dcm") as (archive, study):
        code, log, err = drive(tool, archive, study, "RO-1,RO-7,RO-9,RO-10", "Dose Displayer")
    assert code == 0, err
    assert log["retrieved"] == {"CT": SLICES, "RTSTRUCT": 1, "RTPLAN": 1, "RTDOSE": 1}
    ptv = log["loaded"]["dvh"]["PTV"]
    assert 50 < ptv["D95_gy"] <= 60.5


def test_a_driver_says_it_was_not_called_by_the_harness():
    """Without the RTCONFORM_* variables a driver is a usage error (exit 2)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCONFORM_")}
    proc = subprocess.run([sys.executable, "-m", "rtconform.suts", "rt-utils"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "RTCONFORM_TRANSACTION" in proc.stderr


def test_a_statement_that_claims_no_table_scenario_still_runs():
    """dicompyler-core's statement claims only retrieves (no SCU row with a
    transaction, no Archive): it generates no conformance-table feature, and
    the scenario module binds none instead of failing to collect (pytest-bdd's
    NoScenariosFound made `rtconform run --sut suts/dicompyler-core.yaml`
    exit 2 before)."""
    env = {**os.environ, "RTCONFORM_STATEMENT": str(ROOT / "conformance" /
                                                     "dicompyler-core.yaml")}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "features"),
                           "--collect-only", "-q", "-p", "no:cacheprovider", "-m",
                           "sut_dose_displayer"], env=env, capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-1500:]
    assert "conformance" not in proc.stdout and "dose_displayer" in proc.stdout


def test_a_received_uid_never_becomes_a_path():
    """What a tool or an Archive sends is untrusted: a SOP Instance UID that
    is not a UID names its file by a digest."""
    from rtconform.suts.driver import uid_file_name

    assert uid_file_name("1.2.3.4") == "1.2.3.4.dcm"
    name = uid_file_name("../../etc/passwd")
    assert name.startswith("invalid-uid-") and "/" not in name and ".." not in name


def test_a_sut_file_names_its_driver(tmp_path):
    """A tool's SUT file becomes a trigger on this very interpreter (PATH may
    name another Python); an Archive driver's needs a running server first,
    and says how to get one; an unknown driver is located."""
    from rtconform.run.sut import SutError, load_sut

    config = load_sut(ROOT / "suts" / "rt-utils.yaml")
    assert config.trigger == f"{sys.executable} -m rtconform.suts rt-utils"
    assert config.actors == ("Contourer",) and config.driver["version"] == "1.2.7"
    with pytest.raises(SutError, match=r"rtconform matrix .*orthanc\.yaml.*serve"):
        load_sut(ROOT / "suts" / "orthanc.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("actors: [Contourer]\ndriver: {tool: nope}\n")
    with pytest.raises(SutError, match="not a known driver"):
        load_sut(bad)

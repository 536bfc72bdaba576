"""--redact on a vendor export with a distinctive identity (PS3.15 Annex E
attributes: patient name, ID, birth date, a referring physician, an
institution, an accession number): no output of `run` or `validate` holds
any of them — fields, finding messages quoting them, picture titles, logs —
except the received DICOM objects themselves. Control: without --redact
they are there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from rtconform.phantom.faults import write_sample

SECRETS = {"PatientName": "Zyxwvut^Quorra", "PatientID": "MRN-8675309",
           "PatientBirthDate": "19421107", "ReferringPhysicianName": "Drkovska^Ilsabet",
           "InstitutionName": "St Qwertyuiop Hospital", "AccessionNumber": "ACC77331"}
SHOWN = ("Zyxwvut", "Quorra", "MRN-8675309", "19421107", "Drkovska", "Qwertyuiop", "ACC77331")


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("redact") / "export"
    write_sample(folder)
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword, value in SECRETS.items():
            setattr(ds, keyword, value)
        if ds.Modality == "RTSTRUCT":
            ds.StructureSetLabel = "Zyxwvut"  # drawn as a picture title
        if path.name == "CT_002.dcm":
            ds.PatientID = "MRN-8675309X"  # a finding message quotes both IDs
        ds.save_as(path)
    return folder


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()
            and p.suffix != ".dcm" and "objects" not in p.relative_to(folder).parts}


@pytest.mark.parametrize("redact", [False, True])
def test_run_and_validate_outputs_hold_no_identity(tmp_path, export, redact):
    flag = ["--redact"] if redact else []
    sut = tmp_path / "sut.yaml"
    sut.write_text(f"name: vendor export\nactors: [Contourer]\nexport_dir: {export}\n")
    run = subprocess.run([sys.executable, "-m", "rtconform", "run", "--sut", str(sut), "--tags",
                          "ro2", "--out", str(tmp_path / "run"), *flag],
                         capture_output=True, timeout=900)
    out = tmp_path / "validate.json"
    val = subprocess.run([sys.executable, "-m", "rtconform", "validate", str(export), "--json",
                          str(out), "--profile", "brto", *flag], capture_output=True, timeout=900)
    assert val.returncode == 1, val.stderr[-1000:]  # the mixed IDs are an error
    messages = " ".join(f["message"] for f in json.loads(out.read_text())["findings"])
    assert "Patient" in messages
    outputs = {**_outputs(tmp_path / "run"), str(out): out.read_bytes(),
               "run console": run.stdout + run.stderr, "validate console": val.stdout + val.stderr}
    assert any(p.endswith("report.md") for p in outputs) and len(outputs) > 8
    leaks = {(name, secret) for name, data in outputs.items() for secret in SHOWN
             if secret.encode() in data}
    if redact:
        assert not leaks, sorted(leaks)
    else:  # the test can fail: unredacted, they are everywhere
        assert {s for _, s in leaks} == set(SHOWN)

"""The synthetic patient: deterministic, complete, internally consistent, and
clean for dciodvfy."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from helpers import tro_findings
from rtconform.phantom.design import N_SLICES
from rtconform.phantom.faults import write_sample
from rtconform.phantom.sets import build_sample


def _uids(folder: Path) -> dict[str, str]:
    return {p.name: str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID)
            for p in sorted(folder.glob("*.dcm"))}


def test_same_uids_and_bytes_every_run(tmp_path):
    write_sample(tmp_path / "a")
    write_sample(tmp_path / "b")
    assert _uids(tmp_path / "a") == _uids(tmp_path / "b")
    for path in (tmp_path / "a").glob("*.dcm"):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_uid_root_changes_every_uid(tmp_path):
    write_sample(tmp_path / "a")
    write_sample(tmp_path / "b", uid_root="1.2.3.4.")
    a, b = _uids(tmp_path / "a"), _uids(tmp_path / "b")
    assert not set(a.values()) & set(b.values())
    assert all(uid.startswith("1.2.3.4.") for uid in b.values())


def test_contents(sample_dir):
    names = sorted(p.name for p in sample_dir.glob("*.dcm"))
    assert sum(n.startswith("CT_") for n in names) == N_SLICES
    assert {"RS_structure_set.dcm", "RP_geometric.dcm", "RP_dosimetric.dcm", "RD_plan.dcm"} \
        <= set(names)
    ss = pydicom.dcmread(sample_dir / "RS_structure_set.dcm")
    rois = {o.RTROIInterpretedType: o.ReferencedROINumber for o in ss.RTROIObservationsSequence}
    assert {"EXTERNAL", "PTV", "CTV", "GTV", "MARKER", "ISOCENTER"} <= set(rois)
    assert sum(o.RTROIInterpretedType == "ORGAN" for o in ss.RTROIObservationsSequence) == 2
    kinds = {c.ContourGeometricType for r in ss.ROIContourSequence for c in r.ContourSequence}
    assert kinds == {"CLOSED_PLANAR", "POINT"}
    # BRTO's geometric plan: one fraction group without metersets, two control
    # points with empty weights, no Final Cumulative Meterset Weight, a block
    geometric = pydicom.dcmread(sample_dir / "RP_geometric.dcm")
    assert "DoseReferenceSequence" not in geometric
    (group,) = geometric.FractionGroupSequence
    assert group.NumberOfBrachyApplicationSetups == 0
    assert not any("BeamMeterset" in r for r in group.ReferencedBeamSequence)
    for beam in geometric.BeamSequence:
        assert "FinalCumulativeMetersetWeight" not in beam
        assert [cp.CumulativeMetersetWeight for cp in beam.ControlPointSequence] == [None, None]
    assert geometric.BeamSequence[0].BlockSequence[0].BlockType == "APERTURE"
    dosimetric = pydicom.dcmread(sample_dir / "RP_dosimetric.dcm")
    assert dosimetric.FractionGroupSequence[0].NumberOfFractionsPlanned > 0
    assert all("BeamMeterset" in r for r in dosimetric.FractionGroupSequence[0]
               .ReferencedBeamSequence)


def test_beam_doses_sum_to_plan_dose(tmp_path):
    write_sample(tmp_path, beam_doses=True)
    sample_dir = tmp_path
    plan = pydicom.dcmread(sample_dir / "RD_plan.dcm")
    beams = [pydicom.dcmread(p) for p in sorted(sample_dir.glob("RD_beam_*.dcm"))]
    assert len(beams) == len(pydicom.dcmread(sample_dir / "RP_dosimetric.dcm").BeamSequence)
    assert plan.DoseSummationType == "PLAN"
    assert {b.DoseSummationType for b in beams} == {"BEAM"}
    total = sum(b.pixel_array.astype(np.int64) * float(b.DoseGridScaling) for b in beams)
    np.testing.assert_allclose(total, plan.pixel_array * float(plan.DoseGridScaling), atol=1e-9)
    assert plan.pixel_array.max() * float(plan.DoseGridScaling) > 50  # Gy: a real prescription


def test_every_reference_resolves(sample_dir):
    assert tro_findings(sample_dir, complete=True) == []


def test_dciodvfy_reports_no_error_on_any_file(sample_dir, dciodvfy):
    files = sorted(sample_dir.glob("*.dcm"))
    assert len(files) == N_SLICES + 4
    for path in files:
        out = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (out.stdout + out.stderr).splitlines()
                  if line.startswith("Error")]
        assert errors == [], f"{path.name}: {errors}"


def _writes_nothing(build, folder, monkeypatch) -> bool:
    """Run `build` with the current and temporary folders at `folder`: True
    when it leaves nothing there."""
    import tempfile

    monkeypatch.chdir(folder)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    build()
    return list(folder.iterdir()) == []


def test_build_in_memory_does_not_touch_disk(tmp_path, monkeypatch):
    assert _writes_nothing(build_sample, tmp_path, monkeypatch)
    assert len(build_sample().datasets) == N_SLICES + 4


def test_the_disk_check_can_fail(tmp_path, monkeypatch):
    import tempfile

    assert not _writes_nothing(lambda: tempfile.mkstemp(), tmp_path, monkeypatch)


def test_the_writer_writes_a_file_whole_or_not_at_all(tmp_path):
    """dicom/writer.py: the bytes pydicom writes for the dataset, renamed into
    place; a write that fails leaves neither the file nor its temporary."""
    from rtconform.dicom.writer import write_dataset

    sample = build_sample()
    ds = sample.datasets["RS_structure_set.dcm"]
    write_dataset(ds, tmp_path / "rs.dcm")
    ds.save_as(tmp_path / "direct.dcm", enforce_file_format=True)
    assert (tmp_path / "rs.dcm").read_bytes() == (tmp_path / "direct.dcm").read_bytes()
    broken = sample.datasets["RP_geometric.dcm"]
    broken.add_new(0x00280010, "US", "not a number")  # Rows: pydicom cannot encode it
    with pytest.raises(Exception):  # noqa: B017 (struct.error, whatever pydicom raises)
        write_dataset(broken, tmp_path / "rp.dcm")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.dcm", "rs.dcm"]

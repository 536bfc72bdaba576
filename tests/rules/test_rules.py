"""Every TRO rule is silent on the clean patient and fires on its own defect."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from helpers import rule_ids, tro_findings
from rtconform.findings import Severity
from rtconform.phantom.faults import FAULTS, write_sample
from rtconform.rules.profiles import all_rules, rules_of

# Rules proven by mutations made in a test instead of --fault: an unknown SOP
# class, what needs the actor's input (--given), the info-only LOG rule, and
# Contour Data too long to be written as Explicit VR at all (tests/rules/test_brto.py).
NOT_BY_FAULT = {"FILE-UNKNOWN-SOP-CLASS", "BRTO-NEW-SOP-INSTANCE", "BRTO-OPTIONAL-ATTRIBUTES",
                "BRTO-SS-CONTOUR-DATA-LENGTH",
                # a File-set is a folder, not an object: proven in tests/rules/test_fileset.py
                "FILESET-DICOMDIR", "FILESET-FILE-ID", "FILESET-UNREFERENCED",
                # a folder's other files: tests/cli/test_cli.py
                "FILE-NOT-DICOM",
                # the info-only TPPC log of each beam's detected type: tests/rules/test_tppc.py
                "TPPC-BEAMS-LOG"}


def test_clean_sample_has_no_finding(sample_dir):
    assert tro_findings(sample_dir) == []


@pytest.mark.parametrize("name", sorted(n for n, f in FAULTS.items() if not f.scenario_only))
def test_fault_trips_exactly_its_rules(name, tmp_path):
    write_sample(tmp_path, name)
    findings = tro_findings(tmp_path, profile=FAULTS[name].profile,
                            complete=FAULTS[name].complete)
    assert rule_ids(findings) == set(FAULTS[name].rule_ids)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    severities = {r.id: r.severity for r in rules_of(FAULTS[name].profile)}
    if any(severities[r] is Severity.ERROR for r in FAULTS[name].rule_ids):
        assert errors, "a fault of an error rule must fail validation"
    for f in findings:
        assert f.source and f.file, f  # every finding says why and where


def test_every_rule_is_proven_by_a_fault():
    proven = set().union(*(f.rule_ids for f in FAULTS.values() if not f.scenario_only))
    registered = {r.id for r in all_rules() if r.check is not None}
    assert registered - proven == NOT_BY_FAULT
    assert proven <= registered


def test_every_rule_has_a_source_and_statement():
    for r in all_rules():
        assert r.source and r.title, r.id


def _mutate(folder, name, change):
    ds = pydicom.dcmread(folder / name)
    change(ds)
    ds.save_as(folder / name)


def _drop_slice(folder, name):
    """Remove a CT slice and every structure set reference to it."""
    gone = str(pydicom.dcmread(folder / name).SOPInstanceUID)
    (folder / name).unlink()

    def change(ds):
        series = (ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
                  .RTReferencedSeriesSequence[0])
        series.ContourImageSequence = [i for i in series.ContourImageSequence
                                       if i.ReferencedSOPInstanceUID != gone]
        for roi in ds.ROIContourSequence:
            roi.ContourSequence = [c for c in roi.ContourSequence
                                   if c.ContourImageSequence[0].ReferencedSOPInstanceUID != gone]

    _mutate(folder, "RS_structure_set.dcm", change)


def test_uneven_ct_spacing_is_only_a_warning(tmp_path):
    write_sample(tmp_path)
    _drop_slice(tmp_path, "CT_058.dcm")  # only the External is contoured there
    findings = tro_findings(tmp_path)
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("CT-SERIES-SPACING", Severity.WARNING)]
    assert "'5': 1" in findings[0].message


def test_duplicate_roi_name_is_a_warning(tmp_path):
    write_sample(tmp_path)
    _mutate(tmp_path, "RS_structure_set.dcm",
            lambda ds: setattr(ds.StructureSetROISequence[5], "ROIName", "Rectum"))
    findings = tro_findings(tmp_path)
    assert rule_ids(findings) == {"SS-ROI-NAME-UNIQUE"}
    assert findings[0].severity is Severity.WARNING


def test_ihe_ro_constraints_apply_only_under_brto(tmp_path):
    """Legal DICOM that IHE-RO BRTO forbids: silent under dicom-rt, an error
    under brto (no false alarm on a legal export)."""
    write_sample(tmp_path)
    _mutate(tmp_path, "RS_structure_set.dcm", lambda ds: (
        setattr(ds.StructureSetROISequence[0], "ROIGenerationAlgorithm", ""),
        setattr(ds.ROIContourSequence[1].ContourSequence[0], "ContourOffsetVector",
                ["0", "0", "1"])))
    assert tro_findings(tmp_path) == []
    assert rule_ids(tro_findings(tmp_path, profile="brto")) == {
        "SS-ROI-GENERATION-ALGORITHM", "SS-CONTOUR-OFFSET"}


def test_a_support_structure_is_legal_dicom_but_not_brto(tmp_path):
    """A couch exported as SUPPORT with CLOSED_PLANAR contours (as planning
    systems do) is a defined term: no finding under dicom-rt."""
    write_sample(tmp_path)
    _mutate(tmp_path, "RS_structure_set.dcm", lambda ds: setattr(
        ds.RTROIObservationsSequence[5], "RTROIInterpretedType", "SUPPORT"))
    assert tro_findings(tmp_path) == []
    assert rule_ids(tro_findings(tmp_path, profile="brto")) == {"BRTO-SS-INTERPRETED-TYPE"}


def test_unknown_sop_class_is_reported_and_run_goes_on(tmp_path):
    write_sample(tmp_path)
    _mutate(tmp_path, "RP_geometric.dcm", lambda ds: (
        setattr(ds, "SOPClassUID", "1.2.826.0.1.3680043.8.498.99"),
        setattr(ds.file_meta, "MediaStorageSOPClassUID", "1.2.826.0.1.3680043.8.498.99")))
    findings = tro_findings(tmp_path)
    unknown = [f for f in findings if f.rule_id == "FILE-UNKNOWN-SOP-CLASS"]
    assert len(unknown) == 1 and unknown[0].file.endswith("RP_geometric.dcm")


def test_partial_set_is_a_warning_and_complete_makes_it_an_error(sample_dir, tmp_path):
    plan = tmp_path / "RP_dosimetric.dcm"
    plan.write_bytes((sample_dir / "RP_dosimetric.dcm").read_bytes())
    partial = tro_findings(tmp_path)
    assert {(f.rule_id, f.severity) for f in partial} == {
        ("PLAN-STRUCTURE-SET-REF", Severity.WARNING)}
    complete = tro_findings(tmp_path, complete=True)
    assert {(f.rule_id, f.severity) for f in complete} == {
        ("PLAN-STRUCTURE-SET-REF", Severity.ERROR)}


def test_tolerance_is_configurable(tmp_path):
    write_sample(tmp_path, "contour-off-plane")  # 1 mm off
    assert "SS-CONTOUR-ON-PLANE" in rule_ids(tro_findings(tmp_path, tolerance_mm=0.5))
    assert "SS-CONTOUR-ON-PLANE" not in rule_ids(tro_findings(tmp_path, tolerance_mm=1.5))


def test_findings_carry_tag_paths(tmp_path):
    write_sample(tmp_path, "contour-point-count")
    (finding,) = tro_findings(tmp_path)
    assert finding.tag_path == "ROIContourSequence[1].ContourSequence[3].NumberOfContourPoints"
    assert finding.sop_instance_uid
    assert "IHE-RO TRO RO-2" in finding.source


def test_a_partial_export_is_legal_until_complete_is_asked(tmp_path):
    """A consistent export that ships one CT slice of sixty: references to the
    others are warnings (no false alarm); --complete makes them errors."""
    write_sample(tmp_path)
    for path in sorted(tmp_path.glob("CT_*.dcm"))[1:]:
        path.unlink()
    partial = tro_findings(tmp_path)
    assert [f for f in partial if f.severity is Severity.ERROR] == []
    assert "SS-CONTOUR-IMAGE-RESOLVES" in rule_ids(partial, ("warning",))
    complete = tro_findings(tmp_path, complete=True)
    assert "SS-CONTOUR-IMAGE-RESOLVES" in rule_ids(complete, ("error",))


def test_dose_sum_resamples_and_a_real_bolus_passes(tmp_path):
    """Controls for the new content rules: a legal BOLUS referenced by a beam
    and a density override with its value pass; beam doses on another grid
    than the plan dose are resampled, not failed."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from rtconform.profiles.dicom_rt.dose_sum import on_grid

    write_sample(tmp_path, beam_doses=True)
    ss = pydicom.dcmread(tmp_path / "RS_structure_set.dcm")
    ss.RTROIObservationsSequence[6].RTROIInterpretedType = "BOLUS"
    roi = int(ss.RTROIObservationsSequence[6].ReferencedROINumber)
    prop = Dataset()
    prop.ROIPhysicalProperty = "REL_ELEC_DENSITY"
    prop.ROIPhysicalPropertyValue = "1.05"
    ss.RTROIObservationsSequence[1].ROIPhysicalPropertiesSequence = Sequence([prop])
    ss.save_as(tmp_path / "RS_structure_set.dcm")
    plan = pydicom.dcmread(tmp_path / "RP_dosimetric.dcm")
    bolus = Dataset()
    bolus.ReferencedROINumber = roi
    plan.BeamSequence[0].ReferencedBolusSequence = Sequence([bolus])
    plan.save_as(tmp_path / "RP_dosimetric.dcm")
    ids = rule_ids(tro_findings(tmp_path, complete=True))
    assert not ids & {"PLAN-BOLUS-REF", "SS-ROI-PHYSICAL-PROPERTIES", "DOSE-BEAM-SUM"}, ids
    # a grid and the same dose on a half-voxel shifted, finer grid agree inside
    z = y = x = np.arange(0.0, 40.0, 4.0)
    dose = np.fromfunction(lambda k, j, i: 1 + 0.1 * i + 0.05 * j + 0.02 * k, (10, 10, 10))
    fine = np.arange(2.0, 34.0, 2.0)
    resampled = on_grid((dose, z, y, x), (fine, fine, fine))
    expected = 1 + 0.1 * fine[None, None, :] / 4 + 0.05 * fine[None, :, None] / 4 \
        + 0.02 * fine[:, None, None] / 4
    assert np.allclose(resampled, expected)

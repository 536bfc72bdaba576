"""Reading untrusted files: truncation and garbage are located, never crash."""

from __future__ import annotations

import re

import pytest

from helpers import PYDICOM_TEST_FILES
from rtconform.dicom.index import Unreadable, read_instance
from rtconform.dicom.read import UnreadableFile, check_structure, read_header


@pytest.mark.parametrize("name", ["RS_structure_set.dcm", "CT_001.dcm", "RD_plan.dcm"])
@pytest.mark.parametrize("fraction", [0.01, 0.3, 0.6, 0.99])
def test_truncation_anywhere_is_detected_with_its_offset(sample_dir, tmp_path, name, fraction):
    data = (sample_dir / name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(UnreadableFile) as caught:
        read_header(cut)
    assert _located(str(caught.value), len(data)), str(caught.value)


def _located(message: str, size: int) -> bool:
    """The message names a byte offset within the file."""
    offsets = [int(n) for n in re.findall(r"byte (\d+)", message)]
    return bool(offsets) and all(0 <= n <= size for n in offsets)


def test_the_location_check_can_fail():
    assert _located("truncated at byte 120", 1000)
    assert not _located("truncated", 1000)  # no offset
    assert not _located("truncated at byte 5000", 1000)  # beyond the file


def test_intact_files_pass_and_report_pixel_data_length(sample_dir):
    structure = check_structure(sample_dir / "CT_001.dcm")
    from rtconform.phantom.design import MATRIX

    assert structure.pixel_data_length == MATRIX * MATRIX * 2
    assert check_structure(sample_dir / "RS_structure_set.dcm").pixel_data_length is None


def test_encapsulated_pixel_data_is_walked():
    structure = check_structure(PYDICOM_TEST_FILES / "MR_small_RLE.dcm")
    assert structure.pixel_data_length == -1


def test_pydicom_truncated_plan_is_caught():
    # pydicom itself returns a partial dataset here without complaint
    with pytest.raises(UnreadableFile, match=r"\(300A,00B0\) at byte 1410 .*\(truncated\)"):
        read_header(PYDICOM_TEST_FILES / "rtplan_truncated.dcm")


def test_text_file_is_unreadable_not_a_crash(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not DICOM\n" * 20)
    result = read_instance(path)
    assert isinstance(result, Unreadable) and "not a DICOM file" in result.reason


def test_bare_dataset_without_file_meta_is_read():
    inst, _ = read_instance(PYDICOM_TEST_FILES / "rtstruct.dcm")
    assert inst.kind == "rtstruct" and inst.part10 is False


def test_images_keep_no_dataset(sample_dir):
    inst, _ = read_instance(sample_dir / "CT_001.dcm")
    assert inst.dataset is None and inst.position is not None
    rt, _ = read_instance(sample_dir / "RP_geometric.dcm")
    assert rt.dataset is not None

"""Fuzzing as a standing test: broken variants of the synthetic patient
(rtconform.dicom.mutations, drawn by hypothesis) through the reader and the
validator, and through the Archive's C-STORE path. The always-on slice is
small; benchmarks/fuzz_bench.py runs ten thousand cases.

Each case must end as a finding naming the file (or a clean read), never an
exception; the Archive answers each with a status and keeps serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import require_module
from rtconform.dicom import mutations as m
from rtconform.validate import ValidationOptions, validate_paths

hypothesis = require_module("hypothesis", "hypothesis")
st = hypothesis.strategies

MAX_BYTES = m.FUZZ_MAX_OBJECT_MB


@pytest.fixture(scope="module")
def bases(sample_dir) -> dict[str, bytes]:
    return {name: (sample_dir / name).read_bytes()
            for name in ("RS_structure_set.dcm", "RP_geometric.dcm", "CT_001.dcm")}


def cases(bases: dict[str, bytes]):
    base = st.sampled_from(sorted(bases)).map(bases.get)
    index = st.integers(0, 63)
    return st.one_of(
        st.tuples(base, st.integers(1, 1 << 20)).map(
            lambda t: m.truncate(t[0], t[1] % len(t[0]))),
        st.tuples(base, index, st.binary(min_size=2, max_size=2)).map(
            lambda t: m.overwrite_vr(*t)),
        st.tuples(base, index, st.integers(0, 0xFFFFFFFF)).map(
            lambda t: m.overwrite_length(*t)),
        st.tuples(base, index).map(lambda t: m.huge_length(*t)),
        st.tuples(base, st.lists(st.integers(0, 1 << 20), min_size=1, max_size=8),
                  st.integers(0, 255)).map(lambda t: m.flip_bytes(*t)),
        st.sampled_from([30, 400, 3000]).map(m.deep_sequence),
        st.sampled_from([2, 40]).map(m.deflate_bomb),
        st.tuples(st.integers(0, 1 << 30), st.integers(0, 2048)).map(lambda t: m.junk(*t)),
        st.just(m.empty()),
    )


def test_mutations_break_what_they_say():
    """Controls: the generators make what they claim (the fuzz can find things)."""
    assert len(m.deep_sequence(10).data) > 132 and m.deflate_bomb(40).broken
    assert not m.deflate_bomb(2).broken and m.truncate(b"x" * 200, 150).data == b"x" * 150


def test_fuzzed_files_become_findings(tmp_path, bases):
    seen: list[str] = []

    @hypothesis.settings(max_examples=60, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=cases(bases))
    def check(case):
        path = tmp_path / f"case{len(seen)}[red].dcm"  # console markup in the name too
        path.write_bytes(case.data)
        seen.append(case.kind)
        result = validate_paths([path], ValidationOptions(max_object_mb=MAX_BYTES))
        named = [f for f in result.findings if f.file == str(path)]
        if case.broken:
            assert named, f"{case.kind} ({case.note}) not named in a finding"

    check()
    assert len(set(seen)) >= 6, seen  # the slice drew many kinds


def test_a_folder_of_fuzzed_files_validates_with_its_json(tmp_path, bases):
    """The CLI with dciodvfy over one folder of every kind (and a FIFO): exit
    0 or 1, never 3, and the JSON names each broken file."""
    import random

    rng = random.Random(20261130)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    broken = []
    for i in range(40):
        case = m.random_case(rng, bases[sorted(bases)[i % len(bases)]])
        path = folder / f"{i:03d}_{case.kind}.dcm"
        path.write_bytes(case.data)
        if case.broken:
            broken.append(str(path))
    os.mkfifo(folder / "fifo.dcm")
    broken.append(str(folder / "fifo.dcm"))
    out = tmp_path / "fuzz.json"
    proc = subprocess.run([sys.executable, "-m", "rtconform", "validate", str(folder),
                           "--json", str(out), "--max-object-mb", str(MAX_BYTES)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    named = {f["file"] for f in json.loads(out.read_text())["findings"]}
    assert set(broken) <= named, sorted(set(broken) - named)


def test_fuzzed_datasets_through_the_archive_c_store(tmp_path, bases, sample_dir):
    """Raw dataset bytes as a broken peer sends them: each C-STORE gets a
    status, nothing unreadable is stored, and the Archive keeps serving."""
    import random

    from peers import send_raw_c_store
    from rtconform.actors.archive import Archive, ArchiveConfig
    from rtconform.actors.node import ServiceUser
    from rtconform.actors.recorder import AssociationRecorder

    recorder = AssociationRecorder(tmp_path / "a.jsonl")
    rng = random.Random(7)
    statuses = []
    with Archive(ArchiveConfig(store_dir=tmp_path / "store"), recorder) as archive:
        while len(statuses) < 12:
            case = m.random_case(rng, bases["RS_structure_set.dcm"])
            # the data set after the file meta, as it travels in P-DATA
            meta_end = 132 + 12 + int.from_bytes(case.data[140:144], "little") \
                if case.data[128:132] == b"DICM" else 0
            payload = case.data[meta_end:][:1 << 20]
            if payload:  # (no data set at all: the SCP rightly waits for one)
                statuses.append(send_raw_c_store(archive.peer.port, payload,
                                                 "1.2.826.0.1.3680043.8.498.99"))
        assert ServiceUser("AFTER", recorder, "test").store(
            archive.peer, [sample_dir / "CT_001.dcm"]).ok
        for path in archive.store.paths():
            assert Path(path).is_file()
    # every one answered; a broken data set is refused (0xC210 cannot understand,
    # 0xA900 SOP Instance UID differs), never acknowledged as stored
    assert len(statuses) == 12 and set(statuses) <= {0x0000, 0xC210, 0xA900}, statuses


def test_findings_stay_bounded_whatever_a_file_holds():
    """A broken file once quoted 200 KB values in ten thousand findings (a 7.6 GB
    JSON, 16 GB of memory): messages and findings per rule and file are bounded."""
    from rtconform.findings import (
        MAX_MESSAGE,
        MAX_PER_RULE_AND_FILE,
        Finding,
        Severity,
        bounded,
    )

    long = Finding("UID-VALID", Severity.ERROR, "x" * 200_000, file="f.dcm")
    assert len(long.message) < MAX_MESSAGE + 100 and "more characters" in long.message
    many = [Finding("UID-VALID", Severity.ERROR, f"uid {i}", file="f.dcm") for i in range(5000)]
    kept = bounded(many)
    assert len(kept) == MAX_PER_RULE_AND_FILE + 1 and "4900 more" in kept[-1].message


def test_a_worker_result_stays_small_whatever_a_file_holds(tmp_path, sample_dir):
    """A fuzzed file with a 200 KB SOP Instance UID and thousands of findings
    made a worker's result 4 GB of JSON (each finding quoting the UID): exit 3
    under the fuzz bench's memory cap. Quoted UIDs and tag paths are bounded,
    findings are bounded in the worker, and bounding twice keeps the count."""
    import pydicom

    from rtconform.filecheck import FileResult, FileSettings, check_file
    from rtconform.findings import Finding, Severity, bounded

    uid = "1." + "2" * 200_000
    findings = [Finding("STD-TYPE1", Severity.ERROR, f"element {i}", file="f.dcm",
                        sop_instance_uid=uid, tag_path="A[0]." * 10_000) for i in range(3000)]
    once = bounded(findings)
    assert len(once) == 101 and "2900 more" in once[-1].message
    assert bounded(once)[-1].message == once[-1].message
    result = FileResult("f.dcm", 1, 1, once)
    assert len(result.to_wire()) < 200_000
    assert FileResult.from_wire(result.to_wire()).findings == once  # read back as written

    ds = pydicom.dcmread(sample_dir / "CT_001.dcm")
    ds.SOPInstanceUID = uid
    ds.save_as(tmp_path / "long.dcm")
    result = check_file(tmp_path / "long.dcm", FileSettings())
    assert all(len(f.sop_instance_uid) < 400 for f in result.findings)

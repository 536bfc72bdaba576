"""Broken files on purpose, for fuzzing the reader, the validator and the
Archive's C-STORE path: the ways real exports and hostile peers break DICOM
(a truncation, a wrong VR or length, sequences nested past any sane depth, a
declared length of gigabytes, a deflate bomb, bytes that are not DICOM).

Each mutation is a pure function of its input bytes and parameters, so a
hypothesis strategy (tests/validate/test_fuzz.py) and a seeded random run
(benchmarks/fuzz_bench.py) can draw the same cases.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass

PREAMBLE = b"\0" * 128 + b"DICM"
CT_IMAGE = b"1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_LE = b"1.2.840.10008.1.2.1"
DEFLATED = b"1.2.840.10008.1.2.1.99"

# The fuzz runs read with this bound (validate --max-object-mb): the larger
# deflate bombs exceed it, the smaller ones do not.
FUZZ_MAX_OBJECT_MB = 32
KINDS = ("truncate", "overwrite-vr", "overwrite-length", "huge-length", "flip-bytes",
         "deep-sequence", "deflate-bomb", "junk", "empty")


@dataclass(frozen=True)
class Case:
    kind: str
    data: bytes
    note: str = ""
    # certainly not a readable DICOM object: a reader must name it in a
    # finding (a VR or value overwrite, or 50 nested sequences, may stay legal)
    broken: bool = False


def _pad(value: bytes) -> bytes:
    return value + (b"\0" if len(value) % 2 else b"")


def element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    """One Explicit VR Little Endian element."""
    value = _pad(value)
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL"):
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def file_meta(transfer_syntax: bytes, sop_class: bytes = CT_IMAGE,
              sop_instance: bytes = b"1.2.826.0.1.3680043.8.498.1") -> bytes:
    body = (element(0x0002, 0x0001, b"OB", b"\0\1") + element(0x0002, 0x0002, b"UI", sop_class)
            + element(0x0002, 0x0003, b"UI", sop_instance)
            + element(0x0002, 0x0010, b"UI", transfer_syntax))
    return PREAMBLE + element(0x0002, 0x0000, b"UL", struct.pack("<I", len(body))) + body


def element_offsets(data: bytes) -> list[int]:
    """Offsets of top-level data set elements of an Explicit VR LE file
    (where a VR or length can be corrupted to mean something)."""
    offsets, pos = [], 132
    while pos + 8 <= len(data):
        group, _, vr = struct.unpack_from("<HH2s", data, pos)
        offsets.append(pos)
        if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL"):
            (length,) = struct.unpack_from("<I", data, pos + 8)
            header = 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            header = 8
        if length == 0xFFFFFFFF or not vr.isalpha():
            break
        pos += header + length
        if group == 0x7FE0:
            break
    return offsets


def truncate(data: bytes, at: int) -> Case:
    at = max(0, min(at, len(data) - 1))
    return Case("truncate", data[:at], f"cut at byte {at} of {len(data)}", broken=True)


def overwrite_vr(data: bytes, index: int, vr: bytes) -> Case:
    offsets = element_offsets(data)
    pos = offsets[index % len(offsets)] + 4
    return Case("overwrite-vr", data[:pos] + vr[:2].ljust(2, b"?") + data[pos + 2:],
                f"VR at byte {pos} set to {vr[:2]!r}")


def overwrite_length(data: bytes, index: int, length: int) -> Case:
    offsets = element_offsets(data)
    pos = offsets[index % len(offsets)]
    vr = data[pos + 4:pos + 6]
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL"):
        patched = data[:pos + 8] + struct.pack("<I", length & 0xFFFFFFFF) + data[pos + 12:]
    else:
        patched = data[:pos + 6] + struct.pack("<H", length & 0xFFFF) + data[pos + 8:]
    return Case("overwrite-length", patched, f"length at byte {pos} set to {length}")


def huge_length(data: bytes, index: int) -> Case:
    """An element announcing ~4 GB in a file of kilobytes."""
    offsets = element_offsets(data)
    pos = offsets[index % len(offsets)]
    tail = element(0x0009, 0x1010, b"OB", b"x")[:8] + struct.pack("<I", 0xFFFFFFF0) + b"x" * 16
    return Case("huge-length", data[:pos] + tail, f"OB of 0xFFFFFFF0 bytes at byte {pos}",
                broken=True)


def flip_bytes(data: bytes, positions: list[int], value: int) -> Case:
    out = bytearray(data)
    for p in positions:
        out[132 + p % max(1, len(out) - 132)] = value & 0xFF
    return Case("flip-bytes", bytes(out), f"{len(positions)} bytes set to {value & 0xFF:#04x}")


def deep_sequence(depth: int) -> Case:
    """Sequences nested `depth` deep, undefined lengths (a recursion bomb)."""
    head = struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0xFFFFFFFF)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    item_end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    seq_end = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    body = (head + item) * depth + (item_end + seq_end) * depth
    ds = (element(0x0008, 0x0016, b"UI", CT_IMAGE)
          + element(0x0008, 0x0018, b"UI", b"1.2.826.0.1.3680043.8.498.2") + body)
    return Case("deep-sequence", file_meta(EXPLICIT_LE) + ds, f"{depth} levels")


def deflate_bomb(inflated_mb: int) -> Case:
    """A deflated data set of a few kilobytes that inflates to `inflated_mb` MB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(inflated_mb))
    body += compressor.flush()
    return Case("deflate-bomb", file_meta(DEFLATED) + body,
                f"{len(body)} bytes inflating to {inflated_mb} MB",
                broken=inflated_mb > FUZZ_MAX_OBJECT_MB)


def junk(seed: int, size: int) -> Case:
    rng = random.Random(seed)
    kinds = [b"%PDF-1.7\n", b"<?xml version='1.0'?>", b"", b"PK\3\4", b"\x89PNG\r\n"]
    head = kinds[seed % len(kinds)]
    return Case("junk", head + rng.randbytes(max(0, size - len(head))), f"{size} bytes",
                broken=True)


def empty() -> Case:
    return Case("empty", b"", "0 bytes", broken=True)


def multi_valued_name(base: bytes, value: str = "A^B\\C^D") -> Case:
    """The object with a Patient Name of two values: legal-looking (VM is
    1 for PN, but readers take it), and a pydicom dataset holding it cannot be
    pickled, which once cost a whole validation with worker processes."""
    import io

    import pydicom

    ds = pydicom.dcmread(io.BytesIO(base))
    ds.PatientName = value
    out = io.BytesIO()
    ds.save_as(out)
    return Case("multi-valued-pn", out.getvalue(), f"PatientName {value!r}")


def long_contour(base: bytes, points: int) -> Case:
    """A structure set reduced to one contour of `points` points (a circle
    of 100 mm on the plane of its first contour), in Implicit VR so the long
    Contour Data stays DS: legal, and 25 bytes a point to decode."""
    import io

    import numpy as np
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(base))
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    z = float(contour.ContourData[2])
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    xyz = np.column_stack([100 * np.cos(t), 100 * np.sin(t), np.full(points, z)]).ravel()
    contour.ContourData = [f"{v:.4f}" for v in xyz]
    contour.NumberOfContourPoints = points
    ds.ROIContourSequence[0].ContourSequence = [contour]
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2"
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=True, little_endian=True)
    return Case("long-contour", out.getvalue(), f"one contour of {points} points")


def random_case(rng: random.Random, base: bytes) -> Case:
    """One case of any kind, drawn from `rng` (the benchmark's way)."""
    kind = rng.choice(KINDS)
    if kind == "truncate":
        return truncate(base, rng.randrange(1, len(base)))
    if kind == "overwrite-vr":
        return overwrite_vr(base, rng.randrange(64), bytes(rng.choice(range(0x20, 0x7F))
                                                            for _ in range(2)))
    if kind == "overwrite-length":
        return overwrite_length(base, rng.randrange(64), rng.choice(
            [0, 1, 3, 0xFFFF, 0xFFFFFFFF, rng.randrange(1 << 32)]))
    if kind == "huge-length":
        return huge_length(base, rng.randrange(64))
    if kind == "flip-bytes":
        return flip_bytes(base, [rng.randrange(len(base)) for _ in range(rng.randrange(1, 9))],
                          rng.randrange(256))
    if kind == "deep-sequence":
        return deep_sequence(rng.choice([50, 500, 2000, 10000]))
    if kind == "deflate-bomb":
        return deflate_bomb(rng.choice([8, 64]))
    if kind == "junk":
        return junk(rng.randrange(1 << 30), rng.randrange(0, 4096))
    return empty()

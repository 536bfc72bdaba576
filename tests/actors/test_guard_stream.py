"""The guard's PDU bookkeeping (`rtconform.actors.guard`), byte by byte: the
PDU stream follows PS3.8 PDU and PDV boundaries without keeping bodies,
refuses a declared length over the bound before the body arrives, counts a
data set against the object bound, and answers the kept C-STORE-RQ with a
C-STORE-RSP that pynetdicom decodes. Real encodings (`rtconform.actors.rawpeer`),
no network: the guard's behaviour on a socket is in tests/actors/test_hostile.py."""

from __future__ import annotations

import io
import struct

import pytest
from pynetdicom.dsutils import decode

from rtconform.actors.guard import (
    MAX_ASSOCIATION_PDU,
    ConnectionLimits,
    PDUStream,
    store_refusal,
)
from rtconform.actors.rawpeer import associate_rq, command_set, p_data_tf

CT = "1.2.840.10008.5.1.4.1.1.2"
C_STORE_RQ = 0x0001


def fed(stream: PDUStream, data: bytes, chunk: int) -> str | None:
    """Feed `data` in chunks of `chunk` bytes (as recv() hands it over); the
    first problem, or None."""
    for start in range(0, len(data), chunk):
        problem = stream.feed(data[start:start + chunk])
        if problem:
            return problem
    return None


@pytest.mark.parametrize("chunk", [1, 5, 7, 4096])
def test_a_store_message_passes_and_its_command_is_kept(chunk: int) -> None:
    command = command_set(C_STORE_RQ, CT, "1.2.3.4", message_id=7)
    data = bytes(3000)
    pdus = (associate_rq("SUT", "HARNESS") + p_data_tf(3, 0x03, command)
            + p_data_tf(3, 0x00, data[:1500]) + p_data_tf(3, 0x02, data[1500:]))
    stream = PDUStream(max_pdu=16382, max_object_bytes=4000)
    assert fed(stream, pdus, chunk) is None
    assert bytes(stream.command) == command and stream.context_id == 3
    assert stream.data_bytes == 0  # the last fragment closed the data set
    assert not stream.too_large


def test_a_pdata_longer_than_announced_is_refused_from_its_header() -> None:
    stream = PDUStream(max_pdu=16382)
    header = struct.pack(">BBL", 0x04, 0, 16383)  # the body never needs to arrive
    assert stream.feed(header) == ("PDU type 0x04 declares 16383 bytes, more than the 16382 "
                                   "allowed")
    assert PDUStream(max_pdu=16382).feed(struct.pack(">BBL", 0x04, 0, 16382)) is None


def test_an_association_pdu_has_its_own_bound_and_unlimited_is_still_bounded() -> None:
    rq = struct.pack(">BBL", 0x01, 0, MAX_ASSOCIATION_PDU + 1)
    assert "more than the 1048576 allowed" in PDUStream(max_pdu=0).feed(rq)
    big = struct.pack(">BBL", 0x04, 0, (64 << 20) + 1)
    assert "more than the 67108864 allowed" in PDUStream(max_pdu=0).feed(big)
    assert PDUStream(max_pdu=0).feed(struct.pack(">BBL", 0x04, 0, 64 << 20)) is None


def test_an_unknown_pdu_type_is_left_to_pynetdicom() -> None:
    assert PDUStream(max_pdu=16382).feed(struct.pack(">BBL", 0x4A, 0, 1 << 30)) is None


def test_a_data_set_over_the_object_bound_is_too_large_and_answered() -> None:
    command = command_set(C_STORE_RQ, CT, "1.2.3.4.5", message_id=42)
    stream = PDUStream(max_pdu=0, max_object_bytes=1 << 20)  # --max-object-mb 1
    assert stream.feed(p_data_tf(1, 0x03, command)) is None
    assert stream.feed(p_data_tf(1, 0x00, bytes(1 << 19))) is None
    assert stream.feed(p_data_tf(1, 0x00, bytes(1 << 19))) is None  # exactly the bound
    problem = stream.feed(p_data_tf(1, 0x00, bytes(1)))
    assert problem == "a data set of more than 1 MB (the most one object may take)"
    assert stream.too_large
    refusal, why_not = store_refusal(stream, 0xA700)
    assert why_not == ""
    pdu_type, _, length = struct.unpack(">BBL", refusal[:6])
    assert (pdu_type, length) == (0x04, len(refusal) - 6)
    pdv_length, context_id, control = struct.unpack(">LBB", refusal[6:12])
    assert (pdv_length, context_id, control) == (length - 4, 1, 0x03)  # command, last
    rsp = decode(io.BytesIO(refusal[12:]), True, True)
    assert rsp.CommandField == 0x8001 and rsp.Status == 0xA700
    assert rsp.MessageIDBeingRespondedTo == 42
    assert rsp.AffectedSOPInstanceUID == "1.2.3.4.5" and rsp.AffectedSOPClassUID == CT


def test_a_second_message_starts_a_new_count() -> None:
    stream = PDUStream(max_pdu=16382, max_object_bytes=10_000)
    for uid in ("1.2.3.1", "1.2.3.2"):  # two 8,000-byte objects: each under the bound
        assert stream.feed(p_data_tf(1, 0x03, command_set(C_STORE_RQ, CT, uid))) is None
        assert stream.feed(p_data_tf(1, 0x02, bytes(8000))) is None
    assert b"1.2.3.2" in bytes(stream.command)


def test_no_command_kept_means_no_response_only_the_abort() -> None:
    refusal, why_not = store_refusal(PDUStream(max_pdu=16382))
    assert refusal == b"" and why_not.startswith("no C-STORE-RSP could be built for it")


def test_pending_connections_per_address_default_to_a_quarter() -> None:
    assert ConnectionLimits(max_pending=64).per_address == 16
    assert ConnectionLimits(max_pending=8).per_address == 4  # never fewer than 4
    assert ConnectionLimits(max_pending=64, max_pending_per_address=2).per_address == 2

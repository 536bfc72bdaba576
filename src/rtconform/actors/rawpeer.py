"""A peer that speaks the DICOM upper layer by hand (PS3.8 9.3), for the
hostile tests and benchmarks: it sends what pynetdicom refuses to build (a UID
of 200 characters) and streams a data set of any size in PDUs of a chosen
length without ever holding it, as a misbehaving or malicious sender would.
It is not used by the harness itself."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Iterator

from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import ImplicitVRLittleEndian

VERIFICATION = "1.2.840.10008.1.1"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
C_STORE_RQ = 0x0001


def _item(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(body)) + body


def _ae(title: str) -> bytes:
    return title.encode("ascii").ljust(16)[:16]


def associate_rq(called: str, calling: str, abstract_syntax: str = VERIFICATION,
                 transfer_syntax: str = ImplicitVRLittleEndian, max_pdu: int = 16384) -> bytes:
    """An A-ASSOCIATE-RQ proposing one presentation context (ID 1)."""
    body = _item(0x10, APPLICATION_CONTEXT.encode())
    body += _item(0x20, bytes([1, 0, 0, 0]) + _item(0x30, abstract_syntax.encode())
                  + _item(0x40, transfer_syntax.encode()))
    body += _item(0x50, _item(0x51, struct.pack(">I", max_pdu)) + _item(0x52, b"1.2.3.4"))
    pdu = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + bytes(32) + body
    return struct.pack(">BBI", 0x01, 0, len(pdu)) + pdu


def encode_implicit(ds: Dataset) -> bytes:
    """A data set (or command set) in Implicit VR Little Endian, no checks."""
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, True
    write_dataset(fp, ds)
    return fp.getvalue()


def command_set(command_field: int, sop_class: str, sop_instance: str,
                message_id: int = 1, has_data: bool = True) -> bytes:
    """A DIMSE command set with its group length (PS3.7 E.1), values unchecked:
    a UID may be of any length."""
    ds = Dataset()
    ds.add_new(0x00000002, "UI", sop_class)
    ds.add_new(0x00000100, "US", command_field)
    ds.add_new(0x00000110, "US", message_id)
    ds.add_new(0x00000700, "US", 0)  # priority medium
    ds.add_new(0x00000800, "US", 0x0000 if has_data else 0x0101)
    ds.add_new(0x00001000, "UI", sop_instance)
    body = encode_implicit(ds)
    return struct.pack("<HHII", 0, 0, 4, len(body)) + body


def p_data_tf(context_id: int, control: int, fragment: bytes) -> bytes:
    """One P-DATA-TF PDU holding one PDV (control: bit 0 command, bit 1 last)."""
    pdv = struct.pack(">IBB", len(fragment) + 2, context_id, control) + fragment
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def fragments(stream: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """(fragment, last) of at most `size` bytes from a stream of chunks."""
    buffer = b""
    for chunk in stream:
        buffer += chunk
        while len(buffer) > size:
            yield buffer[:size], False
            buffer = buffer[size:]
    yield buffer, True


def pixel_data_stream(header: Dataset, length: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """`header` then a Pixel Data element of `length` zero bytes, generated
    as sent (Implicit VR Little Endian): a data set of a gigabyte costs the
    sender a megabyte."""
    yield encode_implicit(header)
    yield struct.pack("<HHI", 0x7FE0, 0x0010, length)
    zeros = bytes(chunk)
    left = length
    while left:
        take = min(chunk, left)
        yield zeros[:take]
        left -= take


class RawPeer:
    """One TCP connection to an SCP, driven PDU by PDU."""

    def __init__(self, host: str, port: int, timeout: float = 30.0,
                 source: str | None = None) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sent = 0  # bytes of P-DATA-TF sent

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_pdu(self) -> tuple[int, bytes] | None:
        """(PDU type, body), or None when the peer closed the connection."""
        head = self._read(6)
        if head is None:
            return None
        kind, _, length = struct.unpack(">BBI", head)
        body = self._read(length)
        return (kind, body) if body is not None else None

    def _read(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except (ConnectionResetError, TimeoutError):
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def associate(self, called: str, calling: str, abstract_syntax: str,
                  transfer_syntax: str = ImplicitVRLittleEndian) -> bool:
        self.sock.sendall(associate_rq(called, calling, abstract_syntax, transfer_syntax))
        answer = self.read_pdu()
        return answer is not None and answer[0] == 0x02

    def store(self, sop_class: str, sop_instance: str, data: Iterable[bytes],
              pdu_data: int = 16372) -> int | None:
        """C-STORE `data` in P-DATA-TF PDUs carrying `pdu_data` bytes each;
        the status answered, or None if the SCP aborted or closed first (its
        A-ABORT and any response sent before it are read)."""
        try:
            self.sock.sendall(p_data_tf(1, 0x03, command_set(C_STORE_RQ, sop_class,
                                                             sop_instance)))
            for fragment, last in fragments(data, pdu_data):
                pdu = p_data_tf(1, 0x02 if last else 0x00, fragment)
                self.sock.sendall(pdu)
                self.sent += len(pdu)
        except OSError:
            pass  # the SCP stopped reading: its answer, if any, is below
        return self.status()

    def status(self) -> int | None:
        """The Status of the first DIMSE response read, or None."""
        while (pdu := self.read_pdu()) is not None:
            kind, body = pdu
            if kind != 0x04:
                return None
            value = body[6:]  # PDV length, context ID, control header
            at = value.find(struct.pack("<HHI", 0x0000, 0x0900, 2))
            if at >= 0:
                return struct.unpack("<H", value[at + 8:at + 10])[0]
        return None

"""Reading DICOM files without trusting them.

pydicom quietly returns a partial dataset for a truncated file, so before a
file is believed we walk its element stream (tags and lengths only, values are
skipped): a length running past the end of the file or a missing delimiter is
reported with its byte offset. The walk also yields the Pixel Data length, so
rules can check it without loading the pixels.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
# What one object may take in memory once read (pixel data is never read):
# a deflated file is inflated in a bounded stream first, so a small "zip
# bomb" cannot take the harness to gigabytes (validate --max-object-mb).
DEFAULT_MAX_OBJECT_BYTES = 512 << 20


class UnreadableFile(Exception):
    """A file that is not a DICOM Part 10 file, or whose structure is broken."""


class NotPart10(UnreadableFile):
    """No preamble and 'DICM' prefix: maybe a bare dataset, as dcmtk tolerates."""


class NotDicom(UnreadableFile):
    """Neither a Part 10 file nor a bare data set: a PDF, an XML, a log …"""



def quiet_reading() -> None:
    """Invalid values are findings to report, not pydicom warnings to print:
    set in every process that reads (the command, each worker process, each
    Dask task), since pydicom's setting is per process."""
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE

@dataclass
class Structure:
    transfer_syntax: str
    pixel_data_length: int | None  # None: absent; -1: encapsulated
    part10: bool = True


class _Walker:
    def __init__(self, fp: BinaryIO, size: int) -> None:
        self.fp, self.size = fp, size
        self.pixel_data_length: int | None = None

    def _header(self, explicit: bool, endian: str) -> tuple[int, bytes | None, int, int]:
        start = self.fp.tell()
        raw = self.fp.read(8)
        if len(raw) < 8:
            raise UnreadableFile(f"truncated element header at byte {start}")
        group, elem = struct.unpack(endian + "HH", raw[:4])
        tag = (group << 16) | elem
        if group == 0xFFFE:  # items and delimiters never carry a VR
            return tag, None, struct.unpack(endian + "L", raw[4:])[0], start
        if not explicit:
            return tag, None, struct.unpack(endian + "L", raw[4:])[0], start
        vr = raw[4:6]
        if vr in _LONG_VRS:
            more = self.fp.read(4)
            if len(more) < 4:
                raise UnreadableFile(f"truncated element header at byte {start}")
            return tag, vr, struct.unpack(endian + "L", more)[0], start
        return tag, vr, struct.unpack(endian + "H", raw[6:])[0], start

    def _skip(self, length: int, tag: int, start: int) -> None:
        end = self.fp.tell() + length
        if end > self.size:
            raise UnreadableFile(
                f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {start} claims {length}"
                f" bytes but the file ends at byte {self.size} (truncated)"
            )
        self.fp.seek(end)

    def dataset(self, explicit: bool, endian: str, end: int | None, top: bool) -> None:
        """Walk elements until `end` (defined length) or an item delimiter."""
        while True:
            if end is not None and self.fp.tell() >= end:
                return
            if end is None and top and self.fp.tell() >= self.size:
                return
            tag, vr, length, start = self._header(explicit, endian)
            if tag == _ITEM_END:
                if end is not None or top:
                    raise UnreadableFile(f"unexpected item delimiter at byte {start}")
                return
            if tag in (_ITEM, _SEQ_END):
                raise UnreadableFile(f"unexpected item tag at byte {start}")
            if length == _UNDEFINED:
                inner_explicit = explicit and vr != b"UN"
                self.items(inner_explicit, endian, start, fragments=tag == PIXEL_DATA)
                if tag == PIXEL_DATA:
                    self.pixel_data_length = -1
            elif vr == b"SQ" or (vr is None and length and self._looks_like_item(endian)):
                seq_end = self.fp.tell() + length
                if seq_end > self.size:
                    self._skip(length, tag, start)
                self.items(explicit, endian, start, seq_end)
            else:
                if tag == PIXEL_DATA:
                    self.pixel_data_length = length
                self._skip(length, tag, start)

    def _looks_like_item(self, endian: str) -> bool:
        """Implicit VR: a sequence is recognised by an item tag right after it."""
        here = self.fp.tell()
        peek = self.fp.read(4)
        self.fp.seek(here)
        return len(peek) == 4 and struct.unpack(endian + "HH", peek) == (0xFFFE, 0xE000)

    def items(self, explicit: bool, endian: str, start: int, seq_end: int | None = None,
              fragments: bool = False) -> None:
        """Items of a sequence, or the fragments of encapsulated Pixel Data."""
        while True:
            if seq_end is not None and self.fp.tell() >= seq_end:
                return
            if self.fp.tell() >= self.size:
                raise UnreadableFile(f"sequence starting at byte {start} is not terminated "
                                     "(truncated)")
            tag, _, length, item_start = self._header(False, endian)
            if tag == _SEQ_END:
                return
            if tag != _ITEM:
                raise UnreadableFile(f"expected an item at byte {item_start}, found tag "
                                     f"({tag >> 16:04X},{tag & 0xFFFF:04X})")
            if fragments:
                self._skip(length, tag, item_start)
            elif length == _UNDEFINED:
                self.dataset(explicit, endian, None, top=False)
            else:
                item_end = self.fp.tell() + length
                if item_end > self.size:
                    self._skip(length, tag, item_start)
                self.dataset(explicit, endian, item_end, top=False)


def check_structure(path: Path, max_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> Structure:
    """Walk the whole element stream of a Part 10 file; raise UnreadableFile
    with the byte offset of the first problem."""
    size = path.stat().st_size
    with path.open("rb") as fp:
        structure = check_stream(fp, size, max_bytes)
    if size - (structure.pixel_data_length or 0) > max_bytes:
        raise UnreadableFile(f"{size - (structure.pixel_data_length or 0)} bytes besides pixel "
                             f"data: more than the {max_bytes >> 20} MB allowed "
                             "(--max-object-mb)")
    return structure


def _inflated_size(fp: BinaryIO, max_bytes: int) -> int:
    """Bytes a deflated data set inflates to, counted in bounded steps."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    while chunk := fp.read(1 << 16):
        while chunk:
            total += len(inflater.decompress(chunk, 1 << 20))
            if total > max_bytes:
                raise UnreadableFile(f"deflated data set inflates to more than "
                                     f"{max_bytes >> 20} MB (--max-object-mb)")
            chunk = inflater.unconsumed_tail
    try:
        total += len(inflater.flush())
    except zlib.error as exc:
        raise UnreadableFile(f"deflated data set cannot be inflated: {exc}") from exc
    return total


def check_bytes(data: bytes) -> Structure:
    """The same walk over bytes received on the wire (preamble and meta included)."""
    return check_stream(io.BytesIO(data), len(data))


def check_stream(fp: BinaryIO, size: int,
                 max_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> Structure:
    head = fp.read(132)
    if len(head) < 132 or head[128:132] != b"DICM":
        raise NotPart10("not a DICOM Part 10 file (no 'DICM' prefix at byte 128)")
    walker = _Walker(fp, size)
    transfer_syntax = ""
    # File meta information: always Explicit VR Little Endian, group 0002.
    while True:
        here = fp.tell()
        peek = fp.read(2)
        if len(peek) < 2:
            raise UnreadableFile("file ends inside the file meta information")
        fp.seek(here)
        if struct.unpack("<H", peek)[0] != 0x0002:
            break
        tag, _, length, start = walker._header(True, "<")
        if tag == 0x00020010:
            transfer_syntax = fp.read(length).decode("ascii", "replace").strip("\0 ")
        else:
            walker._skip(length, tag, start)
    if not transfer_syntax:
        raise UnreadableFile("file meta information has no Transfer Syntax UID (0002,0010)")
    if transfer_syntax == DeflatedExplicitVRLittleEndian:
        try:
            _inflated_size(fp, max_bytes)
        except zlib.error as exc:
            raise UnreadableFile(f"deflated data set cannot be inflated: {exc}") from exc
        return Structure(transfer_syntax, None)  # pydicom inflates and checks it
    explicit = transfer_syntax != ImplicitVRLittleEndian
    endian = ">" if transfer_syntax == ExplicitVRBigEndian else "<"
    walker.dataset(explicit, endian, None, top=True)
    return Structure(transfer_syntax, walker.pixel_data_length)


def _walk_bare(path: Path, explicit: bool, little: bool) -> int | None:
    with path.open("rb") as fp:
        walker = _Walker(fp, path.stat().st_size)
        walker.dataset(explicit, "<" if little else ">", None, top=True)
        return walker.pixel_data_length


def read_header(path: Path, max_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
                ) -> tuple[pydicom.FileDataset, Structure]:
    """Check the structure, then read everything but the pixel data.

    A bare dataset without File Meta Information is read (dcmtk does too) and
    marked `part10=False` so a rule can report it."""
    try:
        structure = check_structure(path, max_bytes)
    except NotPart10:
        if path.stat().st_size > max_bytes:
            raise UnreadableFile(f"larger than {max_bytes >> 20} MB (--max-object-mb)") from None
        structure = None
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=structure is None)
    except InvalidDicomError as exc:
        raise NotDicom(f"not a DICOM file: {exc}") from exc
    except Exception as exc:  # pydicom raises many types on corrupt input
        # without the 'DICM' prefix nothing says it was meant to be DICOM
        kind = NotDicom if structure is None else UnreadableFile
        raise kind("cannot be decoded: its data set cannot be parsed into elements") from exc
    if structure is None:
        if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
            raise NotDicom("not a DICOM file (no 'DICM' prefix and no SOP Class/Instance"
                           " UID in the first bytes)")
        explicit = not ds.original_encoding[0]
        little = bool(ds.original_encoding[1])
        syntax = {(False, True): ImplicitVRLittleEndian, (True, False): ExplicitVRBigEndian}
        structure = Structure(
            syntax.get((explicit, little), "1.2.840.10008.1.2.1"),
            _walk_bare(path, explicit, little), part10=False,
        )
    return ds, structure


def undecodable_element(ds, path: str = "", depth: int = 0) -> str:
    """Where a data set's first value that cannot be decoded is, said as what
    is wrong with the file ("PatientName (0010,0010) is not a valid PN"), not
    as the exception pydicom raised; "" when every value decodes. Each element
    is converted on its own and nothing is kept in the data set."""
    from pydicom.dataelem import RawDataElement, convert_raw_data_element

    if depth > 64:
        return ""
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        tag_text = f"({tag.group:04X},{tag.element:04X})"
        try:
            elem = convert_raw_data_element(raw, encoding=ds._character_set, ds=ds) \
                if isinstance(raw, RawDataElement) else raw
        except Exception as exc:
            name = pydicom.datadict.keyword_for_tag(tag) or "element"
            vr = getattr(raw, "VR", None) or "its VR"
            return f"{path}{name} {tag_text} is not a valid {vr} value ({type(exc).__name__})"
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value or []):
                where = undecodable_element(item, f"{path}{elem.keyword or tag_text}[{i}].",
                                            depth + 1)
                if where:
                    return where
    return ""


MAGIC = ((b"%PDF", "PDF document"), (b"<?xml", "XML document"), (b"\x89PNG", "PNG image"),
         (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"), (b"PK\x03\x04", "ZIP archive"),
         (b"{", "JSON or text"), (b"<", "HTML or XML"))


def file_type(path: Path) -> str:
    """What a non-DICOM file is, from its first bytes ('PDF document', 'text')."""
    try:
        with path.open("rb") as fp:
            head = fp.read(4096)
    except OSError:
        return "unreadable"
    if not head:
        return "empty file"
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "binary data"

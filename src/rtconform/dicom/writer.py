"""Files written whole or not at all: through a temporary name in the same
folder, then renamed into place, so a reader (a validator, an Archive's
index, a SUT watching a folder) never sees half a file."""

from __future__ import annotations

import os
import shutil
import tempfile
from io import BytesIO
from pathlib import Path

from pydicom.dataset import FileDataset
from pydicom.filewriter import dcmwrite


def atomic_write(path: Path, data: bytes | Path, *, durable: bool = True) -> None:
    """Bytes, or a file copied in chunks (memory stays flat), to a temporary
    name beside `path`, then renamed into place; `durable`: fsynced first
    (what was received must survive a crash; what can be rebuilt need not)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fp:
            if isinstance(data, bytes):
                fp.write(data)
            else:
                with open(data, "rb") as source:
                    shutil.copyfileobj(source, fp, 1 << 20)
            if durable:
                fp.flush()
                os.fsync(fp.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_dataset(ds: FileDataset, path: Path) -> None:
    """A dataset as a DICOM file (PS3.10: preamble, file meta), written
    atomically; not fsynced: what is written this way is built again from
    its UID root."""
    buffer = BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    atomic_write(path, buffer.getvalue(), durable=False)

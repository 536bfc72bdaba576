"""Standard IOD validation engines behind one interface.

Each engine says whether it can run here (and why not, once), and turns its
own output into the same `Finding` type the TRO rules produce.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from rtconform.findings import Finding


class Engine(Protocol):
    name: str
    strict: bool  # True: its findings keep the engine's severity (--strict-engines)

    def unavailable_reason(self) -> str | None:
        """None when the engine can run; else a one-line reason for the user."""

    def check_file(self, path: Path, sop_instance_uid: str) -> list[Finding]:
        """Validate one file; never raise for bad input."""


def make_engines(names: list[str], standard_path: Path | None = None,
                 edition: str = "local", fetch_standard: bool = False,
                 strict: bool | None = None) -> list[Engine]:
    """`strict` None: from RTCONFORM_STRICT_ENGINES (how `rtconform run
    --strict-engines` reaches the scenario process)."""
    from rtconform.engines.dciodvfy import Dciodvfy
    from rtconform.engines.dicom_validator import DicomValidator
    from rtconform.engines.judgement import STRICT_ENV

    if strict is None:
        strict = os.environ.get(STRICT_ENV, "") not in ("", "0")
    engines: list[Engine] = []
    for name in names:
        if name == "dciodvfy":
            engines.append(Dciodvfy(strict=strict))
        elif name == "dicom-validator":
            engines.append(DicomValidator(standard_path, edition, fetch_standard, strict))
        else:
            raise ValueError(f"unknown engine {name!r}")
    return engines


ENGINE_NAMES = ("dciodvfy", "dicom-validator")

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


def engine_version(engine: Engine) -> str:
    """What a report must name for its findings to be reproduced: dciodvfy's
    dicom3tools build, dicom-validator's package version and the edition of the
    standard it read."""
    if engine.name == "dciodvfy":
        import subprocess

        try:
            proc = subprocess.run([engine.executable, "-version"], capture_output=True,
                                  text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"version unknown ({type(exc).__name__})"
        for line in (proc.stdout + proc.stderr).splitlines():
            if line.startswith("dicom3tools Version:"):
                return "dicom3tools " + line.split(":", 1)[1].strip()
        return "version unknown"
    if engine.name == "dicom-validator":
        from importlib.metadata import PackageNotFoundError, version

        try:
            package = version("dicom-validator")
        except PackageNotFoundError:
            package = "unknown"
        return f"{package}, DICOM standard edition {getattr(engine, 'edition', '?')}"
    return "version unknown"


def describe_engines(names: list[str]) -> list[dict]:
    """The standard engines a run asked for ("auto": those this machine has,
    as the run context resolves it), each with its version or why it did not
    run."""
    wanted = ["dciodvfy"] if names == ["auto"] else names
    out = []
    for engine in make_engines([n for n in wanted if n in ENGINE_NAMES]):
        reason = engine.unavailable_reason()
        if reason and names == ["auto"]:
            continue  # auto: an engine this machine lacks was not asked for
        out.append({"name": engine.name, "version": "" if reason else engine_version(engine),
                    "unavailable": reason or ""})
    return out

"""dicom-validator (PyPI) as an engine, on a *local* DICOM standard.

dicom-validator reads the standard's DocBook parts 3, 4 and 6 from
`<standard-path>/<edition>/docbook/` and caches a JSON digest beside them in
`<edition>/json/`. It would download both from NEMA on demand; here nothing
is downloaded unless the user asks (`fetch_standard`), so an offline run says
once that the standard is missing and the other engines carry on.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import pydicom
from pydicom.datadict import keyword_for_tag

from rtconform.findings import Finding, Severity

SOURCE = "DICOM PS3.3 IOD definitions, as checked by dicom-validator"
PARTS = ("part03.xml", "part04.xml", "part06.xml")
JSONS = ("dict_info.json", "iod_info.json", "module_info.json")


@contextmanager
def _quiet_root_logger():
    """dicom-validator adds a stdout handler to the root logger when it has
    none; give it a silent one for the duration."""
    root = logging.getLogger()
    handler = logging.NullHandler()
    added = not root.hasHandlers()
    if added:
        root.addHandler(handler)
    try:
        yield
    finally:
        if added:
            root.removeHandler(handler)


def _keyword(tag: int) -> str:
    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class DicomValidator:
    name = "dicom-validator"

    def __init__(self, standard_path: Path | None = None, edition: str = "local",
                 fetch_standard: bool = False, strict: bool = False) -> None:
        self.strict = strict  # no finding of this engine is in the judged table yet
        self.standard_path = Path(standard_path or Path.home() / "dicom-validator")
        self.edition = edition
        self.fetch_standard = fetch_standard
        self._info = None
        self._reason: str | None = None
        self._loaded = False

    def _local_editions(self) -> list[str]:
        if not self.standard_path.is_dir():
            return []
        found = []
        for folder in sorted(self.standard_path.iterdir()):
            docbook, json = folder / "docbook", folder / "json"
            if all((docbook / p).is_file() for p in PARTS) or \
                    all((json / j).is_file() for j in JSONS):
                found.append(folder.name)
        return found

    def _load(self) -> None:
        self._loaded = True
        from dicom_validator.spec_reader.edition_reader import EditionReader

        with _quiet_root_logger():
            reader = EditionReader(self.standard_path)
            editions = self._local_editions()
            if self.edition != "local":
                editions = [e for e in editions if e == self.edition]
            if not editions and self.fetch_standard:
                try:
                    reader.get_edition_path("current" if self.edition == "local" else self.edition)
                except Exception as exc:  # network and parse errors alike
                    self._reason = f"download of the DICOM standard failed: {exc}"
                    return
                editions = self._local_editions()
            if not editions:
                self._reason = (
                    f"no DICOM standard in {self.standard_path} (expected <edition>/docbook/"
                    f"{{{','.join(PARTS)}}}); give --standard-path DIR, or --fetch-standard "
                    "where there is internet; dicom-validator checks are skipped")
                return
            edition = editions[-1]
            try:
                if not reader.json_files_exist(edition) or not reader.is_current_version(edition):
                    reader.json_path(edition).mkdir(parents=True, exist_ok=True)
                    reader.create_json_files(edition)
                self._info = reader.load_dicom_info(edition)
                self.edition = edition
            except Exception as exc:
                self._reason = (f"cannot read the DICOM standard in {self.standard_path / edition}"
                                f": {type(exc).__name__}: {exc}")

    def unavailable_reason(self) -> str | None:
        if not self._loaded:
            self._load()
        return self._reason

    def __getstate__(self) -> dict:
        """Sent to a worker process or a Dask worker without the loaded
        standard (hundreds of MB): each worker loads its own, the edition the
        sender chose, and never downloads."""
        state = dict(self.__dict__)
        if state["_info"] is not None:
            state.update(_info=None, _loaded=False, fetch_standard=False)
        return state

    def check_file(self, path: Path, sop_instance_uid: str) -> list[Finding]:
        from dicom_validator.validator.error_handler import (
            NullValidationResultHandler,
            ValidationResultFormatter,
        )
        from dicom_validator.validator.iod_validator import IODValidator
        from dicom_validator.validator.validation_result import ErrorCode, Status

        if reason := self.unavailable_reason():  # only called where it was available
            return [Finding("ENGINE-FAILED", Severity.WARNING, f"dicom-validator could not "
                            f"check the file here: {reason}", SOURCE, str(path),
                            sop_instance_uid, engine=self.name)]
        try:
            ds = pydicom.dcmread(path, defer_size=1024)
            result = IODValidator(ds, self._info, error_handler=NullValidationResultHandler(),
                                  file_path=str(path)).validate()
        except Exception as exc:
            return [Finding("ENGINE-FAILED", Severity.WARNING,
                            f"dicom-validator failed: {type(exc).__name__}: {exc}", SOURCE,
                            str(path), sop_instance_uid, engine=self.name)]
        if result.status is Status.UnknownSOPClassUID:
            return [Finding("DV-UNKNOWN-SOP-CLASS", Severity.INFO,
                            f"SOP Class {result.sop_class_uid} is not in DICOM edition "
                            f"{self.edition} as loaded", SOURCE, str(path), sop_instance_uid,
                            engine=self.name)]
        formatter = ValidationResultFormatter(self._info.dictionary)
        findings = []
        for module, errors in result.module_errors.items():
            for tag, error in errors.items():
                path_parts = [_keyword(p) for p in (tag.parents or [])] + [_keyword(tag.tag)]
                severity = (Severity.WARNING if error.code is ErrorCode.TagUnexpected
                            else Severity.ERROR)
                message = f"{path_parts[-1]}{formatter.error_message(error)}".replace("\n", " ")
                findings.append(Finding(
                    f"DV-{error.code.name.upper()}", severity, f"{message} (module {module})",
                    SOURCE, str(path), sop_instance_uid, ".".join(path_parts), engine=self.name))
        return findings

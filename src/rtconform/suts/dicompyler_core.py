"""dicompyler-core (PyPI `dicompyler-core`, the DICOM RT core of the
dicompyler viewer) as an IHE-RO Dose Displayer: it parses what it is given
with `dicomparser.DicomParser` and, with a structure set and a dose, computes
each ROI's cumulative DVH with `dvhcalc.get_dvh` (volume, mean, max, D95).
It needs pydicom 2, so it has its own virtual environment;
tools/dicompyler_tool.py runs there."""

from __future__ import annotations

from pathlib import Path

from rtconform.suts.actors import DoseDisplayerDriver, last_json, one_folder
from rtconform.suts.driver import Session, ToolVenv, tool_output


class DicompylerCore(DoseDisplayerDriver):
    name = "dicompyler-core"
    ae_title = "DICOMPYLER"
    venv = ToolVenv("dicompyler-core", ("dicompyler-core==0.5.6", "pydicom<3"))
    script = "dicompyler_tool.py"

    def version(self) -> str:
        return tool_output(self.venv.run(self.script, "version"),
                           "dicompyler-core --version").strip()

    def load(self, session: Session, folders: dict[str, Path]) -> dict:
        return last_json(tool_output(self.venv.run(self.script, "load",
                                                   str(one_folder(session, folders))),
                                     "dicompyler-core dicomparser/dvhcalc"))

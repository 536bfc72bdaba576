"""DicomRTTool (PyPI `dicomrttool`, numpy masks ↔ RT Structure Set) as an
IHE-RO Contourer. As its README shows: `DicomReaderWriter().
walk_through_folders(path)`, `get_images()`, then `prediction_array_to_RT(
prediction_array, output_dir, ROI_Names)`; a structure set is read back with
`set_contour_names_and_associations` and `get_mask`. It draws a thresholded
body (HU > -500, EXTERNAL) and a 30 mm sphere target (PTV) at the body's
centre; tools/dicomrttool_tool.py runs in its own virtual environment."""

from __future__ import annotations

from pathlib import Path

from rtconform.suts.actors import ContourerDriver, last_json, one_folder
from rtconform.suts.driver import Session, ToolVenv, tool_output


class DicomRTTool(ContourerDriver):
    name = "dicomrttool"
    ae_title = "DICOMRTTOOL"
    venv = ToolVenv("dicomrttool", ("dicomrttool==6.2.0",))
    script = "dicomrttool_tool.py"

    def version(self) -> str:
        return tool_output(self.venv.run(self.script, "version"), "dicomrttool --version").strip()

    def contour(self, session: Session, ct: Path) -> list[Path]:
        out = session.workdir / "out"
        tool_output(self.venv.run(self.script, "contour", str(ct), str(out)),
                    "DicomRTTool prediction_array_to_RT")
        # it writes Completed.txt beside the structure set: only DICOM is stored
        return sorted(out.glob("*.dcm"))

    def load(self, session: Session, folders: dict[str, Path]) -> dict:
        return last_json(tool_output(self.venv.run(self.script, "load",
                                                   str(one_folder(session, folders))),
                                     "DicomRTTool walk_through_folders/get_mask"))

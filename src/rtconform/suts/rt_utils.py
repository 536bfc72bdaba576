"""rt-utils (PyPI `rt-utils`, masks ↔ RT Structure Set over a CT series) as
an IHE-RO Contourer. As its README shows: `RTStructBuilder.create_new(
dicom_series_path)` then `add_roi(mask=…, name=…)` and `save`; an existing
structure set is read with `create_from(dicom_series_path, rt_struct_path)`
and `get_roi_mask_by_name`. It draws a thresholded body (HU > -500) and a
30 mm sphere target at the body's centre; tools/rt_utils_tool.py runs in its
own virtual environment."""

from __future__ import annotations

from pathlib import Path

from rtconform.suts.actors import ContourerDriver, last_json, single
from rtconform.suts.driver import Session, ToolVenv, tool_output


class RtUtils(ContourerDriver):
    name = "rt-utils"
    ae_title = "RTUTILS"
    venv = ToolVenv("rt-utils", ("rt-utils==1.2.7",))
    script = "rt_utils_tool.py"

    def version(self) -> str:
        return tool_output(self.venv.run(self.script, "version"), "rt-utils --version").strip()

    def contour(self, session: Session, ct: Path) -> list[Path]:
        out = session.workdir / "out"
        out.mkdir()
        tool_output(self.venv.run(self.script, "contour", str(ct), str(out)),
                    "rt-utils RTStructBuilder.create_new/add_roi/save")
        return sorted(out.glob("*.dcm"))

    def edit(self, session: Session, ct: Path, structure_set: Path) -> list[Path]:
        out = session.workdir / "out"
        out.mkdir()
        tool_output(self.venv.run(self.script, "edit", str(ct), str(structure_set), str(out)),
                    "rt-utils RTStructBuilder.create_from/add_roi/save")
        return sorted(out.glob("*.dcm"))

    def load(self, session: Session, folders: dict[str, Path]) -> dict:
        ct = folders.get("CT") or session.workdir / "no-images"
        ct.mkdir(exist_ok=True)
        args = [str(ct)]
        if "RTSTRUCT" in folders:
            args.append(str(single(folders["RTSTRUCT"], "structure set")))
        return last_json(tool_output(self.venv.run(self.script, "load", *args),
                                     "rt-utils RTStructBuilder.create_from"))

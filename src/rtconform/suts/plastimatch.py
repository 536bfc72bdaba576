"""plastimatch (Debian's `plastimatch`, the medical image toolkit) as an IHE-RO
Contourer and Dose Displayer, by its documented commands:

- Contourer (RO-2): `plastimatch convert --input CT_DIR --output-img ct.nrrd`,
  `plastimatch threshold --above -500` (the body), `plastimatch synth
  --pattern sphere --radius 30` at the centre of the CT volume (the target),
  then `plastimatch convert --input-prefix MASKS --referenced-ct CT_DIR
  --output-dicom OUT` writes the RT Structure Set. It does not edit a given
  structure set, nor resample a series as a new one (RO-11).
- Reading a structure set back (RO-7): `plastimatch convert --input RS
  --referenced-ct CT_DIR --output-ss-img --output-ss-list`.
- Dose Displayer (RO-1, RO-7, RO-9, RO-10): `plastimatch dvh --input STUDY_DIR
  --output-csv` (a cumulative DVH per structure; D95 read from it).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pydicom

from rtconform.suts.actors import ContourerDriver, one_folder, single
from rtconform.suts.driver import DriverError, Session, not_performed, tool_output

TIMEOUT = 600


def _run(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("plastimatch")
    if exe is None:
        raise DriverError("plastimatch is not installed (apt-get install plastimatch)", 2)
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


def volume_centre(ct: Path) -> tuple[float, float, float]:
    """The centre of the CT volume in patient coordinates (axial images),
    from the image headers: where the target sphere is drawn."""
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(ct.glob("*.dcm"))]
    if not headers:
        raise DriverError("no CT images were retrieved")
    zs = [float(h.ImagePositionPatient[2]) for h in headers]
    first = headers[0]
    x0, y0 = float(first.ImagePositionPatient[0]), float(first.ImagePositionPatient[1])
    dy, dx = (float(v) for v in first.PixelSpacing)
    return (x0 + dx * (int(first.Columns) - 1) / 2, y0 + dy * (int(first.Rows) - 1) / 2,
            (min(zs) + max(zs)) / 2)


class Plastimatch(ContourerDriver):
    name = "plastimatch"
    ae_title = "PLASTIMATCH"
    actors = ("Contourer", "Dose Displayer")

    def missing(self) -> str | None:
        return None if shutil.which("plastimatch") else \
            "plastimatch is not installed (apt-get install plastimatch)"

    def version(self) -> str:
        return tool_output(_run("--version"), "plastimatch --version").strip() \
            .removeprefix("plastimatch version ")

    def contour(self, session: Session, ct: Path) -> list[Path]:
        work = session.workdir
        masks = work / "masks"
        masks.mkdir()
        tool_output(_run("convert", "--input", str(ct), "--output-img", str(work / "ct.nrrd")),
                    "plastimatch convert (CT)")
        tool_output(_run("threshold", "--input", str(work / "ct.nrrd"), "--output",
                         str(masks / "BODY.nrrd"), "--above", "-500"), "plastimatch threshold")
        centre = " ".join(f"{v:g}" for v in volume_centre(ct))
        tool_output(_run("synth", "--pattern", "sphere", "--fixed", str(work / "ct.nrrd"),
                         "--center", centre, "--radius", "30", "--background", "0",
                         "--foreground", "1", "--output-type", "uchar", "--output",
                         str(masks / "PTV.nrrd")), "plastimatch synth (sphere)")
        tool_output(_run("convert", "--input-prefix", str(masks), "--referenced-ct", str(ct),
                         "--output-dicom", str(work / "out")), "plastimatch convert (RTSTRUCT)")
        return sorted((work / "out").glob("*.dcm"))

    def load(self, session: Session, folders: dict[str, Path]) -> dict:
        if session.request.actor == "Dose Displayer" or "RTDOSE" in folders:
            return self.dvh(session, folders)
        ct = folders.get("CT")
        if "RTSTRUCT" not in folders:
            tool_output(_run("convert", "--input", str(ct), "--output-img",
                             str(session.workdir / "ct.nrrd")), "plastimatch convert (CT)")
            return {"images": len(list(ct.glob("*.dcm")))}
        args = ["convert", "--input", str(single(folders["RTSTRUCT"], "structure set")),
                "--output-ss-img", str(session.workdir / "ss.nrrd"),
                "--output-ss-list", str(session.workdir / "ss.txt")]
        if ct is None or not any(ct.glob("*.dcm")):
            raise DriverError("plastimatch needs the structure set's images (--referenced-ct); "
                              "none were retrieved")
        tool_output(_run(*args, "--referenced-ct", str(ct)), "plastimatch convert (RTSTRUCT)")
        names = [line.split("|")[-1] for line in
                 (session.workdir / "ss.txt").read_text().splitlines() if line.strip()]
        return {"structures": names}

    def dvh(self, session: Session, folders: dict[str, Path]) -> dict:
        table = session.workdir / "dvh.csv"
        tool_output(_run("dvh", "--input", str(one_folder(session, folders)), "--output-csv",
                         str(table)), "plastimatch dvh")
        with table.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if len(rows) < 2:
            raise DriverError("plastimatch dvh wrote no histogram")
        names, data = rows[0][1:], [[float(v) for v in r if v != ""] for r in rows[1:]]
        out = {}
        for i, name in enumerate(names, start=1):
            d95 = max((r[0] for r in data if len(r) > i and r[i] >= 0.95), default=0.0)
            out[name] = {"D95_gy": d95}
        return {"dvh": out}

    def perform(self, session: Session) -> None:
        request = session.request
        if request.actor == "Dose Displayer":
            if request.stores:
                raise not_performed(self.name, request.transactions,
                                    "a Dose Displayer stores nothing")
            folders = {m: session.retrieve(m) for m in request.retrieves}
            session.log["loaded"] = self.load(session, folders)
            return
        super().perform(session)

"""The TRO actor behaviour a tool driver inherits: which transactions mean
retrieving, producing or loading, so a tool driver only says how its tool
contours, edits or loads."""

from __future__ import annotations

import json
from pathlib import Path

from rtconform.suts.driver import Driver, DriverError, Session, not_performed


def one_folder(session: Session, folders: dict[str, Path]) -> Path:
    """Every retrieved object in one folder (tools that walk a study)."""
    study = session.workdir / "study"
    study.mkdir(exist_ok=True)
    for folder in folders.values():
        for path in folder.iterdir():
            target = study / path.name
            if not target.exists():
                target.symlink_to(path)
    return study


def single(folder: Path, what: str) -> Path:
    files = sorted(folder.glob("*.dcm"))
    if not files:
        raise DriverError(f"no {what} was retrieved")
    return files[0]


class ContourerDriver(Driver):
    """Contourer: RO-1/RO-6 retrieve images, RO-7 a structure set (loaded
    with its images, as a Contourer that edits it would), RO-2 stores the
    structure set the tool draws; RO-1, RO-7 and RO-2 together: the tool edits
    the given structure set. RO-11 (a resampled series) only if the tool can."""

    actors = ("Contourer",)
    resamples = False

    def contour(self, session: Session, ct: Path) -> list[Path]:
        raise NotImplementedError

    def edit(self, session: Session, ct: Path, structure_set: Path) -> list[Path]:
        raise not_performed(self.name, session.request.transactions,
                            "it writes new structure sets only")

    def load(self, session: Session, folders: dict[str, Path]) -> dict:
        raise NotImplementedError

    def perform(self, session: Session) -> None:
        request = session.request
        if "RO-11" in request.transactions and not self.resamples:
            raise not_performed(self.name, request.transactions,
                                "it neither resamples nor combines image series (RO-11)")
        if "RO-2" in request.transactions:
            ct = session.retrieve("CT")
            if "RO-7" in request.transactions:
                given = single(session.retrieve("RTSTRUCT"), "structure set")
                written = self.edit(session, ct, given)
            else:
                written = self.contour(session, ct)
            session.store(written)
            return
        folders = {m: session.retrieve(m) for m in request.retrieves}
        session.log["loaded"] = self.load(session, folders)


class DoseDisplayerDriver(Driver):
    """Dose Displayer: retrieves what RO-1, RO-7, RO-9, RO-10 give it and
    loads it with the tool (a DVH when a structure set and a dose are there)."""

    actors = ("Dose Displayer",)

    def load(self, session: Session, folders: dict[str, Path]) -> dict:
        raise NotImplementedError

    def perform(self, session: Session) -> None:
        request = session.request
        if request.stores:
            raise not_performed(self.name, request.transactions, "a Dose Displayer stores "
                                "nothing")
        folders = {m: session.retrieve(m) for m in request.retrieves}
        session.log["loaded"] = self.load(session, folders)


def last_json(text: str) -> dict:
    """The JSON line a tool script printed last (tools print their own chatter)."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"output": text.strip()[-500:]}

"""What every SUT driver shares: the request the harness makes (its
RTCONFORM_* environment), the tool's own virtual environment, retrieving what
a transaction gives the actor (C-GET, calling as the tool's AE title), and
storing what the tool wrote, as it wrote it (C-STORE of the file on disk).

The DICOM side of a driver is rtconform's own SCU: none of these tools speaks
DICOM networking, and at a connectathon a vendor's DICOM gateway plays that
part. What is judged is what the tool writes; a driver never edits it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rtconform.actors.actor import RetrieveFailed, TROActor
from rtconform.actors.node import ContextsRejected, Peer, PeerUnreachable
from rtconform.actors.recorder import AssociationRecorder

# What each IHE-RO transaction gives the actor that performs it
RETRIEVES = {"RO-1": "CT", "RO-6": "CT", "RO-7": "RTSTRUCT", "RO-8": "RTPLAN",
             "RO-9": "RTPLAN", "RO-10": "RTDOSE"}
STORES = {"RO-2": "RTSTRUCT", "RO-3": "RTPLAN", "RO-4": "RTPLAN", "RO-5": "RTDOSE",
          "RO-11": "CT"}
REFUSED = 1  # the tool refused its input (its own error): the harness reads it so
NOT_PERFORMED = 4  # the tool has no way to perform the transaction asked for
USAGE = 2


class DriverError(Exception):
    """The tool could not do what it was asked; the message says why (exit
    code `code`)."""

    def __init__(self, message: str, code: int = REFUSED) -> None:
        super().__init__(message)
        self.code = code


def tools_home() -> Path:
    """Where the tools' virtual environments live: $RTCONFORM_TOOLS, else
    ~/.cache/rtconform/tools (one folder per tool, `python -m rtconform.suts
    install TOOL` makes it)."""
    return Path(os.environ.get("RTCONFORM_TOOLS") or Path.home() / ".cache" / "rtconform"
                / "tools")


@dataclass
class ToolVenv:
    """A tool's own virtual environment: its dependencies (pydicom 2 for
    dicompyler-core, OpenCV, SimpleITK …) never meet rtconform's."""

    name: str
    requirements: tuple[str, ...]

    @property
    def folder(self) -> Path:
        return tools_home() / self.name

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    def missing(self) -> str | None:
        if not self.python.is_file():
            return (f"{self.name} is not installed in {self.folder} (python -m rtconform.suts "
                    f"install {self.name})")
        return None

    def install(self) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(self.folder)], check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "-q", *self.requirements],
                       check=True)

    def run(self, script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run one of the scripts of rtconform.suts.tools with the tool's Python."""
        if why := self.missing():
            raise DriverError(why, USAGE)
        path = resources.files("rtconform.suts.tools").joinpath(script)
        return subprocess.run([str(self.python), str(path), *args], capture_output=True,
                              text=True, timeout=timeout, check=False)


def tool_output(proc: subprocess.CompletedProcess, what: str) -> str:
    """The tool's stdout, or its refusal (its last words) as a DriverError."""
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise DriverError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


@dataclass
class Request:
    """What the harness asks: perform these transactions against this Archive
    in this study (the variables `rtconform run` and `rtconform matrix` set)."""

    transactions: list[str]
    actor: str
    archive: Peer
    study_uid: str
    keep: Path | None = None  # where to copy what the tool wrote (rtconform matrix)
    ae_title: str = ""

    @classmethod
    def from_environ(cls, default_ae: str) -> Request:
        env = os.environ
        missing = [k for k in ("RTCONFORM_TRANSACTION", "RTCONFORM_ARCHIVE_AE",
                               "RTCONFORM_ARCHIVE_HOST", "RTCONFORM_ARCHIVE_PORT",
                               "RTCONFORM_STUDY_UID") if not env.get(k)]
        if missing:
            raise DriverError(f"not called by the harness: {', '.join(missing)} not set", USAGE)
        return cls([t.strip() for t in env["RTCONFORM_TRANSACTION"].split(",") if t.strip()],
                   env.get("RTCONFORM_ACTOR", ""),
                   Peer(env["RTCONFORM_ARCHIVE_AE"], env["RTCONFORM_ARCHIVE_HOST"],
                        int(env["RTCONFORM_ARCHIVE_PORT"])),
                   env["RTCONFORM_STUDY_UID"],
                   Path(env["RTCONFORM_KEEP_DIR"]) if env.get("RTCONFORM_KEEP_DIR") else None,
                   env.get("RTCONFORM_SUT_AE") or default_ae)

    @property
    def retrieves(self) -> list[str]:
        return list(dict.fromkeys(RETRIEVES[t] for t in self.transactions if t in RETRIEVES))

    @property
    def stores(self) -> list[str]:
        return [STORES[t] for t in self.transactions if t in STORES]


@dataclass
class Session:
    """One request being served: a work folder, the SCU, what was done."""

    request: Request
    workdir: Path
    log: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.recorder = AssociationRecorder(self.workdir / "associations.jsonl")
        self.user = TROActor(self.recorder, self.workdir / "scu", ae_title=self.request.ae_title,
                             method="get")

    def retrieve(self, modality: str, required: bool = True) -> Path:
        """C-GET the study's series of one modality into a folder of its own,
        one file per instance, as the tool's documentation wants its input."""
        folder = self.workdir / modality.lower()
        folder.mkdir(exist_ok=True)
        try:
            datasets = self.user.retrieve_modality(self.request.archive, self.request.study_uid,
                                                   modality)
        except RetrieveFailed as exc:
            if required:
                raise DriverError(f"retrieving {modality}: {exc}") from exc
            datasets = []
        except (PeerUnreachable, ContextsRejected) as exc:
            raise DriverError(f"retrieving {modality}: {exc}") from exc
        for ds in datasets:
            shutil.copyfile(ds.filename, folder / uid_file_name(ds.get("SOPInstanceUID", "")))
        self.log.setdefault("retrieved", {})[modality] = len(datasets)
        return folder

    def store(self, files: list[Path]) -> None:
        """C-STORE what the tool wrote, byte for byte (a copy kept first when
        the harness asks for it: the matrix compares it with what the Archive
        returns)."""
        if not files:
            raise DriverError("the tool wrote nothing to store")
        if self.request.keep is not None:
            self.request.keep.mkdir(parents=True, exist_ok=True)
            for path in files:
                shutil.copyfile(path, self.request.keep / path.name)
        try:
            result = self.user.store(self.request.archive, files)
        except (PeerUnreachable, ContextsRejected) as exc:
            raise DriverError(f"storing: {exc}") from exc
        self.log["stored"] = [p.name for p in files]
        self.log["store_statuses"] = [f"0x{s:04X}" for s in result.statuses]
        if not result.ok:
            raise DriverError(f"C-STORE to {self.request.archive} not accepted: "
                              f"{result.describe('C-STORE')}")


def uid_file_name(uid: object) -> str:
    """A file name for an object received from a tool or an Archive: its SOP
    Instance UID when that is a valid UID, else a digest of it (no path is
    built from unchecked text)."""
    import hashlib

    from rtconform.dicom.uids import is_valid_uid

    text = str(uid)
    if is_valid_uid(text):
        return f"{text}.dcm"
    return f"invalid-uid-{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()[:16]}.dcm"


class Driver:
    """One tool as one or more TRO actors. Subclasses say how the tool
    performs each request (`perform`), which tool version they drive
    (`version`), and the AE title they call as."""

    name = ""
    ae_title = ""
    actors: tuple[str, ...] = ()
    venv: ToolVenv | None = None

    def missing(self) -> str | None:
        """Why the tool cannot run here (not installed), or None."""
        return self.venv.missing() if self.venv else None

    def version(self) -> str:
        raise NotImplementedError

    def perform(self, session: Session) -> None:
        raise NotImplementedError

    def serve(self) -> int:
        """Serve the harness's request: exit 0 done, 1 the tool refused its
        input, 4 the tool cannot perform that transaction, 2 usage. One JSON
        line on stdout says what was done (the harness keeps it as evidence)."""
        try:
            request = Request.from_environ(self.ae_title)
        except DriverError as exc:
            print(str(exc), file=sys.stderr)
            return exc.code
        with tempfile.TemporaryDirectory(prefix=f"rtconform-{self.name}-") as tmp:
            session = Session(request, Path(tmp))
            session.log = {"tool": self.name, "transactions": request.transactions}
            try:
                session.log["version"] = self.version()
                self.perform(session)
            except DriverError as exc:
                session.log["refused"] = str(exc)
                print(json.dumps(session.log))
                print(f"{self.name}: {exc}", file=sys.stderr)
                return exc.code
            except subprocess.TimeoutExpired as exc:
                session.log["refused"] = f"the tool did not finish within {exc.timeout} s"
                print(json.dumps(session.log))
                return REFUSED
            print(json.dumps(session.log))
            return 0


def not_performed(tool: str, transactions: list[str], why: str) -> DriverError:
    return DriverError(f"{tool} cannot perform {', '.join(transactions)}: {why}", NOT_PERFORMED)

"""Conformance statements as data: loading with schema validation (errors
located by YAML path and line), and the views compare/verify need."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rtconform.yaml_config import ConfigError, load_checked


class StatementError(ValueError):
    """A statement that cannot be used; lists every located problem."""


def schema() -> dict:
    return json.loads(resources.files("rtconform.statement").joinpath("schema.json").read_text())


def conformance_dir() -> Path:
    """The statements shipped with the package (`rtconform.conformance`: the
    repository's conformance/ in an editable install, whose finder cannot
    import a folder without __init__.py mapped under a package)."""
    import importlib.util

    spec = importlib.util.find_spec("rtconform.conformance")
    checkout = Path(__file__).resolve().parents[3] / "conformance"  # src/rtconform/statement
    for location in [*((spec.submodule_search_locations or []) if spec else []), checkout]:
        if Path(location, "schema.json").is_file():
            return Path(location)
    return checkout


def packaged_statements() -> dict[str, Path]:
    """Name (the file's stem, e.g. `orthanc`) → path of each shipped statement."""
    return {p.stem: p for p in sorted(conformance_dir().glob("*.yaml"))}


def resolve_statement(spec: str | Path) -> Path:
    """A statement given as a path (relative to the current folder) or as the
    name of a shipped one (`orthanc`, `orthanc.yaml`): the same from any folder.
    A path that exists wins over a name."""
    path = Path(spec)
    if path.is_file():
        return path
    shipped = packaged_statements()
    name = path.name.removesuffix(".yaml") if path.parent == Path(".") else None
    if name in shipped:
        return shipped[name]
    if path.exists():
        raise StatementError(f"{spec}: not a file")
    raise StatementError(f"{spec}: no such file, nor a shipped statement (the shipped ones: "
                         f"{', '.join(shipped) or 'none'}; rtconform statement list)")


def load_statement(path: Path) -> dict:
    """A statement, valid against the schema; every error located as
    file:line (a misspelt key answered with the nearest known one)."""
    try:
        return load_checked(Path(path), schema())
    except ConfigError as exc:
        raise StatementError(str(exc)) from exc


@dataclass(frozen=True)
class Claim:
    ae: str
    uid: str
    name: str
    role: str
    syntaxes: frozenset[str]
    source: str
    role_selection: bool | None = None  # C-GET: SCP/SCU Role Selection (PS3.7 D.3.3.4)
    move_destinations: str = ""  # C-MOVE SCP: configured | any | requestor
    note: str = ""
    activity: str = ""  # from a presentation context table: the activity it serves


def transfer_syntaxes(entry: dict, lists: dict) -> list[str]:
    """The UIDs an entry claims: named lists (NOCOMP, IMPL …) expanded, in order."""
    value = entry.get("transfer_syntaxes", [])
    names = [value] if isinstance(value, str) else list(value)
    return [uid for name in names for uid in lists.get(name, [name])]


def claims(statement: dict) -> list[Claim]:
    lists = statement.get("transfer_syntax_lists", {})
    out = []
    for ae in statement["application_entities"]:
        for sop in ae.get("sop_classes", []):
            syntaxes = frozenset(transfer_syntaxes(sop, lists))
            for role in sop["roles"]:
                out.append(Claim(ae["ae_title"], sop["uid"], sop.get("name", sop["uid"]), role,
                                 syntaxes, sop.get("source", ae.get("source", "")),
                                 sop.get("role_selection"), sop.get("move_destinations", ""),
                                 sop.get("note", "")))
    return out


def context_claims(statement: dict) -> list[Claim]:
    """The presentation contexts an AE proposes or accepts per activity
    (PS3.2 tables): C-FIND classes and the storage classes a C-GET SCU
    offers to receive (SCP role) are often stated only there."""
    from rtconform.dicom.uids import uid_name

    lists = statement.get("transfer_syntax_lists", {})
    out = []
    for ae in statement["application_entities"]:
        for cx in ae.get("presentation_contexts", []):
            uid = cx["abstract_syntax"]
            out.append(Claim(ae["ae_title"], uid, uid_name(uid), cx["role"],
                             frozenset(transfer_syntaxes(cx, lists)), cx.get("source", ""),
                             activity=cx.get("activity", "")))
    return out


def constraints(statement: dict, direction: str) -> list[dict]:
    out = []
    for iod in statement.get("iods", []):
        for c in iod.get("constraints", []):
            if c["direction"] == direction:
                out.append({**c, "iod": iod["name"], "sop_class": iod["sop_class"]})
    return out


def character_sets(statement: dict) -> set[str]:
    return {c if isinstance(c, str) else c["value"] for c in statement.get("character_sets", [])}

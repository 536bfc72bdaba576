"""What a SUT claimed (its statement) against what it did (a run folder):
claimed SCP but rejected the context; accepted a transfer syntax or SOP class
it does not claim; proposed another implementation class UID; exported
values outside its claimed enumerations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from rtconform.actors.recorder import AssociationRecord
from rtconform.dicom.uids import uid_name
from rtconform.findings import Finding, Severity
from rtconform.report.model import received_objects
from rtconform.report.networking import sut_associations, sut_role
from rtconform.run_folder import RunFolder
from rtconform.statement.compare import values_at
from rtconform.statement.model import Claim, claims, constraints

SOURCE = "statement vs run"


def _syntaxes(uids: set[str]) -> str:
    return ", ".join(sorted(uid_name(u) for u in uids if u)) or "no transfer syntax"


def _where(records: list[str]) -> str:
    return (f"association {records[0]}" if len(records) == 1
            else f"associations {', '.join(records[:5])}" + (" …" if len(records) > 5 else ""))


def verify(statement: dict, run_dir: Path) -> list[Finding]:
    """One finding per SOP class, role and kind of difference, naming the SOP
    class and the transfer syntaxes it concerns (not one per transfer syntax)."""
    folder = RunFolder(run_dir)
    log = str(folder.file(RunFolder.ASSOCIATIONS))
    claimed = {(c.uid, c.role): c for c in claims(statement)}
    records = sut_associations(folder.associations())
    findings = [f for record in records for f in _implementation_uid(statement, record, log)]
    for (rule, uid, role), seen in sorted(_context_differences(records, claimed).items()):
        findings.append(_context_finding(rule, uid, role, seen, claimed.get((uid, role)), log))
    return findings + _export_values(statement, received_objects(run_dir))


@dataclass
class _Seen:
    """Where one kind of difference showed for one SOP class and role: the
    transfer syntaxes, associations, peer AE titles and rejection results it
    concerns, gathered so that it is said once."""
    syntaxes: set[str] = field(default_factory=set)
    records: list[str] = field(default_factory=list)
    peers: set[str] = field(default_factory=set)
    results: set[str] = field(default_factory=set)

    def add(self, syntax: str, record: AssociationRecord, result: str) -> None:
        self.syntaxes.add(syntax or "")
        if record.id not in self.records:
            self.records.append(record.id)
        self.peers.add(str(record.peer.get("ae_title") or "?"))
        if result:
            self.results.add(result)


def _context_differences(records: list[AssociationRecord], claimed: dict[tuple, Claim]
                         ) -> dict[tuple[str, str, str], _Seen]:
    """(rule, SOP class, role) → where the negotiated contexts contradict
    the claims."""
    seen: dict[tuple[str, str, str], _Seen] = {}
    for record in records:
        proposed = {c.get("id"): c.get("transfer_syntaxes", []) for c in record.proposed}
        for cx in record.contexts:
            role = sut_role(record, cx)
            uid = cx["abstract_syntax"]
            for rule, syntax, result in _differences(cx, role, claimed.get((uid, role)),
                                                     proposed):
                seen.setdefault((rule, uid, role), _Seen()).add(syntax, record, result)
    return seen


def _differences(cx: dict, role: str, claim: Claim | None, proposed: dict
                 ) -> Iterator[tuple[str, str, str]]:
    """(rule, transfer syntax, result) for what one context shows against the
    claim: a claimed SCP refused (each syntax proposed), a class accepted
    that is not claimed, or a transfer syntax the claim does not list."""
    syntax = cx.get("transfer_syntax") or ""
    if cx["result"] != "accepted":
        if claim is not None and role == "SCP":
            for offered in proposed.get(cx.get("id")) or [syntax]:
                yield "VERIFY-SCP-REJECTED", offered, cx["result"]
    elif claim is None:
        yield "VERIFY-UNCLAIMED-SOP-CLASS", syntax, ""
    elif claim.syntaxes and syntax not in claim.syntaxes:
        yield "VERIFY-TRANSFER-SYNTAX", syntax, ""


def _context_finding(rule: str, uid: str, role: str, seen: _Seen, claim: Claim | None,
                     log: str) -> Finding:
    name = claim.name if claim is not None else uid_name(uid)
    syntaxes, where = _syntaxes(seen.syntaxes), _where(seen.records)
    with_peer = f"with {', '.join(sorted(seen.peers))}"
    if rule == "VERIFY-SCP-REJECTED":
        return Finding(rule, Severity.ERROR,
                       f"{name} as SCP: claimed, but the context was not accepted "
                       f"({', '.join(sorted(seen.results))}) for {syntaxes}, in {where} "
                       f"{with_peer}", claim.source or SOURCE, log, tag_path=uid)
    if rule == "VERIFY-UNCLAIMED-SOP-CLASS":
        return Finding(rule, Severity.WARNING,
                       f"{name} as {role}: accepted with {syntaxes}, but the statement does "
                       f"not claim it, in {where} {with_peer}", SOURCE, log, tag_path=uid)
    return Finding(rule, Severity.WARNING,
                   f"{name} as {role}: used {syntaxes}, which the statement does not claim "
                   f"for it, in {where} {with_peer}", claim.source or SOURCE, log, tag_path=uid)


def _implementation_uid(statement: dict, record: AssociationRecord, log: str
                        ) -> Iterator[Finding]:
    """The peer's Implementation Class UID against the one its AE claims."""
    for ae in statement["application_entities"]:
        expected = ae.get("implementation_class_uid", "").split("<")[0].strip()
        actual = record.peer.get("implementation_class_uid", "")
        if expected and actual and not actual.startswith(expected) and \
                ae["ae_title"] == record.peer.get("ae_title"):
            yield Finding("VERIFY-IMPLEMENTATION-UID", Severity.WARNING,
                          f"Implementation Class UID {actual} differs from the claimed "
                          f"{expected}", ae.get("source", SOURCE), log)


def _export_values(statement: dict, paths: list[Path]) -> list[Finding]:
    """Values of the received objects outside the statement's claimed
    export enumerations."""
    exports = constraints(statement, "export")
    findings: list[Finding] = []
    for path in paths:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:  # pydicom raises many types on corrupt input
            findings.append(Finding("VERIFY-UNREADABLE", Severity.WARNING,
                                    f"received object not checked against the claims: "
                                    f"{type(exc).__name__}: {exc}", SOURCE, str(path)))
            continue
        for c in exports:
            if c["sop_class"] != str(ds.get("SOPClassUID")) or "allowed" not in c:
                continue
            outside = sorted({str(v) for v in values_at(ds, c["attribute"].split("."))}
                             - {str(a) for a in c["allowed"]})
            if outside:
                findings.append(Finding(
                    "VERIFY-EXPORT-VALUE", Severity.ERROR,
                    f"{c['attribute']} exported as {', '.join(outside)}; claimed "
                    f"{', '.join(map(str, c['allowed']))}", c["source"], str(path),
                    str(ds.get("SOPInstanceUID", "")), c["attribute"]))
    return findings

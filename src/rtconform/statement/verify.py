"""What a SUT claimed (its statement) against what it did (a run folder):
claimed SCP but rejected the context; accepted a transfer syntax or SOP class
it does not claim; proposed another implementation class UID; exported
values outside its claimed enumerations."""

from __future__ import annotations

from pathlib import Path

import pydicom

from rtconform.dicom.uids import uid_name
from rtconform.findings import Finding, Severity
from rtconform.report.model import received_objects, sut_associations, sut_role
from rtconform.run_folder import RunFolder
from rtconform.statement.compare import values_at
from rtconform.statement.model import claims, constraints

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
    findings: list[Finding] = []
    # (rule, SOP class, role) → transfer syntaxes, associations, peer AE, rejection results
    seen: dict[tuple[str, str, str], dict] = {}

    def note(rule: str, uid: str, role: str, syntax: str, record, result: str = "") -> None:
        entry = seen.setdefault((rule, uid, role), {"syntaxes": set(), "records": [],
                                                    "peer": set(), "results": set()})
        entry["syntaxes"].add(syntax or "")
        if record.id not in entry["records"]:
            entry["records"].append(record.id)
        entry["peer"].add(str(record.peer.get("ae_title") or "?"))
        if result:
            entry["results"].add(result)

    for record in sut_associations(folder.associations()):
        proposed = {c.get("id"): c.get("transfer_syntaxes", []) for c in record.proposed}
        for cx in record.contexts:
            role = sut_role(record, cx)
            uid = cx["abstract_syntax"]
            claim = claimed.get((uid, role))
            syntax = cx.get("transfer_syntax") or ""
            if cx["result"] != "accepted":
                if claim is not None and role == "SCP":  # what was proposed, refused
                    for offered in proposed.get(cx.get("id")) or [syntax]:
                        note("VERIFY-SCP-REJECTED", uid, role, offered, record, cx["result"])
            elif claim is None:
                note("VERIFY-UNCLAIMED-SOP-CLASS", uid, role, syntax, record)
            elif claim.syntaxes and syntax not in claim.syntaxes:
                note("VERIFY-TRANSFER-SYNTAX", uid, role, syntax, record)
        for ae in statement["application_entities"]:
            expected = ae.get("implementation_class_uid", "").split("<")[0].strip()
            actual = record.peer.get("implementation_class_uid", "")
            if expected and actual and not actual.startswith(expected) and \
                    ae["ae_title"] == record.peer.get("ae_title"):
                findings.append(Finding(
                    "VERIFY-IMPLEMENTATION-UID", Severity.WARNING,
                    f"Implementation Class UID {actual} differs from the claimed {expected}",
                    ae.get("source", SOURCE), log))
    for (rule, uid, role), entry in sorted(seen.items()):
        claim = claimed.get((uid, role))
        name = claim.name if claim is not None else uid_name(uid)
        syntaxes, where = _syntaxes(entry["syntaxes"]), _where(entry["records"])
        with_peer = f"with {', '.join(sorted(entry['peer']))}"
        if rule == "VERIFY-SCP-REJECTED":
            findings.append(Finding(
                rule, Severity.ERROR,
                f"{name} as SCP: claimed, but the context was not accepted "
                f"({', '.join(sorted(entry['results']))}) for {syntaxes}, in {where} "
                f"{with_peer}", claim.source or SOURCE, log, tag_path=uid))
        elif rule == "VERIFY-UNCLAIMED-SOP-CLASS":
            findings.append(Finding(
                rule, Severity.WARNING,
                f"{name} as {role}: accepted with {syntaxes}, but the statement does not "
                f"claim it, in {where} {with_peer}", SOURCE, log, tag_path=uid))
        else:
            findings.append(Finding(
                rule, Severity.WARNING,
                f"{name} as {role}: used {syntaxes}, which the statement does not claim for "
                f"it, in {where} {with_peer}", claim.source or SOURCE, log, tag_path=uid))
    exports = constraints(statement, "export")
    for path in received_objects(run_dir):
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

"""What a SUT claimed (its statement) against what it did (a run folder):
claimed SCP but rejected the context; accepted a transfer syntax or SOP class
it does not claim; proposed another implementation class UID; exported
values outside its claimed enumerations."""

from __future__ import annotations

from pathlib import Path

import pydicom

from rtconform.findings import Finding, Severity
from rtconform.report.model import received_objects, sut_associations, sut_role
from rtconform.run_folder import RunFolder
from rtconform.statement.compare import values_at
from rtconform.statement.model import claims, constraints

SOURCE = "statement vs run"


def verify(statement: dict, run_dir: Path) -> list[Finding]:
    folder = RunFolder(run_dir)
    log = str(folder.file(RunFolder.ASSOCIATIONS))
    claimed = {(c.uid, c.role): c for c in claims(statement)}
    findings: list[Finding] = []
    seen = set()
    for record in sut_associations(folder.associations()):
        where = f"association {record.id} with {record.peer.get('ae_title')}"
        for cx in record.contexts:
            role = sut_role(record, cx)
            uid = cx["abstract_syntax"]
            claim = claimed.get((uid, role))
            key = (uid, role, cx["result"], cx.get("transfer_syntax"))
            if key in seen:
                continue
            seen.add(key)
            if cx["result"] != "accepted":
                if claim is not None and role == "SCP":
                    findings.append(Finding(
                        "VERIFY-SCP-REJECTED", Severity.ERROR,
                        f"claims {claim.name} as SCP but rejected the context ({cx['result']}) "
                        f"in {where}", claim.source or SOURCE, log, tag_path=uid))
                continue
            if claim is None:
                findings.append(Finding(
                    "VERIFY-UNCLAIMED-SOP-CLASS", Severity.WARNING,
                    f"accepted {uid} as {role} in {where}, which the statement does not claim",
                    SOURCE, log, tag_path=uid))
            elif claim.syntaxes and cx["transfer_syntax"] not in claim.syntaxes:
                findings.append(Finding(
                    "VERIFY-TRANSFER-SYNTAX", Severity.WARNING,
                    f"{claim.name} as {role} used transfer syntax {cx['transfer_syntax']}, which "
                    f"the statement does not claim, in {where}", claim.source or SOURCE, log,
                    tag_path=uid))
        for ae in statement["application_entities"]:
            expected = ae.get("implementation_class_uid", "").split("<")[0].strip()
            actual = record.peer.get("implementation_class_uid", "")
            if expected and actual and not actual.startswith(expected) and \
                    ae["ae_title"] == record.peer.get("ae_title"):
                findings.append(Finding(
                    "VERIFY-IMPLEMENTATION-UID", Severity.WARNING,
                    f"Implementation Class UID {actual} differs from the claimed {expected}",
                    ae.get("source", SOURCE), log))
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

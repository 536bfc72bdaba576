"""Compare two conformance statements as an integrator would before
connecting the products: which flows work (A as SCU to B as SCP and the
reverse, with a common transfer syntax), character sets, and whether A's
export claims meet B's import constraints; optionally whether files A really
exported would pass B's import constraints."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pydicom

from rtconform.findings import Finding, Severity
from rtconform.rules.registry import RuleContext
from rtconform.statement.interop import syntax_name
from rtconform.statement.model import Claim, character_sets, claims, constraints
from rtconform.validate import ValidationOptions, validate_paths


def _flows(a: dict, b: dict, label_a: str, label_b: str) -> list[dict]:
    """Per SOP class and direction, whether the sender's SCU claims and the
    receiver's SCP claims meet in a transfer syntax."""
    rows = []
    for uid, sides in sorted(_claims_by_class(a, b).items()):
        for sender, receiver, direction in (("a", "b", f"{label_a} → {label_b}"),
                                            ("b", "a", f"{label_b} → {label_a}")):
            scus, scps = sides.get(f"{sender}-SCU", []), sides.get(f"{receiver}-SCP", [])
            if scus or scps:
                rows.append(_flow(uid, direction, scus, scps))
    return rows


def _claims_by_class(a: dict, b: dict) -> dict[str, dict[str, list[Claim]]]:
    """SOP class → 'a-SCU', 'b-SCP', … → the claims of that side and role."""
    by_uid: dict[str, dict[str, list[Claim]]] = defaultdict(lambda: defaultdict(list))
    for side, statement in (("a", a), ("b", b)):
        for claim in claims(statement):
            by_uid[claim.uid][f"{side}-{claim.role}"].append(claim)
    return by_uid


def _flow(uid: str, direction: str, scus: list[Claim], scps: list[Claim]) -> dict:
    """One SOP class in one direction: the claims on each side, the transfer
    syntaxes they share, and what that makes of the flow."""
    common = _common_syntaxes(scus, scps)
    return {
        "sop_class": uid, "name": (scus or scps)[0].name, "direction": direction,
        "note": _default_note(scus, scps) if scus and scps and not common else "",
        "senders": sorted({c.ae for c in scus}), "receivers": sorted({c.ae for c in scps}),
        "common_transfer_syntaxes": sorted(common),
        "transfer_syntax_names": [syntax_name(u) for u in sorted(common)],
        "sender_syntaxes": sorted({syntax_name(u) for c in scus for u in c.syntaxes}),
        "receiver_syntaxes": sorted({syntax_name(u) for c in scps for u in c.syntaxes}),
        "status": _flow_status(scus, scps, common),
        "sources": sorted({c.source for c in scus + scps if c.source}),
    }


def _common_syntaxes(scus: list[Claim], scps: list[Claim]) -> set[str]:
    """The transfer syntaxes both a sender and a receiver claim (none when
    one side claims nothing)."""
    if not (scus and scps):
        return set()
    return set().union(*(c.syntaxes for c in scus)) & set().union(*(c.syntaxes for c in scps))


def _flow_status(scus: list[Claim], scps: list[Claim], common: set[str]) -> str:
    if common:
        return "works"
    if scus and scps:
        return "no common transfer syntax"
    return "no receiver" if scus else "no sender"


def _default_note(scus: list[Claim], scps: list[Claim]) -> str:
    """On a blocking flow: the default transfer syntax neither side may lack."""
    from rtconform.statement.interop import DEFAULT_TS_NOTE, IMPLICIT_VR_LE

    lacking = [who for who, found in (("the sender", scus), ("the receiver", scps))
               if not any(IMPLICIT_VR_LE in c.syntaxes for c in found)]
    verb = "does" if len(lacking) == 1 else "do"
    return f"{DEFAULT_TS_NOTE}; " + (f"{' and '.join(lacking)} {verb} not claim it: that "
                                     "statement is incomplete or that side is not conformant"
                                     if lacking else "both claim it")


def _claims_vs_constraints(a: dict, b: dict) -> list[dict]:
    exports = {(c["sop_class"], c["attribute"]): c for c in constraints(a, "export")}
    rows = []
    for imp in constraints(b, "import"):
        exp = exports.get((imp["sop_class"], imp["attribute"]))
        row = {"iod": imp["iod"], "attribute": imp["attribute"], "constraint": _describe(imp),
               "source": imp["source"], "claim": _describe(exp) if exp else ""}
        if exp is None:
            row["verdict"] = "not claimed by the exporter"
        elif "allowed" in imp and "allowed" in exp:
            outside = sorted(set(map(str, exp["allowed"])) - set(map(str, imp["allowed"])))
            row["verdict"] = "satisfied" if not outside else f"differs: {', '.join(outside)}"
        elif "max_items" in imp and "max_items" in exp:
            row["verdict"] = "satisfied" if exp["max_items"] <= imp["max_items"] else "differs"
        else:
            row["verdict"] = "check with files"
        rows.append(row)
    return rows


def _describe(c: dict | None) -> str:
    if not c:
        return ""
    parts = []
    if "allowed" in c:
        parts.append("one of " + ", ".join(map(str, c["allowed"])))
    if "max_items" in c:
        parts.append(f"at most {c['max_items']} item(s)")
    if "expect" in c:
        parts.append(f"expected {c['expect']}")
    if "tolerance_mm" in c:
        parts.append(f"within {c['tolerance_mm']} mm")
    return "; ".join(parts)


def values_at(ds, path: list[str]) -> list:
    """Every value at a keyword path through sequences."""
    head, *rest = path
    if head not in ds:
        return []
    if not rest:
        value = ds[head].value
        if ds[head].VR == "SQ":
            return [value]
        return list(value) if isinstance(value, list) or type(value).__name__ == \
            "MultiValue" else [value]
    return [v for item in ds[head].value for v in values_at(item, rest)]


# Constraints the TRO rules already decide, by what they expect.
RULE_FOR = {"NumberOfContourPoints": "SS-CONTOUR-POINT-COUNT",
            "ROINumber": "SS-ROI-NUMBER-CONSISTENCY", "ContourData": "SS-CONTOUR-ON-PLANE"}


def check_files(b: dict, folder: Path) -> list[Finding]:
    """Would B import these files? One finding per violated constraint and file."""
    imports = constraints(b, "import")
    disabled = {i["sop_class"]: i for i in b.get("iods", [])
                if i.get("import") == "disabled_by_default"}
    findings: list[Finding] = []
    paths = [p for p in sorted(Path(folder).rglob("*")) if p.is_file()]
    tolerance = min((c["tolerance_mm"] for c in imports if "tolerance_mm" in c), default=0.01)
    graph_findings = validate_paths(paths, ValidationOptions(
        context=RuleContext(tolerance_mm=tolerance))).findings
    for path in paths:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:  # pydicom raises many types on non-DICOM input
            findings.append(Finding("IMPORT-UNREADABLE", Severity.WARNING,
                                    f"not checked against the import constraints: "
                                    f"{type(exc).__name__}: {exc}", "DICOM PS3.10", str(path)))
            continue
        sop_class = str(ds.get("SOPClassUID", ""))
        if sop_class in disabled:
            findings.append(Finding("IMPORT-DISABLED", Severity.WARNING,
                                    f"{disabled[sop_class]['name']} import is disabled by "
                                    "default", disabled[sop_class]["source"], str(path),
                                    str(ds.get("SOPInstanceUID", ""))))
        for c in imports:
            if c["sop_class"] != sop_class:
                continue
            problem = _violation(c, ds) or _rule_violation(c, path, graph_findings)
            if problem:
                findings.append(_import_finding(c, problem, path, ds))
    return findings


def _violation(c: dict, ds: pydicom.Dataset) -> str | None:
    """What in `ds` breaks the import constraint `c` (allowed values, at most
    n items, expected zero), or None."""
    path_keys = c["attribute"].split(".")
    if "allowed" in c:
        outside = sorted({str(v) for v in values_at(ds, path_keys)}
                         - {str(a) for a in c["allowed"]})
        if outside:
            return f"{c['attribute']} has {', '.join(outside)}; allowed " \
                   f"{', '.join(map(str, c['allowed']))}"
    elif "max_items" in c:
        items = values_at(ds, path_keys)
        if items and len(items[0]) > c["max_items"]:
            return f"{c['attribute']} has {len(items[0])} items; at most {c['max_items']}"
    elif c.get("expect") == "zero":
        values = [v for v in values_at(ds, path_keys) if v not in (None, "")]
        if any(float(v) != 0 for v in values):
            return f"{c['attribute']} is not zero"
    return None


def _rule_violation(c: dict, path: Path, graph_findings: list[Finding]) -> str | None:
    """A constraint the TRO rules already decide (RULE_FOR): the first
    finding of that rule on this file, or None."""
    rule = RULE_FOR.get(c["attribute"].split(".")[-1])
    if rule is None:
        return None
    hits = [f for f in graph_findings if f.rule_id == rule and f.file == str(path)]
    return f"{hits[0].message} ({rule})" if hits else None


def _import_finding(c: dict, problem: str, path: Path, ds: pydicom.Dataset) -> Finding:
    return Finding(c.get("id", "IMPORT-CONSTRAINT"), Severity.ERROR,
                   f"{c['iod']}: {problem}" + (f" — {c['consequence']}" if c.get(
                       "consequence") else ""), c["source"], str(path),
                   str(ds.get("SOPInstanceUID", "")), c["attribute"], engine="statement")


STATUS_ORDER = {"no common transfer syntax": 0, "works": 1, "no receiver": 2, "no sender": 3}


def verdict(label_a: str, label_b: str, flows: list[dict], file_errors: int,
            tro: list[dict] | None = None) -> str:
    """The answer in one line: the TRO transaction flows that work, are
    blocked or are not claimed; then what blocks, works and is one-sided
    per SOP class."""
    counts = {s: sum(f["status"] == s for f in flows) for s in STATUS_ORDER}
    one_sided = counts["no receiver"] + counts["no sender"]
    head = f"{label_a} ↔ {label_b}: "
    if tro:
        by = {v: sum(t["verdict"] == v for t in tro) for v in ("works", "blocked",
                                                               "not claimed")}
        head += (f"IHE-RO TRO flows: {by['works']} work, {by['blocked']} blocked, "
                 f"{by['not claimed']} not claimed; SOP classes: ")
    head += (f"{counts['no common transfer syntax']} blocking flow(s) (no common transfer "
             f"syntax)" if counts["no common transfer syntax"] else "no blocking flow")
    head += f"; {counts['works']} flow(s) work; {one_sided} offered by one side only"
    if file_errors:
        head += f"; {file_errors} exported file finding(s) against the import constraints"
    return head


def compare(a: dict, b: dict, files: Path | None = None) -> dict:
    from rtconform.statement.interop import transactions

    label_a, label_b = a["product"]["name"], b["product"]["name"]
    tro = transactions(a, b)
    flows = sorted(_flows(a, b, label_a, label_b),
                   key=lambda f: (STATUS_ORDER.get(f["status"], 9), f["name"], f["direction"]))
    blocking = [f for f in flows if f["status"] == "no common transfer syntax"]
    charsets_a, charsets_b = character_sets(a), character_sets(b)
    file_findings = check_files(b, files) if files else []
    file_errors = sum(f.severity is Severity.ERROR for f in file_findings)
    return {
        "verdict": verdict(label_a, label_b, flows, file_errors, tro),
        "a": label_a, "b": label_b, "transactions": tro,
        "flows": [f for f in flows if f["status"] in ("works", "no common transfer syntax")],
        "one_sided": [f for f in flows if f["status"] not in ("works",
                                                              "no common transfer syntax")],
        "blocking": blocking,
        "character_sets": {"a": sorted(charsets_a), "b": sorted(charsets_b),
                           "common": sorted(charsets_a & charsets_b),
                           "compatible": bool(charsets_a & charsets_b) or not (
                               charsets_a and charsets_b)},
        "import_constraints": _claims_vs_constraints(a, b),
        "files": str(files) if files else None,
        "file_findings": [f.to_dict() for f in file_findings],
        "exit_code": 1 if blocking or any(t["verdict"] == "blocked" for t in tro) or any(
            f.severity is Severity.ERROR for f in file_findings) else 0,
    }

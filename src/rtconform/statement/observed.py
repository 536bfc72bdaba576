"""The observed behaviour of a run written as a conformance statement (the
schema of conformance/rtconform-reference.yaml), so a run can be compared
with what a vendor claims."""

from __future__ import annotations

from pathlib import Path

import yaml

from rtconform import __version__
from rtconform.dicom.uids import uid_name


def observed_statement(report: dict) -> dict:
    sut = report.get("sut", {})
    peers = report["networking"]["policies"]["peers"]
    syntaxes: dict[tuple[str, str], set[str]] = {}
    uids = {}
    net = report["networking"]
    rows = [(row["abstract_syntax"], row) for row in net["contexts"]] + \
        [(uid, row) for row in net["move_contexts"] for uid in row["abstract_syntaxes"]]
    for uid, row in rows:  # accepted contexts: what the SUT said yes to
        if row["accepted_uids"]:
            syntaxes.setdefault((uid, row["sut_role"]), set()).update(row["accepted_uids"])
            uids[uid] = uid_name(uid)
    by_class: dict[str, dict] = {}
    for (uid, role), accepted in sorted(syntaxes.items()):
        entry = by_class.setdefault(uid, {"name": uids[uid], "uid": uid, "roles": [],
                                          "transfer_syntaxes": set()})
        entry["roles"].append(role)
        entry["transfer_syntaxes"] |= accepted
    return {
        "schema": "rtconform-statement/1",
        "source": f"observed by rtconform {__version__} in {report.get('run')}",
        "product": {"name": sut.get("name", "system under test"), "version": "observed"},
        "application_entities": [{
            "ae_title": peers[0]["ae_title"] if peers else "",
            "actors": list(report.get("actors", [])),
            "implementation_class_uid": peers[0]["implementation_class_uid"] if peers else "",
            "implementation_version_name": peers[0]["implementation_version_name"]
            if peers else "",
            "sop_classes": [{**e, "roles": sorted(set(e["roles"])),
                             "transfer_syntaxes": sorted(e["transfer_syntaxes"])}
                            for e in by_class.values()],
        }],
        "character_sets": [c["value"] for c in report.get("character_sets", [])],
        "security": {"tls": report["security"]["tls"]},
    }


def write_statement(report: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(observed_statement(report), sort_keys=False),
                    encoding="utf-8")
    return path

"""Conformance-table scenarios, generated from a conformance statement: for
each claimed SOP class × role × transfer syntax, one scenario; an unclaimed
SOP class that must be rejected; each claimed C-FIND key with each claimed
matching type, with values taken from the synthetic patient. Each scenario
is named from its data ("The Archive under test accepts RT Dose Storage as
SCP with Implicit VR Little Endian"), so a result, a JUnit case and a
cucumber element say what was tried without opening the feature file.

The feature file is written at collection time (pytest-bdd binds files), into
a temporary folder, never into the source tree.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

from rtconform.actors.query import MATCHING, key_value
from rtconform.actors.registry import tag_of
from rtconform.dicom.uids import uid_name
from rtconform.ihe.tro import ARCHIVE
from rtconform.phantom.sets import build_sample
from rtconform.statement.model import load_statement, transfer_syntaxes

# SOP classes an RT archive may well not store; the first the statement does
# not claim is proposed and must be rejected. When it claims them all, a SOP
# class no one has registered stands in (every SCP must refuse what it does
# not know, PS3.7 D.3.3.2).
UNCLAIMED = (("1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage"),
             ("1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"),
             ("1.2.826.0.1.3680043.8.498.99.1", "an unregistered SOP class"))
STATEMENT_ENV = "RTCONFORM_STATEMENT"


@functools.cache
def _structure_set():
    """Built once: a C-FIND key row is generated where the structure set has
    a value for it (the value itself is taken at run time from the structure
    set the scenario stores, whose UIDs are the run's own)."""
    return build_sample().datasets["RS_structure_set.dcm"]


def statement_features(statement: dict, source: str) -> dict[str, str]:
    """One feature per application entity (pytest-bdd: one feature per file)."""
    lists = statement.get("transfer_syntax_lists", {})
    product = statement.get("product", {}).get("name", source)
    out = {}
    for ae in statement["application_entities"]:
        make = _archive_feature if ARCHIVE in ae.get("actors", []) else _scu_feature
        text = make(ae, lists, product, source)
        if text:
            out[f"conformance_{ae['ae_title'].lower()}.feature"] = text
    return out


def _archive_feature(ae: dict, lists: dict, product: str, source: str) -> str:
    rows = [(e["name"], e["uid"], ts) for e in ae.get("sop_classes", [])
            if "SCP" in e.get("roles", []) for ts in transfer_syntaxes(e, lists)]
    claimed = {e["uid"] for e in ae.get("sop_classes", [])}
    unclaimed = next(uid for uid, _ in UNCLAIMED if uid not in claimed)
    keys = []
    for key in ae.get("query_keys", []):
        for matching in key.get("matching", []):
            if key_value(_structure_set(), key["keyword"], matching) is not None:
                keys.append((key["level"], key["keyword"], matching))
    lines = [
        "@conformance @sut_archive @archive",
        f"Feature: Conformance table of {product}, AE {ae['ae_title']} (Archive)",
        f"  Generated from {source}: what the statement claims, negotiated for real.",
    ]
    for name, uid, ts in rows:
        lines += ["", f"  Scenario: The Archive under test accepts {name} as SCP with "
                      f"{uid_name(ts)}",
                  f"    When the harness proposes {uid} with {ts} to the Archive under test",
                  "    Then the Archive under test accepts it"]
    lines += [
        "",
        f"  Scenario: The Archive under test rejects {dict(UNCLAIMED)[unclaimed]}, which it "
        "does not claim",
        f"    When the harness proposes {unclaimed} with 1.2.840.10008.1.2.1 to the Archive "
        "under test",
        "    Then the Archive under test rejects it",
    ]
    for level, keyword, matching in keys:
        lines += ["", f"  Scenario: The Archive under test matches {keyword} at {level} level "
                      f"by {MATCHING[matching]}",
                  "    Given the Archive under test holds the synthetic structure set",
                  f"    When the harness queries the Archive under test at {level} level with "
                  f"{keyword} by {MATCHING[matching]}",
                  "    Then the Archive under test finds the structure set it holds"]
    return "\n".join(lines) + "\n"


def _scu_feature(ae: dict, lists: dict, product: str, source: str) -> str:
    (actor, *_) = ae.get("actors", ["?"])
    rows = [(e["name"], e["uid"], ts, e["transaction"]) for e in ae.get("sop_classes", [])
            if "SCU" in e.get("roles", []) and e.get("transaction")
            for ts in transfer_syntaxes(e, lists)]
    if not rows:
        return ""
    lines = [
        f"@conformance @sut_{tag_of(actor)} @{tag_of(actor)}",
        f"Feature: Conformance table of {product}, AE {ae['ae_title']} ({actor})",
        f"  Generated from {source}: what the {actor} claims to propose as SCU.",
    ]
    for name, uid, ts, transaction in rows:
        lines += ["", f"  Scenario: The {actor} under test proposes {name} with {uid_name(ts)} "
                      f"in {transaction}",
                  "    Given the harness Archive holds the synthetic CT series, structure set "
                  "and geometric plan",
                  f"    When the {actor} under test performs {transaction}",
                  f"    Then the system under test proposed {uid} with {ts}"]
    return "\n".join(lines) + "\n"


def generated_features_dir(default_statement: Path | None = None) -> Path:
    """Write the generated feature for the statement named by $RTCONFORM_STATEMENT
    (or `default_statement`) and return its folder."""
    statement = os.environ.get(STATEMENT_ENV) or default_statement
    folder = Path(tempfile.mkdtemp(prefix="rtconform-features-"))
    # bound at import; gone when the interpreter (one scenario run) ends
    atexit.register(shutil.rmtree, folder, True)
    if statement and Path(statement).is_file():
        features = statement_features(load_statement(Path(statement)), Path(statement).name)
        for name, text in features.items():
            (folder / name).write_text(text, encoding="utf-8")
    return folder

"""The map of the IHE-RO test tool's BRTO checklist stays whole: every row is
mapped, every rule or scenario it names exists, and every rule it names is
proven by a fault (or by its own test where no fault can show it)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from helpers import ROOT
from rtconform.phantom.faults import FAULTS
from rtconform.profiles.brto import ROWS_PER_TRANSACTION
from rtconform.rules.coverage import expected_ids, load_coverage, totals
from rtconform.rules.profiles import all_rules, profiles, rules_of

# proven by tests of their own (tests/rules/test_rules.py NOT_BY_FAULT, tests/rules/test_brto.py,
# tests/rules/test_tppc.py)
PROVEN_BY_TEST = {"BRTO-NEW-SOP-INSTANCE", "BRTO-OPTIONAL-ATTRIBUTES",
                  "BRTO-SS-CONTOUR-DATA-LENGTH", "FILE-UNKNOWN-SOP-CLASS", "TPPC-BEAMS-LOG"}
MAPPED = [name for name, p in profiles().items() if p.checklist and p.built_in]


def _scenarios() -> set[str]:
    """'RO-n: name' of the TRO features, 'TPPC: name' … of each profile's own."""
    folders = [ROOT / "features", *(p.features_dir() for p in profiles().values()
                                    if p.features_dir() is not None)]
    names = set()
    for path in (f for folder in folders for f in folder.glob("*.feature")):
        text = path.read_text(encoding="utf-8")
        (feature,) = re.findall(r"^Feature: (RO-\d+|\w+)", text, re.M)
        names |= {f"{feature}: {n.strip()}"
                  for n in re.findall(r"^\s*Scenario(?: Outline)?: (.+)$", text, re.M)}
    return names


def test_every_row_of_the_checklist_is_mapped_once():
    rows = load_coverage()
    assert [r.id for r in rows] == expected_ids()
    assert sum(ROWS_PER_TRANSACTION.values()) == len(rows) == 289


def test_rows_agree_with_the_shared_checklist(shared_dir):
    text = (shared_dir / "ihe-ro-brto-checks.md").read_text(encoding="utf-8")
    ids = re.findall(r"^\| (BRTO-RO\d+-\d+) \|", text, re.M)
    assert ids == expected_ids()
    statuses = dict(re.findall(r"^\| (BRTO-RO\d+-\d+) \|.*\| \*\*(WARN|INERT|LOG|SHEET|UNUSED)\*\*",
                               text, re.M))
    for row in load_coverage():
        assert row.tool_status == statuses.get(row.id, "ACTIVE"), row.id


@pytest.mark.parametrize("profile", MAPPED)
def test_every_named_check_exists(profile):
    registered = {r.id for r in all_rules()}
    applied = {r.id for r in rules_of(profile, include_off=True)}
    scenarios = _scenarios()
    rows = load_coverage(profile)
    assert [r.id for r in rows] == expected_ids(profile)
    for row in rows:
        assert row.status in ("covered", "partly", "not-applicable"), row.id
        if row.status == "not-applicable":
            assert not row.checks and row.note, row.id
            continue
        assert row.checks, f"{row.id} is mapped to nothing"
        assert set(row.rules) <= registered, (row.id, set(row.rules) - registered)
        assert set(row.rules) <= applied, row.id  # applied by --profile <profile>
        assert set(row.engines) <= {"dciodvfy", "dicom-validator"}, row.id
        assert set(row.scenarios) <= scenarios, (row.id, set(row.scenarios) - scenarios)
        if row.status == "partly":
            assert row.note, row.id  # partly: always says why
            if profile == "brto":
                assert row.note.startswith("deliberate") or "UNUSED" in row.note, row.id


@pytest.mark.parametrize("profile", MAPPED)
def test_every_mapped_rule_is_proven_and_every_profile_rule_is_mapped(profile):
    proven = set().union(*(f.rule_ids for f in FAULTS.values())) | PROVEN_BY_TEST
    mapped = {rule for row in load_coverage(profile) for rule in row.rules}
    assert mapped - proven == set()
    own = {r.id for r in all_rules() if r.profile == profile}
    assert own - mapped == set()


def test_not_applicable_rows_are_few():
    t = totals(load_coverage())
    assert t["not-applicable"] <= 0.10 * t["rows"]
    assert t["covered"] + t["partly"] + t["not-applicable"] == 289


def test_rules_coverage_command():
    proc = subprocess.run([sys.executable, "-m", "rtconform", "rules", "--coverage"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    t = totals(load_coverage())
    assert proc.stdout.splitlines()[-1] == (
        f"289 rows: {t['covered']} covered, {t['partly']} partly, "
        f"{t['not-applicable']} not applicable")
    assert proc.stdout.count("BRTO-RO") >= 289


def test_a_profile_without_a_checklist_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "rtconform", "rules", "--coverage",
                           "--profile", "dicom-rt"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "maps no outside checklist" in proc.stderr + proc.stdout

"""Move tests/test_*.py into their area folders (tests/rules/, tests/actors/, …,
end-to-end tests in tests/system/) with `git mv`, and rewrite every mention of
a moved file's path (`tests/test_x.py` → `tests/rules/test_x.py`) in the
repository's tracked text files. Re-run it when test files land at the top of
tests/ later: files already in an area stay where they are.

    python tools/regroup_tests.py            # move and rewrite (in a git checkout)
    python tools/regroup_tests.py --dry-run  # only say what it would do

A test file this table does not know stops the move (exit 1) with its name:
add it to AREAS. Shared helpers (conftest.py, helpers.py, peers.py,
wheelenv.py, mini_standard.py) stay in tests/, where tests/conftest.py puts
them on sys.path for every area. pytest imports test modules by their base
name (rootdir-relative "prepend" mode, no __init__.py), so base names must
stay unique across areas: checked here too.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"

AREAS: dict[str, tuple[str, ...]] = {
    # the house itself: layers, docs, README layout
    "architecture": ("test_layers", "test_docs"),
    # base modules: console and XML text, user YAML, redaction
    "base": ("test_text_output", "test_yaml_config", "test_redactor"),
    "dicom": ("test_dicom_values", "test_read", "test_pydicom_files"),
    # the synthetic patient (rtconform.phantom) and the exporters' trees made of it
    "phantom": ("test_sample", "test_exports", "test_phantom", "test_patient"),
    "rules": ("test_rules", "test_brto", "test_tppc", "test_catalogue", "test_coverage",
              "test_fileset", "test_engines"),
    "validate": ("test_scale", "test_fuzz", "test_layout", "test_export_layout",
                 "test_diff_export", "test_export_pairing", "test_reconcile"),
    "actors": ("test_actors", "test_archive", "test_hostile", "test_guard_stream",
               "test_storage", "test_push", "test_nservices", "test_commitment",
               "test_registry"),
    "run": ("test_run", "test_harness_evidence", "test_shards", "test_run_session"),
    "report": ("test_report", "test_statement", "test_markdown_escape",
               "test_observed_statement", "test_iod_tables", "test_report_sections"),
    "suts": ("test_suts", "test_matrix", "test_matrix_plan"),
    "cli": ("test_cli", "test_cli_options", "test_config_input", "test_injection"),
    # end to end: the wheel, the README's job, real data and real third-party peers
    "system": ("test_packaging", "test_readme", "test_real_data", "test_reference_data",
               "test_real_peers", "test_redaction"),
}
AREA_OF = {name: area for area, names in AREAS.items() for name in names}


def tracked_text_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                         capture_output=True).stdout.decode().split("\0")
    files = []
    for name in filter(None, out):
        path = ROOT / name
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".yaml", ".yml", ".j2",
                                              ".feature", ".txt", ".cfg", ""}:
            files.append(path)
    return files


def plan() -> tuple[dict[str, str], list[str]]:
    """(file name → area for the top-level test files, unknown file names)."""
    moves, unknown = {}, []
    for path in sorted(TESTS.glob("test_*.py")):
        area = AREA_OF.get(path.stem)
        if area is None:
            unknown.append(path.name)
        else:
            moves[path.name] = area
    for path in sorted(TESTS.glob("*/test_*.py")):  # an area changed in AREAS: moved again
        area = AREA_OF.get(path.stem)
        if area is not None and area != path.parent.name:
            moves[f"{path.parent.name}/{path.name}"] = area
    return moves, unknown


def located() -> dict[str, str]:
    """file name → area of every test file already in an area folder."""
    return {p.name: p.parent.name for p in TESTS.glob("*/test_*.py")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would be done")
    args = parser.parse_args(argv)
    moves, unknown = plan()
    if unknown:
        print("no area for: " + ", ".join(unknown) + " (add them to AREAS in "
              "tools/regroup_tests.py)", file=sys.stderr)
        return 1
    names = [p.name for p in TESTS.rglob("test_*.py")]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        print("test file names used twice: " + ", ".join(clashes), file=sys.stderr)
        return 1
    for name, area in moves.items():
        base = Path(name).name
        print(f"tests/{name} → tests/{area}/{base}")
        if not args.dry_run:
            (TESTS / area).mkdir(exist_ok=True)
            subprocess.run(["git", "mv", f"tests/{name}", f"tests/{area}/{base}"], cwd=ROOT,
                           check=True)
    where = {**located(), **{Path(name).name: area for name, area in moves.items()}}
    mention = re.compile(r"\btests/(?:[a-z_]+/)?(test_\w+\.py)")

    def rewrite(match: re.Match) -> str:
        name = match.group(1)
        return f"tests/{where[name]}/{name}" if name in where else match.group(0)

    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        new = mention.sub(rewrite, text)
        if new != text:
            print(f"mentions rewritten in {path.relative_to(ROOT)}")
            if not args.dry_run:
                path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

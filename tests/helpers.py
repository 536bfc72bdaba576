"""Test helpers (not in conftest.py: features/ has a conftest of its own, and
two modules named conftest cannot both be imported by name)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pydicom
import pytest

from rtconform.validate import ValidationOptions, validate_paths

IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
ROOT = Path(__file__).resolve().parents[1]
PYDICOM_TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def artifacts_dir(name: str) -> Path:
    """Where a test leaves what a reviewer of a CI run wants to see (the
    report's screenshots): $RTCONFORM_ARTIFACTS, else reports/ci-artifacts/
    of the checkout (ignored by git, collected by CI)."""
    base = Path(os.environ.get("RTCONFORM_ARTIFACTS") or ROOT / "reports" / "ci-artifacts")
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop, fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def require_module(name: str, package: str):
    """Import a module a test needs as a peer (skip on a laptop, fail under CI)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        require(False, f"python module {name} not installed (pip install {package})")


def require_program(name: str, package: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} not installed (apt-get install {package})")
    return path


@contextlib.contextmanager
def chromium_page(**page_options):
    """A page of a real headless Chromium, driven by playwright (skip on a
    laptop without them, fail under CI); the browser is closed afterwards."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require(Path(chromium).is_file(), "chromium not installed (apt-get install chromium)")
    playwright = require_module("playwright.sync_api", "playwright")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            yield browser.new_page(**page_options)
        finally:
            browser.close()


def tro_findings(*paths: Path, profile: str = "dicom-rt", given: tuple[Path, ...] = (),
                 **context):
    """Findings of the rules alone (no standard engines), under a profile."""
    from rtconform.rules.registry import RuleContext

    return validate_paths(list(paths), ValidationOptions(
        context=RuleContext(**context), profile=profile, given=list(given))).findings


def rule_ids(findings, severities=("error", "warning")) -> set[str]:
    return {f.rule_id for f in findings if f.severity in severities}


def default_sigint() -> None:
    """preexec_fn for a child a test interrupts with SIGINT: Ctrl-C's default
    action back. A suite started in the background by a non-interactive shell
    (`.ci/run &`) runs with SIGINT ignored, and a child inherits the ignore
    across exec, so it would never see the test's Ctrl-C."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)

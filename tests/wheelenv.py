"""A venv that holds what a user's `pip install rtconform-….whl` would give, made
offline: rtconform's wheel, and exactly the distributions its metadata declares
(their own declared dependencies too), taken from the running environment
explicitly — each distribution's files linked in, its console scripts written.
Nothing else is visible (no system site-packages), so an import of an undeclared
package fails here as it would for a user. pynetdicom's console scripts
(storescu, echoscu, …) land in the venv's bin/, shadowing dcmtk's as they do
for a user.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from helpers import ROOT


def build_wheel(folder: Path) -> Path:
    """rtconform's wheel, built from a copy of this checkout (setuptools builds
    in the source tree: two test processes must not share one) without a download."""
    source = folder / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("src", "features", "conformance"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "--no-build-isolation", "-w", str(folder), str(source)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = folder.glob("rtconform-*.whl")
    return wheel


def declared(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode("utf-8")
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Requires-Dist:")]


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """Every distribution the requirements bring in (no extras), from the running
    environment; a declared one that is missing or of another version fails."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        key = req.name.lower().replace("_", "-")
        if key in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{req} is declared but not installed here") from None
        assert req.specifier.contains(dist.version, prereleases=True), \
            f"{req} is declared, {dist.version} is installed"
        found[key] = dist
        todo += [(Requirement(r), e) for r in dist.requires or () for e in ("", *req.extras)]
    return found


def make_venv(folder: Path, wheel: Path) -> Path:
    """A venv with the wheel's declared dependencies (not the wheel itself: pip
    installs that, as the user does, finding every requirement satisfied)."""
    venv.create(folder, with_pip=True, system_site_packages=False)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for dist in closure(declared(wheel)).values():
        files = dist.files
        assert files is not None, f"{dist.metadata['Name']} has no RECORD: cannot be linked"
        for entry in files:
            if entry.parts[0] == ".." or "__pycache__" in entry.parts:
                continue  # scripts (written below) and byte code
            source = Path(dist.locate_file(entry))
            target = site / entry
            if not source.is_file() or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
        for ep in dist.entry_points.select(group="console_scripts"):
            module, _, attr = ep.value.partition(":")
            script = folder / "bin" / ep.name
            script.write_text(f"#!{python}\nimport sys\nfrom {module} import {attr.split('.')[0]}"
                              f"\nsys.exit({attr}())\n")
            script.chmod(0o755)
    return folder

"""The README's commands are the product's promises: every `rtconform`
command line in it parses with today's options, and its CI job runs as
written, with the synthetic patient's batch-exporter tree standing in for the
user's exporter (a real Archive process, real dcmtk storescu, dciodvfy)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
import yaml

from helpers import ROOT, require_program
from peers import dcmtk, free_port
from rtconform.cli import build_parser

README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def rtconform_commands(text: str) -> list[str]:
    """Each `rtconform …` invocation of a shell text (continuations joined,
    comments, chains and background `&` taken apart)."""
    text = text.replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        line = re.sub(r"\s#.*$", "", line).strip()
        for part in re.split(r"&&|\|\||;|(?<!&)&(?!&)", line):
            if part.strip().startswith("rtconform "):
                commands.append(part.strip())
    return commands


def ci_job() -> dict:
    (workflow,) = [b for b in code_blocks("yaml") if "rtconform validate" in b]
    return yaml.safe_load(workflow)


def all_commands() -> list[str]:
    found = [c for block in code_blocks("sh") for c in rtconform_commands(block)]
    for step in ci_job()["jobs"]["gate"]["steps"]:
        found += rtconform_commands(step.get("run", ""))
    return found


def test_the_readme_has_the_commands_it_should():
    commands = all_commands()
    assert len(commands) > 30
    for needed in ("rtconform run", "rtconform validate", "rtconform diff-export",
                   "rtconform reconcile", "--resume", "--scheduler", "--export"):
        assert any(needed in c for c in commands), needed


@pytest.mark.parametrize("command", all_commands())
def test_every_readme_command_parses(command):
    words = shlex.split(command)[1:]
    try:
        build_parser().parse_args(words)
    except SystemExit as exc:  # argparse's way of saying "unknown option"
        pytest.fail(f"README command does not parse ({exc.code}): {command}")


def test_the_ci_job_runs_as_written(tmp_path):
    """The workflow's steps, in order, in a shell: only the exporter and the
    port are replaced (the exporter by the synthetic patient's tree)."""
    require_program("dciodvfy", "dicom3tools")
    # dcmtk's, not pynetdicom's namesakes, which may come first on PATH
    storescu, echoscu = dcmtk("storescu"), dcmtk("echoscu")
    steps = [s for s in ci_job()["jobs"]["gate"]["steps"] if "run" in s
             and "apt-get" not in s["run"] and "pip install" not in s["run"]]
    exporter = f"{sys.executable} -m rtconform sample export/ --export patient-tree"
    port = free_port()
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
              f"{sys.executable} -m rtconform sample release-export/ --export patient-tree",
              "echo '[]' > waivers.yaml"]
    for step in steps:
        run = re.sub(r"(^|\s)rtconform ", rf"\1{sys.executable} -m rtconform ", step["run"])
        run = run.replace("./tools/export-test-patients.sh export/", exporter)
        script.append(run.replace("11112", str(port)).replace("storescu ", f"{storescu} ")
                      .replace("echoscu ", f"{echoscu} "))
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 missing" in proc.stdout, proc.stdout[-2000:]
    for output in ("gate/findings.json", "gate/diff.json", "gate/reconcile.json",
                   "validate.xml"):
        assert (tmp_path / output).is_file(), output

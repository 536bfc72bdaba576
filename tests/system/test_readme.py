"""The README's commands are the product's promises: every `rtconform`
command line in it parses with today's options, its CI job runs as written in
a venv made from the wheel (the synthetic patient's batch-exporter tree
standing in for the user's exporter; a real Archive process, rtconform push,
dciodvfy), and `.ci/run` runs the two commands of "Two commands" as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from helpers import ROOT, require_program
from peers import free_port
from rtconform.cli import build_parser
from wheelenv import make_venv

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
            part = re.sub(r"\s[12]?>>?\s*\S+", "", part).strip()  # redirections
            if part.startswith("rtconform "):
                commands.append(part)
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


EXPORTER = "#!/bin/sh\n# the exporter under test, played by the synthetic patient\n" \
    "exec rtconform sample \"$1\" --export patient-tree\n"


@pytest.mark.xdist_group("wheel")
def test_the_ci_job_runs_as_written(tmp_path, rtconform_wheel):
    """The workflow's `run:` steps, in order, in one shell, in a venv holding
    the wheel's declared dependencies (pynetdicom's storescu first on PATH):
    the repository holds only what a user's would — the exporter (played by
    the synthetic patient, this build's and the last release's) and the wheel.
    Only the port changes; the apt step is the machine's (dciodvfy must be
    there) and the `uses:` steps are GitHub's."""
    require_program("dciodvfy", "dicom3tools")
    env_dir = make_venv(tmp_path / "venv", rtconform_wheel)
    repo = tmp_path / "repo"
    for exporter in ("tools", "last-release/tools"):
        script = repo / exporter / "export-test-patients.sh"
        script.parent.mkdir(parents=True)
        script.write_text(EXPORTER)
        script.chmod(0o755)
    (repo / "ci").mkdir()
    shutil.copy(rtconform_wheel, repo / "ci")
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "VIRTUAL_ENV": str(env_dir)}
    env.pop("PYTHONPATH", None)
    storescu = shutil.which("storescu", path=env["PATH"])
    assert storescu == str(env_dir / "bin" / "storescu")  # pynetdicom's, not dcmtk's
    steps = [s["run"] for s in ci_job()["jobs"]["gate"]["steps"]
             if "run" in s and "apt-get" not in s["run"]]
    assert any(s.startswith("pip install ci/") for s in steps)
    assert not any(re.search(r"\b(storescu|echoscu)\b", s) for s in steps)
    port = str(free_port())
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
              *(step.replace("11112", port) for step in steps)]
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=repo, capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 missing" in proc.stdout, proc.stdout[-2000:]
    assert re.search(r"\b68 sent to ARCHIVE@localhost:\d+ .*0 refused, 0 not sent", proc.stdout)
    for output in ("gate/findings.json", "gate/diff.json", "gate/push.json",
                   "gate/reconcile.json", "validate.xml"):
        assert (repo / output).is_file(), output
    assert "rtconform" in subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "list"], capture_output=True, text=True,
        env=env, check=True).stdout  # the workflow's pip step installed it


def test_the_waivers_example_waives_nothing_and_loads(tmp_path, capsys):
    """The shipped example is a valid waivers file: with it, validate says the
    same as without it; a waivers file that is not there is exit 2 and says
    how to make one."""
    from rtconform.cli import main
    from rtconform.phantom.faults import write_sample

    write_sample(tmp_path / "bad", "contour-off-plane")
    assert main(["waivers", "example"]) == 0
    example = capsys.readouterr().out
    assert example.count("\n# - rule:") == 1 and "reason:" in example
    (tmp_path / "waivers.yaml").write_text(example)
    args = ["validate", str(tmp_path / "bad"), "--engines", "tro", "-q"]
    assert main(args) == 1
    without = capsys.readouterr().out
    assert main([*args, "--waivers", str(tmp_path / "waivers.yaml")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == without.splitlines()[0]
    assert main([*args, "--waivers", str(tmp_path / "none.yaml")]) == 2
    assert "rtconform waivers example >" in capsys.readouterr().err


def test_ci_runs_the_two_commands_as_written():
    """`.ci/run` is the proof of the two commands on a fresh machine: it runs
    each line of the "Two commands" blocks verbatim, in order, in a fresh venv
    (the run itself is too slow for the suite; CI is that run)."""
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```sh\n(.*?)```", section, re.S)
             for line in block.strip().splitlines()]
    assert lines == ['pip install -e ".[test]" && rtconform run', "python -m pytest"]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    positions = [ci.index(line) for line in lines]  # verbatim, whole lines
    assert positions == sorted(positions)
    venv_line = next(i for i, line in enumerate(ci) if "-m venv" in line)
    assert "--system-site-packages" not in ci[venv_line] and venv_line < positions[0]
    assert any("apt-get install -y dcmtk dicom3tools orthanc chromium" in line for line in ci)

"""dciodvfy (David Clunie's dicom3tools) as an engine.

Its lines look like
    Error - </ReferencedFrameOfReferenceSequence(3006,0010)[1]/FrameOfReferenceUID(0020,0052)> - msg
and become findings with our tag-path notation (0-based item indices):
    ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from rtconform.engines.judgement import judge
from rtconform.findings import Finding, Severity

SOURCE = "DICOM PS3.3 IOD definitions, as checked by dciodvfy (dicom3tools)"
_LINE = re.compile(r"^(Error|Warning) - (?:<(?P<path>[^>]*)>\s*-\s*)?(?P<msg>.*)$")
_STEP = re.compile(r"(?P<name>[A-Za-z0-9]*)\((?P<tag>[0-9a-fA-F]{4},[0-9a-fA-F]{4})\)"
                   r"(?:\[(?P<index>\d+)\])?")
_ELEMENT = re.compile(r"Element=<(\w+)>")
TIMEOUT_S = 60


def tag_path(dciodvfy_path: str) -> str:
    """'/Seq(3006,0010)[1]/Attr(0020,0052)' → 'Seq[0].Attr'."""
    steps = []
    for part in dciodvfy_path.strip().strip("/").split("/"):
        match = _STEP.search(part)
        if not match:
            steps.append(part.strip())
            continue
        name = match["name"] or f"({match['tag'].upper()})"
        # dciodvfy puts [1] after single-valued attributes too; only sequences
        # get an item index, and those are followed by another step.
        steps.append((name, match["index"]))
    out = []
    for i, step in enumerate(steps):
        if isinstance(step, str):
            out.append(step)
            continue
        name, index = step
        if index is not None and i < len(steps) - 1:
            out.append(f"{name}[{int(index) - 1}]")
        else:
            out.append(name)
    return ".".join(out)


def parse(output: str, file: str, sop_instance_uid: str) -> list[Finding]:
    findings = []
    for line in output.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        severity = Severity.ERROR if match[1] == "Error" else Severity.WARNING
        path = tag_path(match["path"]) if match["path"] else ""
        if not path and (element := _ELEMENT.search(match["msg"])):
            path = element[1]
        rule_id = "DCIODVFY-ERROR" if severity is Severity.ERROR else "DCIODVFY-WARNING"
        findings.append(Finding(rule_id, severity, match["msg"].strip(), SOURCE, file,
                                sop_instance_uid, path, engine="dciodvfy"))
    return findings


class Dciodvfy:
    name = "dciodvfy"

    def __init__(self, executable: str | None = None, strict: bool = False) -> None:
        self.executable = executable or shutil.which("dciodvfy")
        self.strict = strict  # keep every finding at dciodvfy's own severity

    def unavailable_reason(self) -> str | None:
        if not self.executable:
            return ("dciodvfy not found on PATH (Debian/Ubuntu: apt-get install dicom3tools); "
                    "standard IOD checks by dciodvfy are skipped")
        return None

    def check_file(self, path: Path, sop_instance_uid: str) -> list[Finding]:
        try:
            # a session of its own: Ctrl-C in the terminal stops the validation, not
            # the check of a file, which would then look like a crash of dciodvfy
            proc = subprocess.run([self.executable, "-new", str(path)], capture_output=True,
                                  text=True, errors="replace", timeout=TIMEOUT_S, check=False,
                                  start_new_session=True)
        except subprocess.TimeoutExpired:
            return [Finding("ENGINE-FAILED", Severity.WARNING,
                            f"dciodvfy did not finish within {TIMEOUT_S} s", SOURCE, str(path),
                            sop_instance_uid, engine=self.name)]
        findings = parse(proc.stdout + proc.stderr, str(path), sop_instance_uid)
        if not self.strict:
            findings = judge(findings, path, self.name)
        if proc.returncode < 0:  # killed by a signal (it aborts on some 32-bit doses)
            import signal

            name = signal.Signals(-proc.returncode).name
            findings.append(Finding("ENGINE-FAILED", Severity.WARNING,
                                    f"dciodvfy crashed ({name}): this file was not fully checked "
                                    "by it", SOURCE, str(path), sop_instance_uid,
                                    engine=self.name))
        return findings

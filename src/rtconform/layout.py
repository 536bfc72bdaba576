"""Export trees: where an exporter puts what. A layout names the patient
folder with DICOM keywords, the folders where DICOM is expected, where a
plan's objects belong and which other folders hold documents; a tree is
checked against it (`rtconform validate TREE --layout patient-tree|flat|FILE`).

The built-in `patient-tree` is the batch patient exporter's
(`LastName_FirstName_MedicalID/DICOM`, and per plan `DICOM/`, `Documents/`,
`Fraction_Files/`, `Live_Images/`, `Logs/`, `Plan_Files/`, `Screenshots/`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from rtconform.findings import Finding, Severity
from rtconform.yaml_config import ConfigError, load_checked

SOURCE = "rtconform export layout"
# Windows refuses these names and characters (and a path beyond 260 characters
# without long-path support); a tree copied to a PACS workstation must survive it.
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
            *(f"LPT{i}" for i in range(1, 10))}
UNSAFE_CHARS = re.compile(r'[<>:"\\|?*\x00-\x1f]')
MAX_PATH = 260

SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["name", "patient_folder"],
    "properties": {
        "name": {"type": "string"},
        "patient_folder": {"type": "string", "minLength": 1},
        "dicom_folders": {"type": "array", "items": {"type": "string"}},
        "plan_objects": {"type": "array", "items": {"type": "string"}},
        "plan_dicom_folder": {"type": "string"},
        "other_folders": {"type": "array", "items": {"type": "string"}},
    },
}


class LayoutError(ValueError):
    """A layout file that cannot be used, located."""


@dataclass
class Layout:
    name: str
    patient_folder: str | None  # None: no patient folders (flat)
    dicom_folders: list[str] = field(default_factory=list)  # globs, relative to a patient
    plan_objects: list[str] = field(default_factory=list)  # modalities of a plan folder
    plan_dicom_folder: str = "*/DICOM"
    other_folders: list[str] = field(default_factory=list)


BUILT_IN = {
    "patient-tree": Layout(
        "patient tree (LastName_FirstName_MedicalID)",
        "{PatientName.family}_{PatientName.given}_{PatientID}",
        dicom_folders=["DICOM", "*/DICOM"],
        plan_objects=["RTPLAN", "RTDOSE", "RTRECORD"],
        other_folders=["Documents", "Fraction_Files", "Live_Images", "Logs", "Plan_Files",
                       "Screenshots"]),
    "flat": Layout("flat folder", None),
}


def load_layout(spec: str) -> Layout:
    if spec in BUILT_IN:
        return BUILT_IN[spec]
    try:
        data = load_checked(Path(spec), SCHEMA)
    except ConfigError as exc:
        raise LayoutError(str(exc)) from exc
    return Layout(data["name"], data["patient_folder"], data.get("dicom_folders", []),
                  data.get("plan_objects", []), data.get("plan_dicom_folder", "*/DICOM"),
                  data.get("other_folders", []))


def _normal(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def expected_folder(pattern: str, ds) -> str:
    """The patient folder name the layout gives this object."""
    name = ds.get("PatientName")
    values = {"PatientName.family": getattr(name, "family_name", "") if name else "",
              "PatientName.given": getattr(name, "given_name", "") if name else ""}

    def value(match: re.Match) -> str:
        key = match.group(1)
        return str(values.get(key, ds.get(key, "")) or "")

    return re.sub(r"\{([A-Za-z.]+)\}", value, pattern)


def _matches(relative: Path, globs: list[str]) -> bool:
    text = relative.as_posix()
    return any(fnmatch.fnmatchcase(text, g) for g in globs)


def _patients(root: Path, layout: Layout) -> list[Path]:
    """The patient folders: the root itself when it looks like one, else its
    children that hold a DICOM folder of the layout."""
    def is_patient(folder: Path) -> bool:
        return any(_matches(p.relative_to(folder), layout.dicom_folders)
                   for p in folder.rglob("*") if p.is_dir())

    if is_patient(root) and not any(is_patient(c) for c in root.iterdir() if c.is_dir()):
        return [root]
    return sorted(c for c in root.iterdir() if c.is_dir() and is_patient(c))


def check_tree(root: Path, layout: Layout, dicom: dict[Path, object]) -> list[Finding]:
    """Findings of the tree against the layout. `dicom` maps each file read
    as DICOM to its header dataset (from the validation pass)."""
    root = Path(root)
    findings = _unsafe_names_and_empty_folders(root)
    if layout.patient_folder is None:
        return findings
    in_patient = set()
    for patient in _patients(root, layout):
        for path in sorted(p for p in patient.rglob("*") if p.is_file()):
            in_patient.add(path)
            findings += _placement(path, patient, layout, dicom.get(path))
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path not in in_patient and path in dicom:
            findings.append(Finding("LAYOUT-ORPHAN", Severity.WARNING,
                                    "a DICOM object outside every patient folder", SOURCE,
                                    str(path)))
    return findings


def _unsafe_names_and_empty_folders(root: Path) -> list[Finding]:
    """What any layout forbids: names common file systems refuse, empty folders."""
    findings: list[Finding] = []
    for path in sorted(root.rglob("*")):
        findings += _name_findings(root, path)
        if path.is_dir() and not any(path.iterdir()):
            findings.append(Finding("LAYOUT-EMPTY-FOLDER", Severity.WARNING,
                                    "an empty folder in the export", SOURCE, str(path)))
    return findings


def _placement(path: Path, patient: Path, layout: Layout, ds) -> list[Finding]:
    """One file of a patient folder against the layout: DICOM where the layout
    wants it, in its patient's folder, a plan's objects in a plan folder.
    `ds` is its header, the reason it could not be read, or None (not DICOM)."""
    folder = path.relative_to(patient).parent
    in_dicom_folder = _matches(folder, layout.dicom_folders)
    if isinstance(ds, str):
        return []  # DICOM that cannot be read: FILE-UNREADABLE says why
    if ds is None:
        return [Finding("LAYOUT-DICOM-EXPECTED", Severity.ERROR,
                        f"{folder.as_posix()}/ holds DICOM in this layout, but this file is "
                        "not DICOM", SOURCE, str(path))] if in_dicom_folder else []
    findings = []
    uid = str(ds.get("SOPInstanceUID", ""))
    expected = expected_folder(layout.patient_folder, ds)
    if _normal(expected) != _normal(patient.name):
        findings.append(Finding(
            "LAYOUT-PATIENT-FOLDER", Severity.ERROR,
            f"belongs to patient folder {expected!r} by its Patient's Name and ID, but "
            f"is in {patient.name!r}", SOURCE, str(path), uid, "PatientName"))
    modality = str(ds.get("Modality", ""))
    if modality in layout.plan_objects and not _matches(folder, [layout.plan_dicom_folder]):
        findings.append(Finding(
            "LAYOUT-PLAN-FOLDER", Severity.WARNING,
            f"an {modality} object outside a plan folder ({layout.plan_dicom_folder})",
            SOURCE, str(path), uid, "Modality"))
    elif not in_dicom_folder and folder.name not in layout.other_folders:
        findings.append(Finding(
            "LAYOUT-DICOM-PLACE", Severity.WARNING,
            f"a DICOM object in {folder.as_posix() or '.'}/, not a DICOM folder of "
            "the layout", SOURCE, str(path), uid))
    return findings


def _name_findings(root: Path, path: Path) -> list[Finding]:
    name = path.name
    problems = []
    if UNSAFE_CHARS.search(name):
        problems.append("a character Windows refuses (<>:\"\\|?*)")
    if name.rstrip(" .") != name:
        problems.append("a trailing space or dot")
    if name.split(".")[0].upper() in RESERVED:
        problems.append("a reserved device name")
    if len(str(path.relative_to(root))) > MAX_PATH:
        problems.append(f"a path longer than {MAX_PATH} characters")
    return [Finding("LAYOUT-UNSAFE-NAME", Severity.WARNING,
                    f"{name!r} has {', '.join(problems)}: unsafe on common file systems",
                    SOURCE, str(path))] if problems else []


def read_dicom_headers(root: Path) -> dict[Path, object]:
    """Header of each file under `root` with the 'DICM' prefix; for one that
    cannot be read, the reason (DICOM by intent: validate reports it)."""
    out: dict[Path, object] = {}
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        try:
            with path.open("rb") as fp:
                if fp.read(132)[128:132] != b"DICM":
                    continue
            out[path] = pydicom.dcmread(path, stop_before_pixels=True,
                                        specific_tags=["PatientName", "PatientID", "Modality",
                                                       "SOPInstanceUID"])
        except Exception as exc:  # kept as DICOM by intent; FILE-UNREADABLE says why
            out[path] = f"{type(exc).__name__}: {exc}"
    return out

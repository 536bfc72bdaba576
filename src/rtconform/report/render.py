"""Render the report model: one self-contained HTML file (CSS inline, pictures
as data URIs), Markdown with its pictures beside it, and JSON."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import jinja2
import markupsafe
import pydicom
from pydicom.dataset import Dataset

from rtconform.redact import Redactor
from rtconform.report import markdown as md
from rtconform.report import model as report_model
from rtconform.report.dvh import dvh_curves, dvh_png, dvh_statistics, dvh_voxels, voxel_statistics
from rtconform.report.pictures import DoseGrid, plane_pictures, prescription_gy
from rtconform.rules.profiles import report_sections
from rtconform.run_folder import RunFolder

FORMATS = ("html", "md", "json", "pdf")  # pdf: on request (headless Chromium prints the HTML)
DEFAULT_FORMATS = ("html", "md", "json")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfError(RuntimeError):
    """No browser to print with, or printing failed: said, with what to install."""


PAPERS = {"a4": "A4", "letter": "letter"}


def print_pdf(html: Path, pdf: Path, timeout: float = 120) -> Path:
    """The HTML report printed to PDF by headless Chromium (one file for a
    reviewer; pictures and tables as in the browser; the page size, footers
    and page numbers from the report's CSS @page rules)."""
    import shutil
    import subprocess
    import tempfile

    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        raise PdfError("no Chromium to print the PDF with (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="rtconform-pdf-") as profile:
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             f"--user-data-dir={profile}", "--no-pdf-header-footer",
             f"--print-to-pdf={pdf}", html.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise PdfError(f"Chromium could not print {html} (exit {proc.returncode}): "
                       f"{proc.stderr.strip()[-300:]}")
    return pdf


def section_pages(pdf: Path) -> dict[str, int]:
    """The page (1-based) each linked section landed on: Chromium writes a
    named destination for every element a link of the document points to."""
    import pypdf

    reader = pypdf.PdfReader(str(pdf))
    return {name.lstrip("/"): reader.get_destination_page_number(dest) + 1
            for name, dest in reader.named_destinations.items()}


def print_report(render_html, pdf: Path, passes: int = 3) -> Path:
    """Print, read where each section landed, write those page numbers into
    the contents and print again, until the numbers stand (Chromium has no
    target-counter()). `render_html(pages)` returns the HTML file to print;
    the first pass reserves the numbers' width with placeholders."""
    pages: dict[str, int | str] = {}
    for _ in range(passes):
        html = render_html(pages or _placeholders(pages))
        print_pdf(html, pdf)
        found = section_pages(pdf)
        if found == pages:
            break
        pages = found
    return pdf


def _placeholders(_pages: dict) -> dict:
    class Wide(dict):
        def get(self, key, default=None):
            return "00"
    return Wide()


def pictures(run_dir: Path, received: list[Path], redactor: Redactor,
             unreadable: list[dict]) -> list[dict]:
    """For each received structure set: slices with contours and isodoses, and
    a DVH when a dose of the same Frame of Reference is at hand."""
    objects = report_model.stored_objects(run_dir, received_only=False)
    headers = dict(report_model.read_headers(sorted(set(received) | set(objects.values())),
                                             unreadable))
    for path in received:  # an exporter's files are the objects themselves
        if path in headers:
            objects.setdefault(str(headers[path].get("SOPInstanceUID", "")), path)
    sets = []
    for path in _structure_sets(received, headers):
        entry = _rt_set_pictures(path, objects, headers, received, redactor)
        if entry is not None:
            sets.append(entry)
        if len(sets) >= 3:
            break
    return sets


def _structure_sets(received: list[Path], headers: dict[Path, Dataset]) -> Iterator[Path]:
    """The received structure sets, each SOP instance once however often it
    was received: one picture per RT set."""
    drawn: set[str] = set()
    for path in received:
        ds = headers.get(path)
        if ds is None or ds.get("Modality") != "RTSTRUCT":
            continue
        if str(ds.get("SOPInstanceUID", "")) not in drawn:
            drawn.add(str(ds.get("SOPInstanceUID", "")))
            yield path


def _rt_set_pictures(path: Path, objects: dict[str, Path], headers: dict[Path, Dataset],
                     received: list[Path], redactor: Redactor) -> dict | None:
    """The pictures of one structure set with the images it contours and a
    plan dose of its Frame of Reference (None: none of its images is at
    hand)."""
    ss = pydicom.dcmread(path)
    refs = {str(c.ContourImageSequence[0].ReferencedSOPInstanceUID)
            for roi in ss.get("ROIContourSequence", []) for c in roi.get("ContourSequence", [])
            if "ContourImageSequence" in c}
    images = [pydicom.dcmread(objects[u]) for u in sorted(refs) if u in objects]
    if not images:
        return None
    frame = str(ss.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID)
    doses = [p for p, h in headers.items() if h.get("Modality") == "RTDOSE"
             and str(h.get("FrameOfReferenceUID")) == frame
             and h.get("DoseSummationType") == "PLAN"]
    dose, skipped = _drawable_dose(sorted(doses, key=lambda p: p not in received))
    rx = prescription_gy(_plan_of(dose, objects))
    title = redactor(str(ss.get("StructureSetLabel", "")))
    try:  # objects the SUT sent may be broken: the report says so, it does not stop
        entry = _picture_set(images, ss, dose, title, rx, redactor)
        if skipped:
            entry["note"] = "; ".join(skipped)
    except Exception as exc:
        entry = {"title": f"RT set {title}", "prescription_gy": rx, "slices": [],
                 "note": f"pictures not drawn: {type(exc).__name__}: {exc}"}
    return entry


def _plan_of(dose: Dataset | None, objects: dict[str, Path]) -> Dataset | None:
    """The plan a dose references, when it is at hand (its prescription
    labels the isodoses)."""
    if dose is None or not dose.get("ReferencedRTPlanSequence"):
        return None
    plan_path = objects.get(str(dose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID))
    return pydicom.dcmread(plan_path, stop_before_pixels=True) if plan_path else None


def _drawable_dose(paths: list[Path]) -> tuple[Dataset | None, list[str]]:
    """The first plan dose whose grid can be drawn, and why the ones before it
    could not (a dose with a broken grid is a finding of its own, not a
    picture)."""
    skipped = []
    for path in paths:
        dose = pydicom.dcmread(path)
        try:
            DoseGrid(dose)
        except Exception as exc:  # the next dose may be whole; this one is said
            skipped.append(f"RT Dose {dose.get('SOPInstanceUID', path.name)} not drawn: {exc}")
            continue
        return dose, skipped
    return None, skipped


def _picture_set(images, ss, dose, title: str, rx: float | None, redactor) -> dict:
    planes = plane_pictures(images, ss, dose, title, prescription=rx)
    entry = {"title": f"RT set {title}", "prescription_gy": rx, "slices": [
        {"caption": p.caption, "png": p.png, "roi_colours": p.roi_colours,
         "isodose_colours": p.isodose_colours} for p in planes]}
    if dose is not None:
        curves = dvh_curves(ss, dose)
        entry["dvh"], entry["dvh_colours"] = dvh_png(ss, dose, title, curves, rx)
        stats = dvh_statistics(curves, rx) if "DVHSequence" in dose else \
            voxel_statistics(dvh_voxels(ss, dose), rx)
        entry["dvh_statistics"] = [{**row, "structure": redactor(row["structure"])}
                                   for row in stats]
    return entry


def _nonempty(columns: list[tuple], rows: list[dict]) -> list[tuple]:
    """The columns (key, title[, width]) some row has a value in: a column
    that is empty on every row says nothing and is not printed."""
    return [column for column in columns
            if any(row.get(column[0]) not in (None, "", [], ()) for row in rows)]


def _css_string(value: object) -> markupsafe.Markup:
    """A CSS string literal for @page margin boxes (the SUT's name in the page
    header): quotes, backslashes and '<' escaped, so no value can end the
    string or the <style> element."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    out = "".join(c if c.isalnum() or c in " .,:;-_()@/+=#&'" else f"\\{ord(c):x} "
                  for c in text)
    return markupsafe.Markup(f'"{out}"')


def _env(markdown: bool = False) -> jinja2.Environment:
    loader = jinja2.PackageLoader("rtconform.report", "templates")
    if markdown:  # every value escaped for Markdown (markdown.escape)
        env = md.environment(loader=loader, trim_blocks=True, lstrip_blocks=True)
    else:
        # report.html.j2: the extension that decides is "html.j2" (values from DICOM
        # objects and SUT files must never become markup)
        env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(
            ["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["nonempty"] = _nonempty
    env.filters["datauri"] = lambda png: "data:image/png;base64," + base64.b64encode(
        png).decode("ascii")
    env.filters["yesno"] = lambda v: "yes" if v else ""
    env.filters["css_string"] = _css_string
    return env


def render(run_dir: Path, formats: tuple[str, ...] = DEFAULT_FORMATS, redact: bool = False,
           with_pictures: bool = True, paper: str = "a4", site: str = "",
           operator: str = "") -> dict[str, Path]:
    """Write the report in each of `formats` into the run folder. `paper`
    (a4, letter) is the PDF's page size; `site` and `operator` go into the
    header."""
    import tempfile

    if paper not in PAPERS:
        raise ValueError(f"paper {paper!r}: one of {', '.join(PAPERS)}")
    run_dir = Path(run_dir)
    data, received, redactor = report_model.build(run_dir, redact, site, operator)
    sets = pictures(run_dir, received, redactor, data["unreadable"]) if with_pictures else []
    # each plan's beams as detected, with their beam's-eye views (the tppc profile's)
    plans = [plan for section in report_sections()
             for plan in section.plan_reports(received, redactor, pictures=with_pictures)]
    data["plans"] = [{k: v for k, v in plan.items() if k != "views"} for plan in plans]
    written = {}
    env = _env()
    template = env.get_template("report.html.j2")

    def html_text(pages: dict | None) -> str:
        return template.render(r=data, pictures=sets, plans=plans, paper=PAPERS[paper],
                               pages=pages)

    if "json" in formats:
        path = RunFolder(run_dir).report("json")
        path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        written["json"] = path
    if "html" in formats:
        path = RunFolder(run_dir).report("html")
        path.write_text(html_text(None), encoding="utf-8")
        written["html"] = path
    if "md" in formats:
        folder = run_dir / "report_files"
        folder.mkdir(exist_ok=True)
        for i, entry in enumerate(sets):
            for j, picture in enumerate(entry["slices"]):
                picture["file"] = f"report_files/set{i}_slice{j}.png"
                (run_dir / picture["file"]).write_bytes(picture["png"])
            if "dvh" in entry:
                entry["dvh_file"] = f"report_files/set{i}_dvh.png"
                (run_dir / entry["dvh_file"]).write_bytes(entry["dvh"])
        for i, plan in enumerate(plans):
            for j, view in enumerate(plan["views"]):
                view["file"] = f"report_files/plan{i}_beam{j}.png"
                (run_dir / view["file"]).write_bytes(view["png"])
        path = RunFolder(run_dir).report("md")
        path.write_text(_env(markdown=True).get_template("report.md.j2").render(
            r=data, pictures=sets, plans=plans),
                        encoding="utf-8")
        written["md"] = path
    if "pdf" in formats:
        with tempfile.TemporaryDirectory(prefix="rtconform-print-") as tmp:
            printed = Path(tmp) / "report.html"

            def for_print(pages: dict) -> Path:
                printed.write_text(html_text(pages), encoding="utf-8")
                return printed

            written["pdf"] = print_report(for_print, RunFolder(run_dir).report("pdf"))
    return written

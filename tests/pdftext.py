"""The text of a report's PDF as poppler's pdftotext reads it, and whether a
value of the JSON report is printed in it (tests of the printed report)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from helpers import require_program


def pdf_text(pdf: Path, page: int | None = None, layout: bool = False) -> str:
    pdftotext = require_program("pdftotext", "poppler-utils")
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run([pdftotext, *pages, *(["-layout"] if layout else []), str(pdf), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def squeezed(text: str) -> str:
    """Text with every white space removed: a table cell wraps its lines."""
    return "".join(text.split())


def pdf_pages(pdf: Path) -> list[str]:
    import pypdf

    return [pdf_text(pdf, n + 1) for n in range(len(pypdf.PdfReader(str(pdf)).pages))]


MARGINS = re.compile(r"^(DICOM conformance report: .*|rtconform \S+ · run .*|page \d+ of \d+)$")


def body(pages: list[str]) -> str:
    """The pages' text without their running header and footer, as one text
    (what a page break cut, joined again)."""
    return "\n".join(line for page in pages for line in page.splitlines()
                     if not MARGINS.match(line.strip()))


# Values of the JSON the PDF shows in another form (a UID by its name, a time formatted)
NOT_PRINTED_AS_IS = {"accepted_uids", "abstract_syntaxes", "started", "run", "tool",
                     "abstract_syntax", "redaction"}


def printed(value: str, text: str) -> bool:
    """In the PDF's text as it is; or, for a table cell that wrapped beside
    other wrapping cells (their lines interleave in the extracted text),
    every word of it."""
    value = value.lower()
    return squeezed(value) in text or all(
        word in text for word in re.split(r"[\s,;]+", value) if len(word) > 3)


def strings(value, key: str = ""):
    if key in NOT_PRINTED_AS_IS:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)
    elif isinstance(value, str) and len(value) > 2:
        yield value

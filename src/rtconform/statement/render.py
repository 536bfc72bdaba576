"""The comparison as JSON, Markdown and a self-contained HTML page."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jinja2

from rtconform.report import markdown


def _template() -> str:
    return resources.files("rtconform.statement").joinpath("compare.md.j2").read_text()


def write_comparison(result: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = markdown.environment().from_string(_template()).render(r=result)
    html_body = jinja2.Environment(autoescape=True).from_string(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>compare</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{white-space:pre-wrap}</style></head>"
        "<body><pre>{{ md }}</pre></body></html>").render(md=md)
    paths = [out / "compare.json", out / "compare.md", out / "compare.html"]
    paths[0].write_text(json.dumps(result, indent=2), encoding="utf-8")
    paths[1].write_text(md, encoding="utf-8")
    paths[2].write_text(html_body, encoding="utf-8")
    return paths

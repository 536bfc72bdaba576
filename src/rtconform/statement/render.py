"""The comparison as JSON, Markdown and a self-contained HTML page."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jinja2

from rtconform.report import markdown


def _template(name: str = "compare.md.j2") -> str:
    return resources.files("rtconform.statement").joinpath(name).read_text(encoding="utf-8")


def write_comparison(result: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = markdown.environment().from_string(_template()).render(r=result)
    html_body = jinja2.Environment(autoescape=True, trim_blocks=True).from_string(
        _template("compare.html.j2")).render(r=result)
    paths = [out / "compare.json", out / "compare.md", out / "compare.html"]
    paths[0].write_text(json.dumps(result, indent=2), encoding="utf-8")
    paths[1].write_text(md, encoding="utf-8")
    paths[2].write_text(html_body, encoding="utf-8")
    return paths

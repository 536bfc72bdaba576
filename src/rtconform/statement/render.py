"""The comparison as JSON, Markdown and a self-contained HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

TEMPLATE = """{% macro rows(items, keys) %}{% for i in items %}| {% for k in keys %}{{ i[k] if i[k] is string else (i[k] | join(', ')) }} | {% endfor %}
{% endfor %}{% endmacro %}# {{ r.a }} and {{ r.b }}

## Flows
| SOP class | direction | status | common transfer syntaxes | sources |
|---|---|---|---|---|
{{ rows(r.flows, ['name', 'direction', 'status', 'common_transfer_syntaxes', 'sources']) }}
## Character sets
{{ r.a }}: {{ r.character_sets.a | join(', ') }}; {{ r.b }}: {{ r.character_sets.b | join(', ') }}; compatible: {{ r.character_sets.compatible }}

## {{ r.b }} import constraints against {{ r.a }} export claims
| IOD | attribute | constraint | source | claim | verdict |
|---|---|---|---|---|---|
{{ rows(r.import_constraints, ['iod', 'attribute', 'constraint', 'source', 'claim', 'verdict']) }}
{% if r.files %}
## Files in {{ r.files }} against {{ r.b }} import constraints
| constraint | file | attribute | finding | source |
|---|---|---|---|---|
{% for f in r.file_findings %}| {{ f.rule_id }} | {{ f.file }} | {{ f.tag_path }} | {{ f.message }} | {{ f.source }} |
{% endfor %}{% endif %}
"""


def write_comparison(result: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = jinja2.Environment(autoescape=False).from_string(TEMPLATE).render(r=result)
    html_body = jinja2.Environment(autoescape=True).from_string(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>compare</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{white-space:pre-wrap}</style></head>"
        "<body><pre>{{ md }}</pre></body></html>").render(md=md)
    paths = [out / "compare.json", out / "compare.md", out / "compare.html"]
    paths[0].write_text(json.dumps(result, indent=2), encoding="utf-8")
    paths[1].write_text(md, encoding="utf-8")
    paths[2].write_text(html_body, encoding="utf-8")
    return paths

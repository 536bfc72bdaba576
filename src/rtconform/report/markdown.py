"""Markdown that data cannot break out of: every value a template prints is
escaped, so a PatientName `<script>`, an ROI called `a | b` or a SUT named
`[x](javascript:…)` is text in the rendered page, never markup, a link or an
extra table column."""

from __future__ import annotations

import re

import jinja2
import markupsafe

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_INLINE = re.compile(r"([\\`*_\[\]|#!~])")


def escape(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, jinja2.runtime.Undefined | markupsafe.Markup):
        return str(value)  # Markup: a macro's own Markdown, marked |safe in the template
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = "".join(_HTML.get(c, c) for c in text)
    return _INLINE.sub(r"\\\1", text)


def code_block(value: object) -> markupsafe.Markup:
    """A text shown verbatim (a failure's evidence) as an indented code block:
    every line indented, so no line of it can end the block or become markup."""
    lines = str(value or "").replace("\r", "").split("\n")
    return markupsafe.Markup("\n".join("    " + line for line in lines))


def environment(**kwargs) -> jinja2.Environment:
    """A Jinja environment for Markdown: every {{ value }} goes through escape()."""
    env = jinja2.Environment(finalize=escape, autoescape=False, **kwargs)
    env.filters["code_block"] = code_block
    return env

"""Markdown that data cannot break out of (`rtconform.report.markdown`): a
value from a DICOM object or a SUT file is text in the Markdown report and
the statement comparison, never markup, a link, an HTML tag, a new line or
an extra table column; evidence is a code block no line of which can end it.
tests/cli/test_injection.py checks the rendered outputs end to end."""

from __future__ import annotations

import markupsafe

from rtconform.report.markdown import code_block, environment, escape


def test_values_are_escaped_to_text() -> None:
    assert escape("a | b") == "a \\| b"  # no extra table column
    assert escape("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape("line\nnext\r# heading") == "line next \\# heading"
    assert escape("*bold* _it_ `code` ~del~ !img \\") == (
        "\\*bold\\* \\_it\\_ \\`code\\` \\~del\\~ \\!img \\\\")
    assert escape(None) == "" and escape(3) == "3"


def test_the_template_escapes_every_value_but_its_own_markup() -> None:
    env = environment()
    template = env.from_string("| {{ name }} | {{ count }} |\n{{ evidence | code_block }}")
    out = template.render(name="PTV | [x](http://e)", count=2,
                          evidence="```\nstill code\n<b>not bold</b>")
    assert out.splitlines() == ["| PTV \\| \\[x\\](http://e) | 2 |", "    ```",
                                "    still code", "    <b>not bold</b>"]
    assert env.from_string("{{ missing }}").render() == ""


def test_a_code_block_indents_every_line() -> None:
    block = code_block("a\r\nb\n\nc")
    assert isinstance(block, markupsafe.Markup)
    assert str(block) == "    a\n    b\n    \n    c"
    assert str(code_block(None)) == "    "

"""What rtconform prints is partly data from files and peers: the console
shows control characters and markup as text (`rtconform.console`), XML
outputs carry no character XML 1.0 forbids (`rtconform.xmltext`), and every
command's help has the same examples block (`rtconform.usage`)."""

from __future__ import annotations

import argparse
import io
import xml.etree.ElementTree as ElementTree

from rtconform.console import data, make_console, printable
from rtconform.usage import (
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    examples,
    formatter,
)
from rtconform.xmltext import NOTE, xml_text

TITLE_SEQUENCE = "x\x1b]0;pwned\x07.dcm"  # would retitle a terminal
TROJAN = "PTV\u202eLTG"  # a right-to-left override reorders what a reader sees


def test_printable_shows_control_characters_and_keeps_layout() -> None:
    assert printable(TITLE_SEQUENCE) == "x\\x1b]0;pwned\\x07.dcm"
    assert printable(TROJAN) == "PTV\\u202eLTG"
    assert printable("a\tb\nc\x7f\x9b") == "a\tb\nc\\x7f\\x9b"  # DEL and C1 CSI escaped
    assert printable("Müller^Jörg 患者") == "Müller^Jörg 患者"  # text is not damaged
    assert printable(12) == "12"


def test_data_is_one_line_with_markup_escaped() -> None:
    assert data("[bold]PTV[/bold]\nline") == "\\[bold]PTV\\[/bold]\\nline"
    assert data("a\tb") == "a\\tb"


def test_the_console_renders_no_escape_sequence_and_no_emoji() -> None:
    out = io.StringIO()
    console = make_console(file=out, force_terminal=False, width=200)
    console.print(f"file {TITLE_SEQUENCE} patient :x: {TROJAN}")
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b]0;pwned\\x07.dcm" in text and ":x:" in text and "\\u202e" in text


def test_the_console_table_cells_are_escaped_too() -> None:
    from rich.table import Table

    out = io.StringIO()
    table = Table("ROI")
    table.add_row("PTV\x1b[2J")  # would clear the screen
    make_console(file=out, force_terminal=False, width=80).print(table)
    assert "\x1b" not in out.getvalue() and "\\x1b[2J" in out.getvalue()


def test_xml_text_escapes_what_xml_forbids_and_says_so() -> None:
    assert xml_text("PTV\x07 \x00") == "PTV\\x07 \\x00" + NOTE
    assert xml_text("PTV\x07", note=False) == "PTV\\x07"
    assert xml_text("tab\tnewline\nok é \U0001f600") == "tab\tnewline\nok é \U0001f600"
    assert xml_text("\ufffe") == "\\ufffe" + NOTE  # a non-character, forbidden too


def test_xml_text_makes_a_parsable_document() -> None:
    value = "ROI \x01\x1b[31m\x0b end"
    root = ElementTree.Element("testcase", name=xml_text(value))
    parsed = ElementTree.fromstring(ElementTree.tostring(root))
    assert parsed.get("name").startswith("ROI \\x01\\x1b[31m\\x0b end")


def test_exit_codes_are_distinct_and_help_shows_examples_verbatim() -> None:
    assert [EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL] == [0, 1, 2, 3]
    parser = argparse.ArgumentParser(
        prog="rtconform thing", formatter_class=formatter,
        epilog=examples("rtconform thing a/ --flag", "rtconform thing b/"))
    parser.add_argument("--flag", action="store_true", help="a flag")
    text = parser.format_help()
    # RawDescription: the example lines are kept as written, one per line, indented
    assert "examples:\n  rtconform thing a/ --flag\n  rtconform thing b/" in text

"""What rtconform prints to a terminal is partly the data it judges: file
names, Patient Names, ROI labels, a peer's AE title. That text is shown, never
obeyed: a file named `x\\x1b]0;pwned\\x07.dcm` must not retitle the terminal,
`\\x1b[2J` must not clear it, and `:x:` in a Patient Name must not become an
emoji the file does not hold.

`printable` shows every control character (C0, DEL, C1, and the bidirectional
overrides that reorder what a reader sees) as its Python escape; `data` also
escapes rich markup, for a value placed inside a marked-up line. Every console
rtconform prints with comes from `make_console`: emoji off, no highlighting,
and each string it renders (table cells included) passed through `printable`
first, so a printer that forgets `data` still prints no escape sequence.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape
from rich.text import Text

# C0 except tab and newline (our own layout), DEL, C1, and the Unicode
# bidirectional embeddings, overrides and isolates (a "Trojan Source" name)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_LAYOUT = re.compile(f"{_CONTROL.pattern}|[\t\n]")


def _escaped(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: object) -> str:
    """`text` with control characters shown as escapes; tabs and newlines kept."""
    return _CONTROL.sub(_escaped, str(text))


def data(text: object) -> str:
    """A value from a file or a peer, for a marked-up console line: one line,
    control characters as escapes, rich markup escaped."""
    return escape(_CONTROL_OR_LAYOUT.sub(_escaped, str(text)))


class SafeConsole(Console):
    """A rich Console that renders no control character it was given."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("emoji", False)
        kwargs.setdefault("highlight", False)
        super().__init__(*args, **kwargs)

    def render_str(self, text: str, **kwargs) -> Text:
        return super().render_str(printable(text), **kwargs)


def make_console(**kwargs) -> SafeConsole:
    """The console every rtconform printer uses."""
    return SafeConsole(**kwargs)

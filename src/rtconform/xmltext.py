"""Text for XML outputs (JUnit, anything a CI server parses). XML 1.0 forbids
most control characters even as character references, so a value carrying one
(an ROI Name `PTV\\x07`, a file name with an escape sequence) makes the whole
document unreadable to every parser. Each forbidden character is replaced by
its visible escape (`\\x07`) and the replacement said once in the text, so the
reader knows the value was not printed verbatim."""

from __future__ import annotations

import re

# XML 1.0 (2.2 Characters): Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]; everything else is forbidden.
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOTE = " [characters XML 1.0 forbids are shown as escapes]"


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: object, note: bool = True) -> str:
    """`text` with the characters XML 1.0 forbids replaced by escapes, and
    (when `note`) a short note appended if any was."""
    value = str(text)
    cleaned, count = _FORBIDDEN.subn(_escaped, value)
    return cleaned + (NOTE if count and note else "")

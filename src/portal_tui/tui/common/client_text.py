"""Client text is data, never instructions to the terminal. What clients type (names,
messages, form answers, filenames) arrives through sync and is shown on many screens; a name
holding ESC [ 2 J must not clear the staff member's screen, nor OSC 52 write their clipboard.

Two layers:
- `inert(text)` is what every widget shows of client text: control and escape characters
  (C0, C1, ESC, DEL) as visible placeholders (the Unicode Control Pictures, U+2400...), bidi
  overrides and isolates as U+FFFD, lone surrogates as U+FFFD, and very long lines cut for
  display. It is never markup (widgets get a rich Text). The stored text keeps every character.
- `InertFilter`, a line filter on the whole app, drops whatever such character is left in any
  line drawn, from anywhere: the terminal never receives one. They have no width on screen,
  so dropping them changes no layout.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter

# Long enough for any real line of a message or a form answer; a client's 100,000-character
# line is cut for display only (keystroke to screen <= 100 ms).
MAX_LINE = 2_000
CUT = "…"

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# What must never reach the terminal: C0 but tab and newline, DEL, C1, bidi controls, and
# lone surrogates (which cannot even be encoded).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff]")
_ANY_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff]")


def _placeholder(found: re.Match[str]) -> str:
    char = found[0]
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ␁ … ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def inert(value: object, *, multiline: bool = False) -> str:
    """What is shown of client text `value`: see the module's note. One line unless
    `multiline` (then newlines stay, and each line is cut on its own; else they are spaces);
    tabs become spaces."""
    text = "" if value is None else str(value)
    text = text.replace("\t", " ")
    if not multiline:  # a one-line view (a list's cell): the lines run on
        text = text.replace("\r\n", " ").replace("\n", " ")
    shown = _UNSAFE.sub(_placeholder, text)
    if len(shown) > MAX_LINE:
        shown = "\n".join(
            line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + CUT
            for line in shown.split("\n")
        )
    return shown


def inert_text(value: object, *, style: str = "", multiline: bool = False) -> Text:
    """Client text as a rich Text: shown inert, and never parsed as markup."""
    return Text(inert(value, multiline=multiline), style=style)


class InertFilter(LineFilter):
    """Drops every control, escape and bidi character from what is drawn."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(_ANY_UNSAFE.search(text) for text, _, control in segments if control is None):
            return segments
        return [
            Segment(text if control is not None else _ANY_UNSAFE.sub("", text), style, control)
            for text, style, control in segments
        ]

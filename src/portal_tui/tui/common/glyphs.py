"""The few symbols the app draws, in Unicode and in plain ASCII for terminals that cannot show
more (`--ascii`, or automatically when the locale is not UTF-8).

In ASCII mode the app also passes everything it draws through `AsciiFilter`, so that nothing
non-ASCII reaches the terminal: not Textual's own borders, scrollbars and footer, and not client
data either ("Jörg – Müller" shows as "Jorg - Muller").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import get_character_cell_size
from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter

from portal_tui.domain.records import Share
from portal_tui.domain.states import ShareState


@dataclass(frozen=True, slots=True)
class Glyphs:
    shared: str
    pending: str
    failed: str
    portal: str
    marked: str
    ascii_only: bool = False

    def share(self, share: Share) -> Text:
        """The far-left icon of a row (S0): shared, pending delivery, failed, or blank. Each has
        its own shape, so the column reads the same without colour (NO_COLOR)."""
        if share.state is ShareState.FAILED:
            return Text(self.failed, style="bold red")
        if share.state is ShareState.PENDING:
            return Text(self.pending, style="yellow")
        if share.wanted and share.state is ShareState.SHARED:
            return Text(self.shared, style="bold green")
        return Text(" ")

    def share_words(self, share: Share) -> str:
        """The same, in words, for the status line and screen readers."""
        if share.state is ShareState.FAILED:
            return f"Delivery failed: {share.error or 'unknown reason'}"
        if share.state is ShareState.PENDING:
            return "Sharing: waiting for delivery" if share.wanted else "Unsharing: waiting"
        return "Shared via Client Portal" if share.wanted else "Not shared"


UNICODE = Glyphs(shared="●", pending="◌", failed="✗", portal="◆", marked="▸")
ASCII = Glyphs(shared="S", pending="~", failed="!", portal="P", marked=">", ascii_only=True)


# ASCII only ---------------------------------------------------------------------------------

# What Textual and the app draw, and common punctuation in client data; anything else falls to
# its decomposition ("é" -> "e"), a box-drawing rule, or "?".
_SYMBOLS = {
    # A cut-off cell, one cell wide as the ellipsis was; "$" as Emacs marks a truncated line,
    # and unlike every ASCII icon (S ~ ! P >), so a cut name never reads as "waiting".
    "…": "$",
    "—": "-",
    "–": "-",
    "―": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": "<",
    "»": ">",
    "•": "*",
    "·": ".",
    "●": "*",
    "◆": "*",
    "◌": "o",
    "○": "o",
    "⭘": "o",
    "◉": "*",
    "✗": "x",
    "✘": "x",
    "×": "x",
    "✓": "v",
    "✔": "v",
    "▸": ">",
    "▶": ">",
    "►": ">",
    "◂": "<",
    "◀": "<",
    "◄": "<",
    "▲": "^",
    "▴": "^",
    "▼": "v",
    "▾": "v",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "⏎": "J",
    "█": "#",
    "▓": "#",
    "▒": "#",
    "░": ".",
    "\u00a0": " ",
}


@lru_cache(maxsize=4096)
def ascii_char(char: str) -> str:
    """One character as ASCII of the same width in cells (0, 1 or 2)."""
    if char.isascii():
        return char
    width = get_character_cell_size(char)
    if width == 0 or unicodedata.combining(char):
        return ""
    plain = _SYMBOLS.get(char)
    if plain is None:
        plain = _box_or_block(char)
    if plain is None:
        bare = unicodedata.normalize("NFKD", char)
        plain = "".join(c for c in bare if c.isascii() and c.isprintable())[:width] or "?"
    return plain.ljust(width)[:width]


def _box_or_block(char: str) -> str | None:
    code = ord(char)
    if 0x2580 <= code <= 0x259F:  # block elements: scrollbar ends, button edges, half blocks
        return " "
    if not 0x2500 <= code <= 0x257F:  # box drawing: borders and rules
        return None
    name = unicodedata.name(char, "")
    across = "HORIZONTAL" in name or name.endswith((" LEFT", " RIGHT"))
    down = "VERTICAL" in name or name.endswith((" UP", " DOWN"))
    if "DIAGONAL" in name:
        return "X" if "CROSS" in name else ("/" if "UPPER RIGHT" in name else "\\")
    if " AND " in name or "ARC" in name or (across and down):
        return "+"
    if across:
        return "-"
    if down:
        return "|"
    return "+"


def to_ascii(text: str) -> str:
    """Text as ASCII with the same width in cells: what an ASCII-only terminal can show."""
    if text.isascii():
        return text
    return "".join(ascii_char(char) for char in text)


class AsciiFilter(LineFilter):
    """A Textual line filter that leaves only ASCII in what is drawn, cell for cell."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(text.isascii() for text, _, _ in segments):
            return segments
        return [
            Segment(text if text.isascii() else to_ascii(text), style, control)
            for text, style, control in segments
        ]

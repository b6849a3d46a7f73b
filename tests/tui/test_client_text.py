"""Client text is inert: what a client typed is shown with its control and escape characters
made visible, bidi overrides neutralised, markup literal and very long lines cut — for display
only; the stored text keeps every character. (The bytes the app writes to a real terminal are
checked in tests/test_terminal.py.)"""

from __future__ import annotations

from rich.segment import ControlType, Segment
from rich.text import Text
from textual.color import Color

from portal_tui.tui.common.client_text import MAX_LINE, InertFilter, inert, inert_text

NASTY = {
    "CSI 2J (clear screen)": ("a\x1b[2Jb", "a\u241b[2Jb"),
    "OSC 0 (window title)": ("\x1b]0;PWNED\x07", "\u241b]0;PWNED\u2407"),
    "OSC 52 (clipboard)": ("\x1b]52;c;ZXZpbA==\x07", "\u241b]52;c;ZXZpbA==\u2407"),
    "OSC 8 (hyperlink)": ("\x1b]8;;http://evil\x1b\\x", "\u241b]8;;http://evil\u241b\\x"),
    "SGR colour": ("\x1b[31mRED\x1b[0m", "\u241b[31mRED\u241b[0m"),
    "NUL": ("a\x00b", "a\u2400b"),
    "DEL": ("a\x7fb", "a\u2421b"),
    "C1 CSI": ("a\x9b2Jb", "a\ufffd2Jb"),
    "right-to-left override": ("\u202egnp.exe", "\ufffdgnp.exe"),
    "isolate": ("a\u2066b\u2069", "a\ufffdb\ufffd"),
    "lone surrogate": ("a\ud800b", "a\ufffdb"),
    "tab": ("a\tb", "a b"),
}


def test_every_control_escape_and_bidi_character_is_shown_not_obeyed() -> None:
    for what, (raw, shown) in NASTY.items():
        assert inert(raw) == shown, what


def test_markup_stays_literal() -> None:
    for raw in ("[bold]x[/bold]", "[@click=app.quit]Click[/]", "[link=http://evil]x[/link]", "[/]"):
        text = inert_text(raw)
        assert text.plain == raw and not text.spans


def test_lines_are_one_unless_asked_and_long_ones_are_cut_for_display() -> None:
    assert inert("one\ntwo\r\nthree") == "one two three"
    assert inert("one\ntwo", multiline=True) == "one\ntwo"
    assert inert("a\rb", multiline=True) == "a\u240db"
    long = "x" * 100_000
    shown = inert(f"short\n{long}", multiline=True)
    first, second = shown.split("\n")
    assert first == "short" and len(second) == MAX_LINE and second.endswith("…")
    assert len(long) == 100_000  # the text itself is untouched


def test_the_apps_line_filter_drops_what_would_reach_the_terminal() -> None:
    segments = [
        Segment("ok "),
        Segment("\x1b]52;c;x\x07\u202e"),
        Segment("", None, [(ControlType.HOME,)]),
    ]
    out = InertFilter().apply(segments, Color(0, 0, 0))
    assert [s.text for s in out] == ["ok ", "]52;c;x", ""]  # control segments are Textual's
    untouched = [Segment("plain"), Segment(" text")]
    assert InertFilter().apply(untouched, Color(0, 0, 0)) is untouched
    assert isinstance(inert_text("x"), Text)

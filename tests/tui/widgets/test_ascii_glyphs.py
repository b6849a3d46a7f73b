"""ASCII mode (DESIGN.md: plain terminals): a cell cut short must never read as a share icon —
"~" is "waiting for delivery", so a name cut to fit cannot end in it."""

from __future__ import annotations

from dataclasses import astuple

from rich.text import Text

from portal_tui.tui.common.glyphs import ASCII, to_ascii


def test_the_ascii_truncation_mark_is_none_of_the_icons() -> None:
    icons = {value for value in astuple(ASCII) if isinstance(value, str)}
    cut = to_ascii("…")
    assert len(cut) == 1 and cut.isascii()
    assert cut not in icons


def test_a_cut_client_name_in_ascii_ends_in_the_mark_not_a_tilde() -> None:
    cell = Text("Okafor v. Castle Insurance Co.", no_wrap=True, overflow="ellipsis")
    cell.truncate(12, overflow="ellipsis")
    shown = to_ascii(cell.plain)
    assert shown == "Okafor v. C$"

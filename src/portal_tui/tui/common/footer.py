"""The footer every screen shows, in one place: its keys must fit an 80-column terminal, so
labels stay short and anything beyond the main keys is left to `?`."""

from __future__ import annotations

from textual.widgets import Footer


def footer() -> Footer:
    return Footer()

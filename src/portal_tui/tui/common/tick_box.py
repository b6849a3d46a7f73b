"""A checkbox that shows its state by shape as well as colour: "X" when checked, blank when
not (Textual's own draws the same "X" in another colour, which NO_COLOR loses), and square
brackets instead of half blocks in ASCII mode."""

from __future__ import annotations

from textual.widgets import Checkbox


class TickBox(Checkbox):
    def on_mount(self) -> None:
        glyphs = getattr(self.app, "glyphs", None)
        if glyphs is not None and glyphs.ascii_only:
            self.BUTTON_LEFT, self.BUTTON_RIGHT = "[", "]"
        self._show_mark()

    def watch_value(self) -> None:
        super().watch_value()  # the -on class and the Changed message
        self._show_mark()

    def _show_mark(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        self.refresh()

"""`?`: every key of the app, in one place (the README lists the same)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("1 / 2 / 3", "Go to Matters, Activities, Setup"),
    ("Up/Down, j/k", "Move in a list"),
    ("Enter", "Open (a matter; an item's editor or its actions)"),
    ("Esc", "Go back; close a box; clear the filter"),
    ("/", "Filter the list as you type"),
    ("Space", "Mark rows for bulk actions"),
    ("a", "The Action menu of the selected row"),
    ("s", "Share or unshare the selected item"),
    ("n", "Add an event, task or note"),
    ("e", "Edit the selected event, task or note"),
    ("Ctrl+S", "Save an Add or Edit screen"),
    ("y / n", "Answer Yes or No in a question"),
    ("Ctrl+P", "Command palette"),
    ("?", "This list of keys"),
    ("q", "Quit"),
)


class KeysScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, meaning in KEYS:
            table.add_row(key, meaning)
        with Vertical(classes="dialog keys"):
            yield Label("Keys", classes="dialog-title")
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

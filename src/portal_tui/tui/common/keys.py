"""`?`: every key of the app, in one place (the README lists the same)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("1 / 2 / 3", "Go to Matters, Activities, Setup"),
    ("Up/Down, j/k", "Move in a list"),
    ("Enter", "Open; on an intake form, its submissions"),
    ("Esc", "Go back; close a box; clear the filter"),
    ("/", "Filter the list as you type"),
    ("Space", "Mark rows for bulk share; switch a box or party"),
    ("a", "The Action menu of the selected row or contact"),
    ("s", "Share or unshare the selected or marked items"),
    ("h", "Share history of the selected item"),
    ("n", "Add an item or intake form; write a message"),
    ("e", "Edit the selected item or intake form"),
    ("p", "Preview as client (a matter's Client Portal)"),
    ("Ctrl+S", "Save an Add or Edit screen; send a message"),
    ("K / J", "Move a form field up or down"),
    ("x", "Remove a form field"),
    ("y / n", "Answer Yes or No in a question"),
    ("Ctrl+P", "Command palette"),
    ("?", "This list of keys"),
    ("q", "Quit (not in a form or a dialog: there q is typed)"),
    ("Ctrl+Q", "Quit from anywhere; asks first about unsaved or undelivered changes"),
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
        # It scrolls (arrows, PageDown) where 24 lines are too few for every key.
        with VerticalScroll(classes="dialog keys"):
            yield Label("Keys", classes="dialog-title")
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

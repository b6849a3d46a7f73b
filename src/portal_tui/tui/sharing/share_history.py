"""Share history (`h`, or Action > Share history): one item's life in the client portal, oldest
first — who shared and unshared it, its delivery, the clients' email, the client's first view
and download — with times in local time, as every list shows them."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from portal_tui.domain import texts
from portal_tui.domain.decision import NotFound
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import ShareHistory

from ..common.client_text import inert
from ..common.columns import day
from ..common.context import StaffAware

# The attribute that names an item in its list, by preference.
_NAMES = ("number", "title", "subject", "name")


def item_label(kind: ItemKind, row: Any) -> str:
    """How a row is called in a message: its number, title, subject or name."""
    for attr in _NAMES:
        value = getattr(row, attr, None)
        if isinstance(value, str) and value.strip():
            return value
    return f"{kind.label} {row.id}"


def history_table(history: ShareHistory) -> Table:
    """When, what, by whom; a detail (recipients, a failure's reason) under what it explains.
    Every cell is a Text: names and reasons are shown inert, never read as markup."""
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column(Text("When"), no_wrap=True, style="bold", width=16)
    table.add_column(Text("What"), ratio=3)
    table.add_column(Text("By"), ratio=1, min_width=14)
    for entry in history.entries:
        what = Text(inert(entry.what))
        if entry.detail:  # recipients' names and addresses, a portal's reason
            what.append("\n")
            what.append(inert(entry.detail, multiline=True), style="italic")
        table.add_row(Text(day(entry.at)), what, Text(inert(entry.who or "")))
    return table


class ShareHistoryScreen(ModalScreen[None], StaffAware):
    """A message box with the history of one item; Esc, Enter or OK closes it."""

    DEFAULT_CSS = """
    ShareHistoryScreen #history-body {
        height: auto;
        max-height: 24;
        scrollbar-size-vertical: 1;
    }
    ShareHistoryScreen #history-now {
        color: $text-muted;
        padding: 0 0 1 0;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close",
            show=False,
            id="history.close",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "enter",
            "close",
            "Close",
            show=False,
            id="history.ok",
            tooltip="Close a notice, a summary or the share history",
        ),
    ]

    def __init__(self, kind: ItemKind, row: Any) -> None:
        super().__init__()
        self.kind = kind
        self.row = row
        self.history: ShareHistory | None = None
        self.loaded = asyncio.Event()

    def compose(self) -> ComposeResult:
        title = Text(f"{texts.SHARE_HISTORY}: ")
        title.append(inert(item_label(self.kind, self.row)))  # a client's file name, say
        with Vertical(classes="dialog history"):
            yield Label(title, classes="dialog-title")
            yield Static(Text(""), id="history-now")
            with VerticalScroll(id="history-body"):
                yield Static(Text("Reading the history..."), id="history", classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()
        self._load()

    @work(group="history", exclusive=True)
    async def _load(self) -> None:
        repo = self.staff.repo
        body = self.query_one("#history", Static)
        try:
            history = await asyncio.to_thread(repo.share_history, self.kind, self.row.id)
        except NotFound as gone:
            body.update(Text(str(gone)))
            self.loaded.set()
            return
        self.history = history
        now = self.query_one("#history-now", Static)
        now.update(Text(f"Now: {self.staff.glyphs.share_words(history.share)}"))
        if history.ever_shared:
            body.update(history_table(history))
        else:
            body.update(Text(texts.HISTORY_NEVER_SHARED.format(label=self.kind.label)))
        self.loaded.set()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

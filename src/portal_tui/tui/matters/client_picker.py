"""Choosing a matter's client: the firm's clients by name, filtered as you type and read a
window at a time (a firm may have thousands), Enter to choose; "New client…" (Ctrl+N) adds
one with what was typed as its name, and chooses it."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from portal_tui.domain.records import ClientRow, Key, Page

from ..common.columns import CLIENT_COLUMNS
from ..common.context import StaffAware
from ..common.item_table import ItemTable

TITLE = "Choose the client"
NEW_CLIENT = "New client..."


class ClientPicker(ModalScreen[ClientRow | None], StaffAware):
    """Dismisses with the client chosen (or added), or None (Esc, Cancel)."""

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close",
            show=False,
            id="picker.close",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "ctrl+n",
            "new_client",
            "New client",
            id="picker.new-client",
            tooltip="Add a client while choosing one for a matter",
        ),
        Binding(
            "down",
            "into_list",
            "List",
            show=False,
            id="picker.into-list",
            tooltip="Move in a list",
        ),
    ]

    DEFAULT_CSS = """
    ClientPicker > .dialog {
        width: 90%;
        max-width: 100;
        height: 80%;
    }
    ClientPicker #picker-filter {
        margin-bottom: 1;
    }
    ClientPicker ItemTable {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._filter = ""

    @property
    def table(self) -> ItemTable[ClientRow]:
        return self.query_one(ItemTable)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(TITLE), classes="dialog-title")
            yield Input(
                placeholder="Type to filter by name, email or phone; Enter or Down: the list",
                id="picker-filter",
                compact=True,
            )
            yield ItemTable(CLIENT_COLUMNS[:3], self._fetch, self.staff.glyphs, shares=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(NEW_CLIENT, id="new-client")

    def on_mount(self) -> None:
        self.query_one("#picker-filter", Input).focus()

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[ClientRow]:
        return self.staff.repo.list_clients(self._filter, after=after, before=before, limit=limit)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "into_list":  # Down is the list's own once it has the focus
            return self.query_one("#picker-filter", Input).has_focus
        return True

    def action_into_list(self) -> None:
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value
        self.table.reload_soon()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        event.stop()
        self.dismiss(event.row)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "new-client":
            self.action_new_client()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_new_client(self) -> None:
        self._new_client()

    @work(group="picker-new", exclusive=True)
    async def _new_client(self) -> None:
        from ..setup.client_form import ClientForm

        typed = self.query_one("#picker-filter", Input).value.strip()
        added: ClientRow | None = await self.app.push_screen_wait(ClientForm(name=typed))
        if added is not None:
            self.dismiss(added)

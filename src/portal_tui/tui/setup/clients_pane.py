"""Setup > Clients: the firm's clients by name, read a window at a time (a firm may have
thousands), `/` to filter by name, email or phone; for Admin and Normal staff (R1) `a` adds a
client and Enter (or `e`) edits the highlighted one. Other roles see the list without its keys
(not in the footer, and pressing one does nothing) and a line saying why."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from portal_tui.domain import rules
from portal_tui.domain.records import ClientRow, Key, Page

from ..common.client_text import inert
from ..common.columns import CLIENT_COLUMNS
from ..common.context import StaffAware
from ..common.item_table import ItemTable

TITLE = "Clients"


class ClientsPane(Vertical, StaffAware):
    BINDINGS = [
        Binding(
            "a", "add", "Add", id="clients.add", tooltip="Add a staff user or a client (Setup)"
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            id="clients.edit",
            tooltip="Edit the selected item, matter, client, contact or intake form",
        ),
        Binding(
            "slash", "filter", "Filter", id="list.filter", tooltip="Filter the list as you type"
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="list.clear-filter",
            tooltip="Go back; close a box; clear the filter",
        ),
    ]

    DEFAULT_CSS = """
    ClientsPane {
        height: 1fr;
    }
    ClientsPane > #clients-role {
        padding: 0 1;
        color: $text-warning;
    }
    ClientsPane > ItemTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="list-pane")
        self._filter = ""

    @property
    def table(self) -> ItemTable[ClientRow]:
        return self.query_one(ItemTable)

    @property
    def may_keep(self) -> bool:
        return bool(rules.r1_may_keep_records(self.staff.role))

    def compose(self) -> ComposeResult:
        yield Static(Text("Setup > Clients"), classes="screen-title")
        if not self.may_keep:
            decision = rules.r1_may_keep_records(self.staff.role)
            yield Static(Text(decision.message), id="clients-role")
        yield Input(
            placeholder="Filter clients (Esc clears)", id="clients-filter", classes="filter -hidden"
        )
        yield ItemTable(CLIENT_COLUMNS, self._fetch, self.staff.glyphs, shares=False)

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[ClientRow]:
        return self.staff.repo.list_clients(self._filter, after=after, before=before, limit=limit)

    def focus_into(self) -> None:
        """Enter on Setup's navigation: into the list."""
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "edit"):
            return self.may_keep  # R1: not offered to Billing and Read-only staff
        if action == "clear_filter":
            box = self.query_one("#clients-filter", Input)
            return bool(box.value) or not box.has_class("-hidden")
        return True

    # Filter as you type ------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#clients-filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#clients-filter", Input)
        box.value = ""
        box.add_class("-hidden")
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value
        self.table.reload_soon()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    # Adding and editing (Admin and Normal) -----------------------------------------------------

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        event.stop()
        if self.may_keep:
            self._edit(event.row)

    def action_add(self) -> None:
        self._add()

    def action_edit(self) -> None:
        row = self.table.current
        if row is not None:
            self._edit(row)

    @work(group="client-edit", exclusive=True)
    async def _add(self) -> None:
        from .client_form import ClientForm

        saved: ClientRow | None = await self.app.push_screen_wait(ClientForm())
        if saved is not None:
            self.table.reload(keep_id=saved.id)
            self.app.notify(
                f"Client {inert(saved.name)} added.", title=TITLE, timeout=4, markup=False
            )

    @work(group="client-edit", exclusive=True)
    async def _edit(self, row: ClientRow) -> None:
        from .client_form import ClientForm

        # Fresh: the version a Save is checked against is the one the form shows.
        fresh = await asyncio.to_thread(self.staff.repo.client, row.id)
        saved: ClientRow | None = await self.app.push_screen_wait(ClientForm(fresh))
        if saved is not None:
            self.table.reload(keep_id=saved.id)
            self.app.notify(
                f"Client {inert(saved.name)} saved.", title=TITLE, timeout=4, markup=False
            )

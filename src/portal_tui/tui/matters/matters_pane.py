"""The Matters list of the main screen: every matter, the portal icon left of the client's
name when its portal is ON (M3), its responsible staff user, a filter, and Enter to open one —
from the first page read with sqlite3 at a cold start, then from the repository
(main_screen.py says how). Admin and Normal staff (R1) add a matter (`n`) and edit the
highlighted one (`e`, matter_form.py); other roles are not offered either."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input

from portal_tui.domain import rules
from portal_tui.domain.records import Key, MatterRow, Page

from ..common.client_text import inert
from ..common.columns import matter_columns
from ..common.context import OPENING, StaffAware
from ..common.item_table import ItemTable

if TYPE_CHECKING:
    from portal_tui.repository.first_page import FirstPage


class MattersPane(Vertical, StaffAware):
    BINDINGS = [
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
        Binding(
            "n",
            "new_matter",
            "New",
            id="matters.new",
            tooltip="Add an item, a matter or an intake form; write a message",
        ),
        Binding(
            "e",
            "edit_matter",
            "Edit",
            id="matters.edit",
            tooltip="Edit the selected item, matter, client, contact or intake form",
        ),
    ]

    def __init__(self, first: FirstPage | None = None) -> None:
        super().__init__(id="matters", classes="list-pane")
        self._filter = ""
        self._first = first

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Button("Details", id="tb-details", compact=True)
            if self.may_keep:
                yield Button("New", id="tb-new", compact=True)
                yield Button("Edit", id="tb-edit", compact=True)
        yield Input(
            placeholder="Filter matters (Esc clears)", id="filter", classes="filter -hidden"
        )
        yield ItemTable(
            matter_columns(self.staff.glyphs),
            self._fetch,
            self.staff.glyphs,
            shares=False,
        )

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[MatterRow]:
        first = self._first_page(after, before, limit)
        if first is not None:
            return first
        return self.staff.repo.list_matters(self._filter, after=after, before=before, limit=limit)

    def _first_page(
        self, after: Key | None, before: Key | None, limit: int
    ) -> Page[MatterRow] | None:
        """The page read with sqlite3, while the repository is not open yet and it is the very
        page asked for: the top of the list, unfiltered, no longer than it."""
        first = self._first
        if first is None or self.staff.repo_open:
            return None
        if after is not None or before is not None or self._filter.strip() or limit > first.limit:
            return None
        page = first.matters
        return Page(page.rows[:limit], False, page.more_after or len(page.rows) > limit)

    @property
    def may_keep(self) -> bool:
        """R1: Admin and Normal staff add and edit matters."""
        return bool(rules.r1_may_keep_records(self.staff.role))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("new_matter", "edit_matter"):
            return self.may_keep  # not offered (footer, key) to Billing and Read-only
        return True

    def action_new_matter(self) -> None:
        self._matter_form(None)

    def action_edit_matter(self) -> None:
        row = self.query_one(ItemTable).current
        if row is not None:
            self._matter_form(row.id)

    @work(group="matter-form", exclusive=True)
    async def _matter_form(self, matter_id: int | None) -> None:
        from .matter_form import MatterForm

        staff = self.staff
        if not staff.repo_open:
            staff.set_status(OPENING)
            await staff.ready.wait()
        repo = staff.repo
        # Fresh: the version a Save is checked against is the one the form shows.
        people = await asyncio.to_thread(repo.list_staff)
        detail = await asyncio.to_thread(repo.matter, matter_id) if matter_id else None
        saved: int | None = await self.app.push_screen_wait(MatterForm(people, detail))
        if saved is None:
            return
        self.query_one(ItemTable).reload(keep_id=saved)
        shown = await asyncio.to_thread(repo.matter, saved)
        # A toast: the status line is the list's (where the cursor is) once it has reloaded.
        done = "saved" if detail else "added"
        self.app.notify(
            f"Matter {inert(shown.number)} {done}.", title="Matters", timeout=4, markup=False
        )

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.add_class("-hidden")
        self.query_one(ItemTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value
        self.query_one(ItemTable).reload_soon()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(ItemTable).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "tb-new":
            self.action_new_matter()
        elif event.button.id == "tb-edit":
            self.action_edit_matter()
        else:
            self._open(self.query_one(ItemTable).current)

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        event.stop()
        self._open(event.row)

    def on_item_table_moved(self, event: ItemTable.Moved) -> None:
        event.stop()
        row = event.row
        # A page that lands after the user moved on (pressed 2) must not take the status line.
        if row is not None and self.app.screen is self.screen and self.has_focus_within:
            portal = "portal ON" if row.portal_enabled else "portal OFF"
            self.staff.set_location(f"Matters > {row.number} {row.name} ({portal})")

    def _open(self, row: MatterRow | None) -> None:
        if row is None:
            return
        if not self.staff.repo_open:
            # Enter on a row of the first page, before the repository is open: the matter
            # opens as soon as it is (a second Enter opens the row it is then on instead).
            self.staff.set_status(OPENING)
            self._open_when_ready(row.id)
            return
        from ..matter.matter_details import MatterDetails

        self.app.push_screen(MatterDetails(row.id))

    @work(group="open", exclusive=True)
    async def _open_when_ready(self, matter_id: int) -> None:
        await self.staff.ready.wait()
        from ..matter.matter_details import MatterDetails

        await self.app.push_screen(MatterDetails(matter_id))

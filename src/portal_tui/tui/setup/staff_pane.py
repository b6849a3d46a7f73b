"""Setup > Staff: the firm's staff users (R1) — login, name, role, whether active, email — and,
for an Admin, adding one (`a`), changing a role (`r`) and disabling or enabling one (`d`).

The repository decides every change (only Admins manage staff, the firm keeps an active
Admin, nobody disables themselves) and its refusal is shown as it says it, nothing changed.
Other roles see the same list read-only: the keys are not offered in the footer, and pressing
one says why (the same sentence the repository would give)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from portal_tui.domain import texts
from portal_tui.domain.decision import Invalid, NotFound, Refused
from portal_tui.domain.records import StaffRow
from portal_tui.domain.states import StaffRole

from ..common.client_text import inert_text
from ..common.context import StaffAware
from ..common.modals import ActionMenu, Confirm, Notice

TITLE = "Staff"
ACTIVE, DISABLED = "Active", "Disabled"
# What each column shows; the email last, as the longest (at 80 columns the list scrolls).
COLUMNS = ("Login", "Name", "Role", "Status", "Email")


def staff_cells(row: StaffRow) -> tuple[Text, ...]:
    """A staff user's cells: names and emails as typed are data, shown inert."""
    return (
        inert_text(row.login),
        inert_text(row.name),
        Text(row.role.label),
        Text(ACTIVE if row.active else DISABLED, style="" if row.active else "dim"),
        inert_text(row.email),
    )


class StaffTable(DataTable[Text]):
    """The staff users, one per row; the pane's keys act on the highlighted one."""

    BINDINGS = [
        # As in every list of the app (common/item_table.py): same ids, same actions.
        Binding(
            "j,down", "cursor_down", "Down", show=False, id="list.down", tooltip="Move in a list"
        ),
        Binding("k,up", "cursor_up", "Up", show=False, id="list.up", tooltip="Move in a list"),
    ]

    def __init__(self) -> None:
        super().__init__(id="staff-table", cursor_type="row", zebra_stripes=False)


def _bindings(*, show: bool) -> list[BindingType]:
    return [
        Binding(
            "a",
            "add",
            "Add",
            show=show,
            id="staff.add",
            tooltip="Add a staff user or a client (Setup)",
        ),
        Binding(
            "r",
            "role",
            "Role",
            show=show,
            id="staff.role",
            tooltip="Change the selected staff user's role",
        ),
        Binding(
            "d",
            "active",
            "Disable/Enable",
            show=show,
            id="staff.disable",
            tooltip="Disable or enable the selected staff user",
        ),
    ]


class StaffPane(Vertical, StaffAware):
    """The staff list as an Admin sees it: its keys in the footer."""

    BINDINGS = _bindings(show=True)

    DEFAULT_CSS = """
    StaffPane {
        height: 1fr;
    }
    StaffPane > #staff-role {
        padding: 0 1;
        color: $text-warning;
    }
    StaffPane > StaffTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="staff")
        self.rows: list[StaffRow] = []
        self.loaded = asyncio.Event()  # the list read from the database is on screen

    @property
    def table(self) -> StaffTable:
        return self.query_one(StaffTable)

    @property
    def may_manage(self) -> bool:
        return self.staff.role is StaffRole.ADMIN

    def compose(self) -> ComposeResult:
        yield Static(Text("Setup > Staff"), classes="screen-title")
        if not self.may_manage:
            yield Static(Text(texts.STAFF_ADMIN_ONLY), id="staff-role")
        table = StaffTable()
        # Role and Status hold known words: each column is as wide as its longest word, so a
        # row that changes word ("Active" to "Disabled") never shows it cut ("Disabl") — an
        # auto width is measured from the rows first shown, and not always widened again.
        widths = {
            "Role": max(len(role.label) for role in StaffRole),
            "Status": max(len(ACTIVE), len(DISABLED)),
        }
        for column in COLUMNS:
            table.add_column(column, width=widths.get(column))
        yield table

    def focus_into(self) -> None:
        """Enter on Setup's navigation: into the list."""
        self.table.focus()

    @property
    def current(self) -> StaffRow | None:
        index = self.table.cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    # Showing the list --------------------------------------------------------------------------

    def on_show(self) -> None:
        # Read afresh each time: another Admin may have changed the staff list meanwhile.
        self.reload()

    def reload(self, keep: str | None = None) -> None:
        """Read the list again; the cursor stays on `keep` (a login), else where it was."""
        self._load(keep if keep is not None else getattr(self.current, "login", None))

    @work(group="staff-load", exclusive=True)
    async def _load(self, keep: str | None) -> None:
        rows = await asyncio.to_thread(self.staff.repo.list_staff)
        self.rows = rows
        table = self.table
        table.clear()
        for row in rows:
            table.add_row(*staff_cells(row), key=row.login)
        logins = [row.login for row in rows]
        if keep in logins:
            table.move_cursor(row=logins.index(keep), animate=False)
        self.loaded.set()

    # Changing it (Admins) ----------------------------------------------------------------------

    def _refused(self) -> bool:
        """R1: a role other than Admin is told why, before anything is asked."""
        if self.may_manage:
            return False
        self.app.push_screen(Notice(TITLE, texts.STAFF_ADMIN_ONLY, error=True))
        return True

    def action_add(self) -> None:
        if not self._refused():
            self._add()

    def action_role(self) -> None:
        if not self._refused() and self.current is not None:
            self._role(self.current)

    def action_active(self) -> None:
        if not self._refused() and self.current is not None:
            self._active(self.current)

    @work(group="staff-edit", exclusive=True)
    async def _add(self) -> None:
        from .staff_form import StaffForm

        added: str | None = await self.app.push_screen_wait(StaffForm())
        if added is not None:
            self.reload(keep=added)
            self.staff.set_status(f"Staff user {added} added.")

    @work(group="staff-edit", exclusive=True)
    async def _role(self, row: StaffRow) -> None:
        choices = [
            (role.value, f"{role.label} (now)" if role is row.role else role.label)
            for role in StaffRole
        ]
        choice = await self.app.push_screen_wait(ActionMenu(f"Role of {row.login}", choices))
        if choice is None or choice == row.role.value:
            return
        role = StaffRole(choice)
        repo = self.staff.repo
        if await self._change(lambda: repo.set_staff_role(row.login, role)):
            self.staff.set_status(f"Staff user {row.login} is now {role.label}.")

    @work(group="staff-edit", exclusive=True)
    async def _active(self, row: StaffRow) -> None:
        verb = "Disable" if row.active else "Enable"
        consequence = (
            "They can no longer open portal-tui, and an app they have open is refused at its "
            "next change."
            if row.active
            else "They can open portal-tui again, as " + row.role.label + "."
        )
        question = f"{verb} staff user {row.login} ({row.name})? {consequence}"
        if not await self.app.push_screen_wait(Confirm(f"{verb} staff user", question, yes=verb)):
            return
        repo = self.staff.repo
        if await self._change(lambda: repo.set_staff_active(row.login, not row.active)):
            done = "disabled" if row.active else "enabled"
            self.staff.set_status(f"Staff user {row.login} {done}.")

    async def _change(self, call: Callable[[], Any]) -> bool:
        """Run one repository change off the UI thread; a refusal is shown as the repository
        words it. The list is read again either way (it may have changed meanwhile)."""
        try:
            await asyncio.to_thread(call)
        except (Refused, Invalid, NotFound) as refused:
            message = refused.message if isinstance(refused, Refused) else str(refused)
            self.reload()
            await self.app.push_screen_wait(Notice(TITLE, message, error=True))
            return False
        self.reload()
        return True


class ReadOnlyStaffPane(StaffPane):
    """The staff list as other roles see it: the same keys, kept out of the footer, saying why
    they do nothing (R1)."""

    BINDINGS = _bindings(show=False)

"""Matter Details: its own left navigation — Summary, Billing (with the Invoice tab), Calendar,
Tasks, Notes, Documents, Messages, Forms, Client Portal."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    ContentSwitcher,
    Footer,
    Header,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from portal_tui.domain.kinds import Category, ItemKind

from ..widgets.list_pane import ListPane

if TYPE_CHECKING:
    from ..app import PortalApp

SECTIONS = (
    ("summary", "Summary"),
    ("billing", "Billing"),
    ("calendar", "Calendar"),
    ("tasks", "Tasks"),
    ("notes", "Notes"),
    ("documents", "Documents"),
    ("messages", "Messages"),
    ("forms", "Forms"),
    ("portal", "Client Portal"),
)
LISTS = {
    "calendar": ItemKind.EVENT,
    "tasks": ItemKind.TASK,
    "notes": ItemKind.NOTE,
    "documents": ItemKind.DOCUMENT,
    "messages": ItemKind.MESSAGE,
    "forms": ItemKind.FORM,
}


class MatterDetails(Screen[None]):
    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def __init__(self, matter_id: int) -> None:
        super().__init__()
        self.matter_id = matter_id

    @property
    def portal_app(self) -> PortalApp:
        from ..app import PortalApp

        assert isinstance(self.app, PortalApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(Text(label), id=key) for key, label in SECTIONS),
                id="matter-nav",
                classes="nav",
            )
            with ContentSwitcher(initial="summary", id="matter-body"):
                yield Static(id="summary", classes="summary")
                with (
                    Vertical(id="billing"),
                    TabbedContent(initial="invoice-tab"),
                    TabPane("Invoice", id="invoice-tab"),
                ):
                    yield ListPane(ItemKind.INVOICE, self.matter_id, id="invoices")
                for section, kind in LISTS.items():
                    yield ListPane(kind, self.matter_id, id=section)
                yield Static(id="portal", classes="summary")
        yield Static(id="status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#matter-nav", OptionList).focus()
        self.run_worker(self._load_summary(), exclusive=True)

    async def _load_summary(self) -> None:
        repo = self.portal_app.repo
        matter = await asyncio.to_thread(repo.matter, self.matter_id)
        contacts = await asyncio.to_thread(repo.contacts, self.matter_id)
        self.matter_number = matter.number
        self.portal_app.set_location(f"Matter Details > {matter.number} > Summary")
        client = matter.client
        self.query_one("#summary", Static).update(
            Text(
                f"{matter.number}  {matter.name}\n\n"
                f"Client: {client.name}\n"
                f"Email: {client.primary_email or '(none)'}\n"
                f"Status: {matter.status.value.capitalize()}\n"
                f"Practice area: {matter.practice_area or ''}\n"
                f"Opened: {matter.opened_on or ''}\n\n"
                f"{matter.description or ''}"
            )
        )
        on = "ON" if matter.portal_enabled else "OFF"
        permitted = [c.label for c in Category if c in matter.effective_permissions]
        people = "\n".join(
            f"  {c.name} <{c.email}>: {c.status.value}"
            + (f", last login {c.last_login_at:%Y-%m-%d}" if c.last_login_at else "")
            for c in contacts
        )
        self.query_one("#portal", Static).update(
            Text(
                f"Client portal: {on}\n"
                f"Permitted: {', '.join(permitted) if permitted else 'nothing'}\n\n"
                f"Contacts:\n{people or '  (none invited)'}"
            )
        )

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "matter-nav" and event.option.id:
            event.stop()
            self.query_one("#matter-body", ContentSwitcher).current = event.option.id
            section = dict(SECTIONS)[event.option.id]
            if event.option.id == "billing":
                section = "Billing > Invoice"
            number = getattr(self, "matter_number", "")
            self.portal_app.set_location(f"Matter Details > {number} > {section}")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "matter-nav" or not event.option.id:
            return
        event.stop()
        section = event.option.id
        if section == "billing":
            self.query_one("#invoices", ListPane).table.focus()
        elif section in LISTS:
            self.query_one(f"#{section}", ListPane).table.focus()

    def action_back(self) -> None:
        self.app.pop_screen()

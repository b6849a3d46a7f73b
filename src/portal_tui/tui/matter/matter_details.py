"""Matter Details: its own left navigation — Summary, Billing (with the Invoice tab), Calendar,
Tasks, Notes, Documents, Messages, Forms, Client Portal.

Each section is built the first time it is shown: opening a matter reads its summary and
nothing else, and a section nobody visits costs nothing.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import ContentSwitcher, Header, OptionList, Static
from textual.widgets.option_list import Option

from portal_tui.domain.kinds import ItemKind

from ..common.client_text import inert
from ..common.context import StaffAware
from ..common.footer import footer
from ..common.item_table import ItemTable
from ..common.list_pane import ListPane
from ..common.tabs import TABS, TABS_BACK

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
}


def build_section(section: str, matter_id: int) -> Widget:
    """The content of one section; the ListPane of a list section carries the section's key
    as its id (`#calendar`, `#invoices` for Billing's Invoice tab)."""
    if section == "billing":
        from .billing import Billing

        return Billing(matter_id)
    if section in LISTS:
        return ListPane(LISTS[section], matter_id, id=section)
    if section == "messages":
        from .messages_section import MessagesSection

        return MessagesSection(matter_id)
    if section == "forms":
        from .forms_pane import FormsPane

        return FormsPane(matter_id, id="forms")
    if section == "portal":
        from .matter_portal import MatterPortal

        return MatterPortal(matter_id)
    raise LookupError(section)


class MatterSection(Vertical):
    """One section's body: Esc inside it goes back to the matter's tab list."""

    BINDINGS = [TABS_BACK]

    def action_tabs(self) -> None:
        self.screen.query_one("#matter-nav", OptionList).focus()


class MatterDetails(Screen[None], StaffAware):
    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back",
            id="nav.back",
            tooltip="Go back; close a box; clear the filter",
        ),
        TABS,
    ]

    def __init__(self, matter_id: int) -> None:
        super().__init__()
        self.matter_id = matter_id
        self.matter_number = ""
        # Sections being mounted, by key: Enter on one waits for it before focusing into it.
        self._building: dict[str, AwaitMount] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(Text(label), id=key) for key, label in SECTIONS),
                id="matter-nav",
                classes="nav",
            )
            with ContentSwitcher(initial="sec-summary", id="matter-body"):
                for key, _ in SECTIONS:
                    with MatterSection(id=f"sec-{key}", classes="section"):
                        if key == "summary":
                            yield Static(id="summary", classes="summary")
        yield Static(id="status", classes="status")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#matter-nav", OptionList).focus()
        self._load_summary()

    @work(exclusive=True)
    async def _load_summary(self) -> None:
        repo = self.staff.repo
        matter = await asyncio.to_thread(repo.matter, self.matter_id)
        self.matter_number = matter.number
        self.staff.set_location(f"Matter Details > {matter.number} > Summary")
        client = matter.client
        on = "ON" if matter.portal_enabled else "OFF"
        # The client's name and email, and the matter's name, practice area and description,
        # may be a client's form answers as typed (an intake form fills them): inert.
        self.query_one("#summary", Static).update(
            Text(
                f"{matter.number}  {inert(matter.name)}\n\n"
                f"Client: {inert(client.name)}\n"
                f"Email: {inert(client.primary_email or '(none)')}\n"
                f"Status: {matter.status.value.capitalize()}\n"
                f"Practice area: {inert(matter.practice_area or '')}\n"
                f"Opened: {matter.opened_on or ''}\n"
                f"Client portal: {on}\n\n"
                f"{inert(matter.description or '', multiline=True)}"
            )
        )

    def show_section(self, section: str) -> Widget:
        """Switch the body to `section`, building it first if it has never been shown."""
        holder = self.query_one(f"#sec-{section}", MatterSection)
        if not holder.children:
            self._building[section] = holder.mount(build_section(section, self.matter_id))
        self.query_one("#matter-body", ContentSwitcher).current = f"sec-{section}"
        label = dict(SECTIONS)[section]
        if section == "billing":
            label = "Billing > Invoice"
        self.staff.set_location(f"Matter Details > {self.matter_number} > {label}")
        return holder

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "matter-nav" and event.option.id:
            event.stop()
            self.show_section(event.option.id)

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "matter-nav" or not event.option.id:
            return
        event.stop()
        section = event.option.id
        holder = self.show_section(section)
        # Enter moves into the section: its list, or its first control, before the next key
        # is handled (a key typed right behind Enter belongs to the section): a section built
        # just now is waited for.
        building = self._building.pop(section, None)
        if building is not None:
            await building
        self._focus_into(holder)

    def _focus_into(self, holder: Widget, tries: int = 20) -> None:
        panes = holder.query(ListPane)
        if panes:
            tables = panes.first().query(ItemTable)
            if tables:
                tables.first().focus()
            elif tries:
                # Built just now (Enter right after the section was highlighted): its list is
                # still being mounted. Focus it as soon as it is there: keys typed ahead
                # belong to it.
                self.call_after_refresh(self._focus_into, holder, tries - 1)
            return
        for widget in holder.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def action_tabs(self) -> None:
        self.query_one("#matter-nav", OptionList).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "tabs":  # already there
            return not self.query_one("#matter-nav", OptionList).has_focus
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

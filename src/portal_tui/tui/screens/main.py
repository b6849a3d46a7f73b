"""The main screen: the left navigation panel — Matters, Activities, Setup — and what each
shows. Matters lists every matter (the portal icon left of the client's name when its portal
is ON, M3); Activities lists invoices, events, tasks, notes and messages across all matters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import Key, MatterRow, Page

from ..columns import matter_columns
from ..widgets.footer import footer
from ..widgets.item_table import ItemTable
from ..widgets.list_pane import ListPane
from .setup import SetupPane

if TYPE_CHECKING:
    from ..app import PortalApp

SECTIONS = (("matters", "Matters"), ("activities", "Activities"), ("setup", "Setup"))
ACTIVITIES = (
    (ItemKind.INVOICE, "Invoices"),
    (ItemKind.EVENT, "Calendar"),
    (ItemKind.TASK, "Tasks"),
    (ItemKind.NOTE, "Notes"),
    (ItemKind.MESSAGE, "Messages"),
)


class MattersPane(Vertical):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="matters", classes="list-pane")
        self._filter = ""

    @property
    def portal_app(self) -> PortalApp:
        from ..app import PortalApp

        assert isinstance(self.app, PortalApp)
        return self.app

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Button("Details", id="tb-details", compact=True)
        yield Input(
            placeholder="Filter matters (Esc clears)", id="filter", classes="filter -hidden"
        )
        yield ItemTable(
            matter_columns(self.portal_app.glyphs),
            self._fetch,
            self.portal_app.glyphs,
            shares=False,
        )

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[MatterRow]:
        return self.portal_app.repo.list_matters(
            self._filter, after=after, before=before, limit=limit
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
            self.portal_app.set_location(f"Matters > {row.number} {row.name} ({portal})")

    def _open(self, row: MatterRow | None) -> None:
        if row is not None:
            from .matter_details import MatterDetails

            self.app.push_screen(MatterDetails(row.id))


class ActivitiesPane(Horizontal):
    def __init__(self) -> None:
        super().__init__(id="activities")

    def compose(self) -> ComposeResult:
        yield OptionList(
            *(Option(Text(label), id=kind.value) for kind, label in ACTIVITIES),
            id="activities-nav",
            classes="subnav",
        )
        with ContentSwitcher(initial=f"act-{ItemKind.INVOICE.value}", id="activities-body"):
            for kind, _ in ACTIVITIES:
                yield ListPane(kind, None, id=f"act-{kind.value}")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.query_one("#activities-body", ContentSwitcher).current = f"act-{event.option.id}"
        from ..app import PortalApp

        app = self.app
        if isinstance(app, PortalApp):
            app.set_location(f"Activities > {event.option.prompt}")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        pane = self.query_one(f"#act-{event.option.id}", ListPane)
        pane.table.focus()


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("1", "section('matters')", "Matters", id="go-matters", show=False),
        Binding("2", "section('activities')", "Activities", id="go-activities", show=False),
        Binding("3", "section('setup')", "Setup", id="go-setup", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(Text(label), id=key) for key, label in SECTIONS), id="nav", classes="nav"
            )
            with ContentSwitcher(initial="matters", id="body"):
                yield MattersPane()
                yield ActivitiesPane()
                yield SetupPane()
        yield Static(id="status", classes="status")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#matters ItemTable").focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "nav" and event.option.id:
            self.query_one("#body", ContentSwitcher).current = event.option.id
            from ..app import PortalApp

            app = self.app
            if isinstance(app, PortalApp):
                app.set_location(dict(SECTIONS)[event.option.id])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "nav" and event.option.id:
            self.action_section(event.option.id)

    def action_section(self, section: str) -> None:
        self.query_one("#body", ContentSwitcher).current = section
        nav = self.query_one("#nav", OptionList)
        nav.highlighted = [key for key, _ in SECTIONS].index(section)
        target: Any
        if section == "matters":
            target = self.query_one("#matters ItemTable")
        elif section == "activities":
            target = self.query_one("#activities-nav")
        else:
            target = self.query_one(SetupPane).focus_target() or nav
        target.focus()

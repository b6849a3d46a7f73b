"""Activities: invoices, events, tasks, notes and messages across all matters, each a list
of its own behind Activities' navigation."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import ContentSwitcher, OptionList
from textual.widgets.option_list import Option

from portal_tui.domain.kinds import ItemKind

from ..common.context import StaffAware
from ..common.tabs import TABS

ACTIVITIES = (
    (ItemKind.INVOICE, "Invoices"),
    (ItemKind.EVENT, "Calendar"),
    (ItemKind.TASK, "Tasks"),
    (ItemKind.NOTE, "Notes"),
    (ItemKind.MESSAGE, "Messages"),
)


class ActivitiesPane(Horizontal, StaffAware):
    BINDINGS = [TABS]

    def __init__(self) -> None:
        super().__init__(id="activities")

    def compose(self) -> ComposeResult:
        from ..common.list_pane import ListPane

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
        self.staff.set_location(f"Activities > {event.option.prompt}")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.shown_list().focus()

    def shown_list(self) -> Widget:
        """The list Activities shows (the one highlighted in its navigation)."""
        from ..common.list_pane import ListPane

        current = self.query_one("#activities-body", ContentSwitcher).current
        return self.query_one(f"#{current}", ListPane).table

    def action_tabs(self) -> None:
        self.query_one("#activities-nav", OptionList).focus()

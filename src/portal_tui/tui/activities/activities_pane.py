"""Activities: invoices, events, tasks, notes and messages across all matters, each a list
of its own behind Activities' navigation."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, OptionList
from textual.widgets.option_list import Option

from portal_tui.domain.kinds import ItemKind

from ..common.context import StaffAware

ACTIVITIES = (
    (ItemKind.INVOICE, "Invoices"),
    (ItemKind.EVENT, "Calendar"),
    (ItemKind.TASK, "Tasks"),
    (ItemKind.NOTE, "Notes"),
    (ItemKind.MESSAGE, "Messages"),
)


class ActivitiesPane(Horizontal, StaffAware):
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
        from ..common.list_pane import ListPane

        pane = self.query_one(f"#act-{event.option.id}", ListPane)
        pane.table.focus()

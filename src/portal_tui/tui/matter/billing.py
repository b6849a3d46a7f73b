"""Matter Details > Billing: its tabs, the Invoice tab among them (S1)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane

from portal_tui.domain.kinds import ItemKind

from ..common.list_pane import ListPane


class Billing(Vertical):
    def __init__(self, matter_id: int) -> None:
        super().__init__(id="billing")
        self.matter_id = matter_id

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="invoice-tab"), TabPane("Invoice", id="invoice-tab"):
            yield ListPane(ItemKind.INVOICE, self.matter_id, id="invoices")

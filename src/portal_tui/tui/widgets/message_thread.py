"""Matter Details > Messages: the matter's thread with the client (S5, M5)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from portal_tui.domain.kinds import ItemKind

from .list_pane import ListPane


class MessagesSection(Vertical):
    def __init__(self, matter_id: int) -> None:
        super().__init__(id="messages-section")
        self.matter_id = matter_id

    def compose(self) -> ComposeResult:
        yield ListPane(ItemKind.MESSAGE, self.matter_id, id="messages")

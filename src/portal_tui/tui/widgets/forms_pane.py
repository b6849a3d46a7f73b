"""Matter Details > Forms: the matter's intake forms, shared by Action > Share via Client
Portal, then Share (S4); and what clients submitted."""

from __future__ import annotations

from portal_tui.domain.kinds import ItemKind

from .list_pane import ListPane


class FormsPane(ListPane):
    def __init__(self, matter_id: int, *, id: str | None = None) -> None:
        super().__init__(ItemKind.FORM, matter_id, id=id)

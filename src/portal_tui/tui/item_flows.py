"""The flows a list starts (common/context.py `ItemFlows`), given by the app from the features
that hold them. Imported where each is first used: they are not part of the first screen
(cold start)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from portal_tui.domain.kinds import ItemKind


class AppFlows:
    def __init__(self, app: App[Any]) -> None:
        self._app = app

    async def share_or_unshare(self, kind: ItemKind, row: Any) -> Any | None:
        from .sharing.flows import share_or_unshare

        return await share_or_unshare(self._app, kind, row)

    async def undo_last(self) -> tuple[str, ItemKind, Any] | None:
        from .sharing.flows import undo_last

        return await undo_last(self._app)

    def share_history(self, kind: ItemKind, row: Any) -> Screen[None]:
        from .sharing.share_history import ShareHistoryScreen

        return ShareHistoryScreen(kind, row)

    def bulk_progress(self, kind: ItemKind, ids: list[int], *, share: bool) -> Screen[Any]:
        from .sharing.bulk import BulkProgress

        return BulkProgress(kind, ids, share=share)

    def bulk_summary(self, result: Any) -> Screen[None]:
        from .sharing.bulk import BulkSummary

        return BulkSummary(result)

    def item_form(self, kind: ItemKind, matter_id: int, row: Any | None) -> Screen[int | None]:
        from .matter.item_form import ItemForm

        return ItemForm(kind, matter_id, row)

    def attach_file(self, matter_id: int, folders: list[Any]) -> Screen[int | None]:
        from pathlib import Path

        from .matter.attach_file import AttachFile

        return AttachFile(matter_id, folders, Path.home())

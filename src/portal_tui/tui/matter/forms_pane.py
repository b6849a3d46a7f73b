"""Matter Details > Forms: the matter's intake forms, shared by Action > Share via Client
Portal, then Share (S4); and what clients submitted."""

from __future__ import annotations

from typing import Any

from textual import work

from portal_tui.domain import rules
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import FormRow

from ..common.item_table import ItemTable
from ..common.list_pane import ListPane
from ..sharing.flows import share_or_unshare

SUBMISSIONS = "Submissions"


class FormsPane(ListPane):
    def __init__(self, matter_id: int, *, id: str | None = None) -> None:
        super().__init__(ItemKind.FORM, matter_id, id=id)

    def menu_actions(self, row: Any) -> list[tuple[str, str]]:
        return [*super().menu_actions(row), ("submissions", SUBMISSIONS)]

    def run_menu_action(self, action: str, row: Any) -> None:
        if action == "submissions":
            self.open_submissions(row)
        else:
            super().run_menu_action(action, row)

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        # Enter on a form shows what clients submitted (ListPane's own handler would open the
        # Action menu: it is not to run after this one).
        event.stop()
        event.prevent_default()
        self.open_submissions(event.row)

    def open_submissions(self, row: FormRow) -> None:
        from .form_submissions import FormSubmissions

        self.app.push_screen(FormSubmissions(row))

    def action_share(self) -> None:
        """S4: a form not yet shared is shown first, on its Share screen; Share shares it.
        Unsharing, and a role that may not share, go the way of every other item."""
        row = self.table.current
        if row is None:
            return
        if row.share.wanted or not rules.r1_may_share(self.staff.role, self.kind):
            super().action_share()
            return
        self._share_form(row)

    @work(group="share", exclusive=True)
    async def _share_form(self, row: FormRow) -> None:
        from ..sharing.form_share import FormShare

        if not await self.app.push_screen_wait(FormShare(row)):
            return
        # The one share path: a condition of S4 missing is refused there, with its message.
        fresh = await share_or_unshare(self.app, self.kind, row)
        if fresh is not None:
            self.table.replace_row(fresh)

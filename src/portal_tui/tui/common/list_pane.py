"""A list of one kind of item — for one matter, or across all (Activities) — with its toolbar,
its filter line and its actions. Every screen that lists items uses this one pane, so a share
looks and behaves the same wherever it is started: one item (`s`, Action), the rows marked with
Space (`s` and Action offer to share or unshare them all), and any item's share history (`h`)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from portal_tui.domain import rules, texts
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import Key, Page

from ..common import undo_offer
from ..common.context import StaffAware
from .columns import columns_for
from .item_table import ItemTable
from .modals import ActionMenu, Confirm, Notice
from .share_words import items_word, share_action_label

EDITABLE = (ItemKind.EVENT, ItemKind.TASK, ItemKind.NOTE)


class ListPane(Vertical, StaffAware):
    BINDINGS = [
        Binding(
            "slash", "filter", "Filter", id="list.filter", tooltip="Filter the list as you type"
        ),
        Binding(
            "a",
            "action_menu",
            "Action",
            id="items.action",
            tooltip="The Action menu of the selected row or contact",
        ),
        Binding(
            "s",
            "share_key",
            "Share",
            id="items.share",
            tooltip="Share or unshare the selected or marked items",
        ),
        # S8: offered (and in the footer) only while a share's toast offers it.
        Binding(
            "u",
            "undo",
            "Undo",
            id="items.undo",
            tooltip="Undo the share or unshare just done (for 5 s after it)",
        ),
        Binding(
            "h",
            "history",
            "History",
            id="items.history",
            show=False,
            tooltip="Share history of the selected item",
        ),
        Binding(
            "n",
            "add",
            "Add",
            id="items.add",
            tooltip="Add an item, a matter or an intake form; write a message",
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            id="items.edit",
            tooltip="Edit the selected item, matter, client, contact or intake form",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="list.clear-filter",
            tooltip="Go back; close a box; clear the filter",
        ),
    ]

    def __init__(self, kind: ItemKind, matter_id: int | None = None, *, id: str | None = None):
        super().__init__(id=id, classes="list-pane")
        self.kind = kind
        self.matter_id = matter_id
        self._filter = ""
        # What the status line adds after an Undo (S8), until the cursor moves on.
        self._said: str | None = None
        self._said_id: int | None = None

    @property
    def table(self) -> ItemTable[Any]:
        return self.query_one(ItemTable)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Button("Action", id="tb-action", compact=True)
            if self.kind is ItemKind.DOCUMENT:
                # R1: not offered to a role that may not share documents (`s` says why).
                yield Button("Share", id="tb-share", compact=True, disabled=not self._may_share())
            if self.kind in EDITABLE and self.matter_id is not None:
                yield Button("Add", id="tb-add", compact=True)
            if self.kind is ItemKind.DOCUMENT and self.matter_id is not None:
                yield Button("Attach", id="tb-add", compact=True)
            if self.kind in EDITABLE:
                yield Button("Edit", id="tb-edit", compact=True)
        yield Input(placeholder="Filter (Esc clears)", id="filter", classes="filter -hidden")
        columns = columns_for(self.kind, in_matter=self.matter_id is not None)
        yield ItemTable(columns, self._fetch, self.staff.glyphs)

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[Any]:
        return self.staff.repo.list_items(
            self.kind,
            matter_id=self.matter_id,
            text=self._filter,
            after=after,
            before=before,
            limit=limit,
        )

    # Filter as you type ------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-hidden")
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            # Esc clears a filter in use; otherwise it is left to the screen (Back).
            box = self.query_one("#filter", Input)
            return bool(box.value) or not box.has_class("-hidden")
        if action == "add":  # only where it adds something: kept off the 80-column footer
            return self.matter_id is not None and (
                self.kind in EDITABLE or self.kind is ItemKind.DOCUMENT
            )
        if action == "edit":
            return self.kind in EDITABLE
        if action == "undo":
            return undo_offer.current(self.app) is not None
        return True

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        box.add_class("-hidden")
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value
        self.table.reload_soon()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    # Actions ---------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {
            "tb-action": self.action_action_menu,
            "tb-share": self.action_share,
            "tb-add": self.action_add,
            "tb-edit": self.action_edit,
        }
        handler = actions.get(event.button.id or "")
        if handler is not None:
            handler()

    def on_descendant_focus(self) -> None:
        self.show_status(self.table.current)

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        event.stop()
        if self.kind in EDITABLE:
            self.action_edit()
        else:
            self.action_action_menu()

    def on_item_table_moved(self, event: ItemTable.Moved) -> None:
        event.stop()
        if self.kind is ItemKind.DOCUMENT:
            label = share_action_label(self.kind, event.row) if event.row else "Share"
            self.query_one("#tb-share", Button).label = label
        if self._said is not None and getattr(event.row, "id", None) != self._said_id:
            self._said = None
        if self.table.has_focus and self.app.screen is self.screen:  # not from a screen beneath
            self.show_status(event.row)

    def on_item_table_marks_changed(self, event: ItemTable.MarksChanged) -> None:
        event.stop()
        self.show_status(self.table.current)

    def show_status(self, row: Any | None) -> None:
        """The status line for the highlighted row, and how many rows are marked."""
        app, staff = self.app, self.staff
        if self.screen is not app.screen:
            return  # a box is open: the line is brought up to date when it closes
        staff.show_row_status(self.kind, row)
        marked = len(self.table.marked)
        extra = [f"{marked:,} marked"] if marked else []
        if self._said is not None:
            extra.append(self._said)
        if not extra:
            return
        for status in self.screen.query("#status"):
            if isinstance(status, Static):
                line = status.content
                shown = line.copy() if isinstance(line, Text) else Text(str(line))
                for part in extra:
                    shown.append(f"  |  {part}")
                status.update(shown)

    def _may_share(self) -> bool:
        return bool(rules.r1_may_share(self.staff.role, self.kind))

    def menu_actions(self, row: Any) -> list[tuple[str, str]]:
        """The Action menu for `row`: (id, label) pairs; a subclass adds its own."""
        actions: list[tuple[str, str]] = []
        if self._may_share():
            actions += self._bulk_actions()
            actions.append(("share", share_action_label(self.kind, row)))
        if self.kind in EDITABLE:
            actions.append(("edit", "Edit"))
        actions.append(("history", texts.SHARE_HISTORY))
        return actions

    def run_menu_action(self, action: str, row: Any) -> None:
        """Carry out an Action menu choice; a subclass handles the ids it added."""
        if action == "share":
            self.action_share()
        elif action == "edit":
            self.action_edit()
        elif action == "history":
            self._open_history(row)
        elif action in ("bulk-share", "bulk-unshare"):
            self._bulk(share=action == "bulk-share")

    def action_action_menu(self) -> None:
        row = self.table.current
        if row is None:
            return
        actions = self.menu_actions(row)
        if not actions:
            self.action_share()  # says why nothing is offered
            return

        def chosen(choice: str | None) -> None:
            if choice is not None:
                self.run_menu_action(choice, row)

        self.app.push_screen(ActionMenu("Action", actions), chosen)

    def action_share_key(self) -> None:
        """`s`: with rows marked (and a role that may share them), what to do with them all;
        otherwise share or unshare the highlighted row."""
        if self.table.marked and self._may_share():

            def chosen(choice: str | None) -> None:
                if choice is not None:
                    self._bulk(share=choice == "bulk-share")

            self.app.push_screen(ActionMenu("Marked", self._bulk_actions()), chosen)
            return
        self.action_share()

    def action_share(self) -> None:
        row = self.table.current
        if row is None:
            return
        if not self._may_share():
            refusal = rules.r1_may_share(self.staff.role, self.kind)
            self.app.push_screen(Notice("Share via Client Portal", refusal.message, error=True))
            return
        self._share(row)

    @work(group="share", exclusive=True)
    async def _share(self, row: Any) -> None:
        fresh = await self.staff.flows.share_or_unshare(self.kind, row)
        if fresh is not None:
            self.table.replace_row(fresh)

    def action_undo(self) -> None:
        self._undo()

    @work(group="share", exclusive=True)
    async def _undo(self) -> None:
        done = await self.staff.flows.undo_last()
        if done is None:
            return
        said, kind, fresh = done
        if kind is not self.kind or fresh is None:
            return  # undone from another list: the toast says so; this list is not its
        self._said, self._said_id = said, fresh.id
        self.table.replace_row(fresh)
        self.show_status(self.table.current)

    # Share history ----------------------------------------------------------------------------

    def action_history(self) -> None:
        row = self.table.current
        if row is not None:
            self._open_history(row)

    def _open_history(self, row: Any) -> None:
        self.app.push_screen(self.staff.flows.share_history(self.kind, row))

    # Bulk share and unshare of the marked rows ---------------------------------------------

    def _bulk_actions(self) -> list[tuple[str, str]]:
        count = len(self.table.marked)
        if not count:
            return []
        return [
            ("bulk-share", texts.BULK_SHARE_ACTION.format(count=f"{count:,}")),
            ("bulk-unshare", texts.BULK_UNSHARE_ACTION.format(count=f"{count:,}")),
        ]

    def _bulk(self, *, share: bool) -> None:
        # The "share" group: a flow waiting on the user's answer, like a single share.
        self._run_bulk(share)

    @work(group="share", exclusive=True)
    async def _run_bulk(self, share: bool) -> None:
        app, staff = self.app, self.staff
        ids = sorted(self.table.marked)
        count = len(ids)
        words = texts.BULK_SHARE_CONFIRM if share else texts.BULK_UNSHARE_CONFIRM
        question = words.format(count=f"{count:,}", items=items_word(count))
        if share and self.kind is ItemKind.INVOICE:
            drafts = await asyncio.to_thread(staff.repo.unfinal_invoices, ids)
            if drafts == 1:
                question += " " + texts.BULK_UNFINAL_ONE
            elif drafts:
                question += " " + texts.BULK_UNFINAL_MANY.format(count=f"{drafts:,}")
        title = texts.SHARE_VIA_PORTAL if share else texts.UNSHARE_VIA_PORTAL
        if not await app.push_screen_wait(Confirm(title, question)):
            return
        result = await app.push_screen_wait(staff.flows.bulk_progress(self.kind, ids, share=share))
        self.table.clear_marks()
        self.table.reload()  # the new icons, behind the summary
        await self.table.loaded.wait()
        self.show_status(self.table.current)
        await app.push_screen_wait(staff.flows.bulk_summary(result))
        self.show_status(self.table.current)

    def action_add(self) -> None:
        if self.kind in EDITABLE and self.matter_id is not None:
            self._edit(None)
        elif self.kind is ItemKind.DOCUMENT and self.matter_id is not None:
            self._attach_file(self.matter_id)

    @work(group="edit", exclusive=True)
    async def _attach_file(self, matter_id: int) -> None:
        folders = await asyncio.to_thread(self.staff.repo.folders, matter_id)
        added = await self.app.push_screen_wait(self.staff.flows.attach_file(matter_id, folders))
        if added is not None:
            self.table.reload(keep_id=added)

    def action_edit(self) -> None:
        row = self.table.current
        if self.kind in EDITABLE and row is not None:
            self._edit(row)

    @work(group="edit", exclusive=True)
    async def _edit(self, row: Any | None) -> None:
        matter_id = self.matter_id if row is None else row.matter_id
        assert matter_id is not None
        item_id = await self.app.push_screen_wait(
            self.staff.flows.item_form(self.kind, matter_id, row)
        )
        if item_id is None:
            return
        if row is None:
            self.table.reload(keep_id=item_id)
        else:
            fresh = await asyncio.to_thread(self.staff.repo.item_row, self.kind, item_id)
            self.table.replace_row(fresh)

    def refresh_list(self) -> None:
        self.table.reload()

"""Matter Details > Messages: the matter's thread with the client (S5, M5).

The thread is a keyset-windowed list like every other (newest at the bottom, older messages
read in as the cursor climbs), the selected message in full beneath it, and a compose box at
the bottom. A message written here is a message to the client: it is shared as it is saved.
Client replies come back through sync, and the thread reloads itself when they land.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static, TextArea

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Invalid, NotFound, Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import Key, MessageRow, Page
from portal_tui.domain.states import PartyAccess

from ..common.client_text import inert
from ..common.columns import day
from ..common.context import StaffAware
from ..common.item_table import Column, ItemTable
from ..common.list_pane import ListPane
from ..common.modals import Notice

SEND_TITLE = "Send Message"
PLACEHOLDER = "Write to the client (Ctrl+S sends)"
NO_MESSAGES = "No messages with the client yet. Write one below."
FROM_CLIENT = "From the client"
# An id no row has: reload() then lands on the newest message.
_BOTTOM = -1


def writer(row: MessageRow, names: dict[str, str]) -> str:
    """Who wrote a message by name: the client's, or the staff user's (a staff message keeps
    its writer's login)."""
    return row.author_name if row.from_client else names.get(row.author_name, row.author_name)


def author(row: MessageRow, names: dict[str, str]) -> str:
    return writer(row, names) + (" (client)" if row.from_client else "")


class ThreadTable(ItemTable[MessageRow]):
    """The thread's list: it opens on the newest message, and stays at the bottom across a
    reload when the user was there (a reply arriving, a message sent)."""

    def on_mount(self) -> None:
        # The section is built when it is first shown, so the thread is read at once. (Other
        # lists wait for Show, which Textual can leave unsent when a scroll refresh lays out
        # the new widgets first.)
        self.call_after_refresh(self._first_read)

    def _first_read(self) -> None:
        if not self.shown_once:
            self.reload()

    def reload(self, keep_id: int | None = None) -> None:
        at_bottom = not self._rows or (
            not self._more_after and self.cursor_row >= len(self._rows) - 1
        )
        super().reload(_BOTTOM if keep_id is None and at_bottom else keep_id)

    def _show(
        self,
        rows: list[MessageRow],
        more_before: bool,
        more_after: bool,
        cursor_id: int | None,
    ) -> None:
        if rows and all(row.id != cursor_id for row in rows):
            cursor_id = rows[-1].id
        super()._show(rows, more_before, more_after, cursor_id)


class ThreadPane(ListPane):
    """The messages of one matter, oldest at the top: the repository's newest-first pages,
    each turned round, with "before" and "after" swapped."""

    class Selected(Message):
        def __init__(self, row: MessageRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, matter_id: int, *, id: str | None = None) -> None:
        super().__init__(ItemKind.MESSAGE, matter_id, id=id)
        self.names: dict[str, str] = {}
        self._names_read = False

    def compose(self) -> ComposeResult:
        # ListPane's toolbar and filter line as they are; its table swapped for the thread's.
        columns: list[Column[MessageRow]] = [
            Column("Sent", lambda r: day(r.sent_at), 16),
            Column("From", lambda r: author(r, self.names), 22),
            Column("Message", lambda r: (r.subject + ": " if r.subject else "") + r.body, 54),
        ]
        for widget in super().compose():
            if isinstance(widget, ItemTable):
                yield ThreadTable(columns, self._fetch, self.staff.glyphs)
            else:
                yield widget

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[Any]:
        repo = self.staff.repo
        if not self._names_read:  # (in the list's reading thread, once)
            self.names = {staff.login: staff.name for staff in repo.list_staff()}
            self._names_read = True
        page = repo.list_items(
            ItemKind.MESSAGE,
            matter_id=self.matter_id,
            text=self._filter,
            after=before,
            before=after,
            limit=limit,
        )
        return Page(tuple(reversed(page.rows)), page.more_after, page.more_before)

    def on_item_table_moved(self, event: ItemTable.Moved) -> None:
        # (ListPane's own handler runs after this one, and keeps the status line.)
        self.post_message(self.Selected(event.row))

    def show_status(self, row: MessageRow | None) -> None:
        """A client's reply is not "Not shared": it came from the portal."""
        app, staff = self.app, self.staff
        if row is not None and row.from_client and self.screen is app.screen:
            staff.set_status(f"{staff.location}  |  {FROM_CLIENT}")
        else:
            super().show_status(row)


class MessagesSection(Vertical, StaffAware):
    """The thread, the message in full, and the compose box; or, for a staff user restricted
    on this matter (M5), one calm line instead."""

    DEFAULT_CSS = """
    MessagesSection {
        height: 1fr;

        /* (the list is a .list-pane: 1fr, by the app's stylesheet) */
        #reader {
            height: 0.7fr;
            max-height: 14;
            border-top: solid $primary 30%;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
        #reader:focus {
            background-tint: $primary 10%;
        }
        #compose-row {
            height: 3;
            border-top: solid $primary 30%;
        }
        #compose, #compose:focus {
            width: 1fr;
            height: 2;
            border: none;
            padding: 0 1;
        }
        #compose:focus {
            background-tint: $primary 20%;
        }
        #send {
            margin: 0 1;
        }
        #cannot-send {
            height: auto;
            border-top: solid $primary 30%;
            padding: 0 1;
            color: $text-muted;
        }
        #restricted {
            display: none;
            height: auto;
            padding: 1 2;
            color: $text-muted;
        }
        &.-restricted {
            #messages, #reader, #compose-row, #cannot-send {
                display: none;
            }
            #restricted {
                display: block;
            }
        }
    }
    """

    BINDINGS = [
        Binding(
            "ctrl+s",
            "send",
            "Send",
            id="messages.send",
            tooltip="Save an Add or Edit screen; send a message",
        ),
        Binding(
            "n",
            "write",
            "Write",
            id="messages.write",
            tooltip="Add an item, a matter or an intake form; write a message",
        ),
        Binding(
            "escape",
            "leave_compose",
            "Back to the thread",
            show=False,
            id="messages.thread",
            tooltip="Go back; close a box; clear the filter",
        ),
    ]

    def __init__(self, matter_id: int) -> None:
        super().__init__(id="messages-section")
        self.matter_id = matter_id
        self.restricted = False
        self._sending = False

    @property
    def pane(self) -> ThreadPane:
        return self.query_one(ThreadPane)

    @property
    def compose_box(self) -> TextArea:
        return self.query_one("#compose", TextArea)

    def compose(self) -> ComposeResult:
        yield ThreadPane(self.matter_id, id="messages")
        with VerticalScroll(id="reader"):
            yield Static(Text(""), id="message-body")
        refusal = rules.r1_may_share(self.staff.role, ItemKind.MESSAGE)
        if refusal:
            with Horizontal(id="compose-row"):
                yield TextArea(id="compose", placeholder=PLACEHOLDER, compact=True)
                yield Button("Send", id="send", variant="primary", compact=True)
        else:
            # R1: a role that may not share messages is not offered the box, and told why.
            yield Static(Text(refusal.message), id="cannot-send")
        yield Static(Text(texts.MESSAGES_RESTRICTED), id="restricted")

    def on_mount(self) -> None:
        self._check_access()

    @work(group="access", exclusive=True)
    async def _check_access(self) -> None:
        repo = self.staff.repo
        access = await asyncio.to_thread(repo.party_access, self.matter_id)
        self.restricted = access is PartyAccess.RESTRICTED
        if not self.restricted:
            return
        # M5: nothing of the thread is shown or reachable; the repository lists nothing for
        # this user either, and refuses a message from them.
        self.add_class("-restricted")
        for part in self.query("#messages, #reader, #compose-row"):
            part.disabled = True
        if self.screen.focused is None:
            self.screen.focus_next()

    # Reading ------------------------------------------------------------------------------------

    def on_thread_pane_selected(self, event: ThreadPane.Selected) -> None:
        event.stop()
        self.query_one("#message-body", Static).update(self._reading(event.row))

    def _reading(self, row: MessageRow | None) -> Text:
        if row is None:
            return Text(NO_MESSAGES, style="italic")
        share = FROM_CLIENT if row.from_client else self.staff.glyphs.share_words(row.share)
        who = "client" if row.from_client else "staff"
        shown = Text.assemble(
            (inert(writer(row, self.pane.names)), "bold"),
            f"  ({who})\n",
            (f"{day(row.sent_at)}  |  {share}\n", "dim"),
        )
        if row.subject:
            shown.append("\n" + inert(row.subject), style="bold")
        shown.append("\n" + inert(row.body, multiline=True))
        return shown

    # Writing ------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_compose":
            return bool(self.query("#compose")) and self.compose_box.has_focus
        return True

    def action_write(self) -> None:
        if self.restricted:
            return
        boxes = self.query("#compose")
        if boxes:
            boxes.first().focus()

    def action_leave_compose(self) -> None:
        self.pane.table.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            event.stop()
            self.action_send()

    def action_send(self) -> None:
        if self.restricted:
            self.app.push_screen(Notice(SEND_TITLE, texts.MESSAGES_RESTRICTED, error=True))
            return
        refusal = rules.r1_may_share(self.staff.role, ItemKind.MESSAGE)
        if not refusal:
            self.app.push_screen(Notice(SEND_TITLE, refusal.message, error=True))
            return
        if self._sending:  # a second Ctrl+S while the first is saved would send it twice
            return
        self._sending = True
        self._send(self.compose_box.text)

    @work(group="send")
    async def _send(self, body: str) -> None:
        try:
            await self._send_now(body)
        finally:
            self._sending = False

    async def _send_now(self, body: str) -> None:
        app, staff = self.app, self.staff
        try:
            # A message to the client: saved and shared in one transaction, or not at all.
            message_id = await asyncio.to_thread(
                lambda: staff.repo.add_message(self.matter_id, body=body, share=True)
            )
        except Refused as refused:
            await app.push_screen_wait(Notice(SEND_TITLE, refused.message, error=True))
            return
        except (Invalid, NotFound) as bad:
            await app.push_screen_wait(Notice(SEND_TITLE, str(bad), error=True))
            return
        staff.wake_delivery()
        box = self.compose_box
        if box.text == body:  # not if the user went on writing meanwhile
            box.clear()
        self.pane.table.reload(keep_id=message_id)

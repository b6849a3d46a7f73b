"""Share history of an item, by keyboard: `h` or Action > Share history on any item of
any list opens a box telling who shared and unshared it (staff names), its delivery, the
clients' email and the client's first view — oldest first, in local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import OptionList, Static

from portal_tui.domain import FormRule, ItemKind, texts
from portal_tui.repository import history
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome
from portal_tui.sqltypes import utcnow
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.columns import day
from portal_tui.tui.common.modals import ActionMenu
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.sharing.share_history import ShareHistoryScreen

from .helpers import ADMIN, NORMAL, READER, SIZE, AppPilot, TuiFirm, options, screen_text
from .pilot import (
    activities,
    choose,
    matter_section,
    move_to,
    open_matter,
    screen_of,
    started,
    until,
)


class Portal:
    def deliver(self, message: OutboxMessage) -> Outcome:
        return Delivered()


def deliver(firm: TuiFirm) -> None:
    while firm.system.deliver_pending(Portal()).delivered:
        pass


async def opened(pilot: AppPilot) -> ShareHistoryScreen:
    box: ShareHistoryScreen = await screen_of(pilot, ShareHistoryScreen)
    await until(pilot, box.loaded.is_set, "the history")
    await pilot.pause()
    return box


async def closed(pilot: AppPilot, key: str = "escape") -> None:
    app = pilot.app
    await pilot.press(key)
    await until(pilot, lambda: not isinstance(app.screen, ShareHistoryScreen), "the box closed")


async def test_s0_an_item_never_shared_says_so(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.TASK)
        await move_to(pilot, table, tui_firm.task)
        await pilot.press("h")
        box = await opened(pilot)
        text = screen_text(app)
        assert "Share history: Sign the inventory" in text
        assert "This task has never been shared via the client portal." in text
        assert box.history is not None and not box.history.ever_shared
        await closed(pilot, "enter")
        await screen_of(pilot, MainScreen)


async def test_s0_history_shows_shared_by_first_viewed_and_unshared_by(
    tui_firm: TuiFirm,
) -> None:
    note = tui_firm.note
    tui_firm.repo(NORMAL).share(ItemKind.NOTE, note)
    deliver(tui_firm)
    # As sync records it when the portal reports the client's first look.
    viewed = utcnow()
    tui_firm.system.record_item_seen(ItemKind.NOTE, note, viewed_at=viewed)
    tui_firm.repo(ADMIN).unshare(ItemKind.NOTE, note)

    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        table = await matter_section(pilot, "notes")
        await move_to(pilot, table, note)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert options(app)[-1] == texts.SHARE_HISTORY
        await choose(pilot, app.screen.query_one(OptionList), len(options(app)) - 1)
        box = await opened(pilot)

        assert box.history is not None
        entries = [(e.what, e.who) for e in box.history.entries]
        assert entries == [
            (history.SHARED, "Jo Normal"),
            (history.DELIVERED, None),
            (history.EMAIL_ASKED, None),
            (history.FIRST_VIEWED, None),
            (history.UNSHARED, "Avery Admin"),
            (history.WAITING, None),
        ]
        text = screen_text(app)
        order = [
            text.index(history.SHARED),
            text.index(history.FIRST_VIEWED),
            text.index(history.UNSHARED),
        ]
        assert order == sorted(order)  # newest last
        assert "Jo Normal" in text and "Avery Admin" in text
        assert day(viewed) in text  # local time, as the lists show times
        assert box.history.entries[2].detail == history.NO_ACTIVE_CONTACT
        assert "No active portal contact on the matter" in text  # under the email's line
        now = str(box.query_one("#history-now", Static).content)
        assert now == "Now: Unsharing: waiting"
        await closed(pilot)
        await screen_of(pilot, MatterDetails)


LISTS = [
    ("activities", ItemKind.INVOICE, "final_invoice", "INV-0001"),
    ("activities", ItemKind.EVENT, "event", "Probate hearing"),
    ("activities", ItemKind.TASK, "task", "Sign the inventory"),
    ("activities", ItemKind.NOTE, "off_note", "[b]bold[/b]"),
    ("activities", ItemKind.MESSAGE, None, "Hello Ada"),
    ("billing", ItemKind.INVOICE, "final_invoice", "INV-0001"),
    ("calendar", ItemKind.EVENT, "event", "Probate hearing"),
    ("tasks", ItemKind.TASK, "task", "Sign the inventory"),
    ("documents", ItemKind.DOCUMENT, "linked_doc", "will-scan.txt"),
    ("messages", ItemKind.MESSAGE, None, "Hello Ada"),
    ("forms", ItemKind.FORM, None, "Client intake"),
]


@pytest.mark.parametrize(("where", "kind", "attr", "label"), LISTS)
async def test_s0_every_list_offers_the_history_of_a_shared_item(
    tui_firm: TuiFirm, where: str, kind: ItemKind, attr: str | None, label: str
) -> None:
    repo = tui_firm.repo(ADMIN)
    if kind is ItemKind.MESSAGE:
        item = repo.add_message(tui_firm.on_matter, body="Hi", subject="Hello Ada")
    elif kind is ItemKind.FORM:
        item = repo.add_form(
            "Client intake",
            fields=[{"key": "phone", "label": "Phone", "type": "phone"}],
            rule=FormRule.ASSOCIATE,
            matter_id=tui_firm.on_matter,
        )
    else:
        assert attr is not None
        item = getattr(tui_firm, attr)
    matter = tui_firm.off_matter if attr == "off_note" else tui_firm.on_matter
    if matter == tui_firm.on_matter:
        tui_firm.share_now(kind, item)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        if where == "activities":
            table = await activities(pilot, kind)
        else:
            await open_matter(pilot, matter)
            table = await matter_section(pilot, where)
        await move_to(pilot, table, item)
        await pilot.press("h")
        box = await opened(pilot)
        text = screen_text(app)
        assert f"Share history: {label}" in text  # client data as written, never markup
        assert box.history is not None
        if matter == tui_firm.on_matter:
            assert box.history.entries[0].what == history.SHARED
            assert box.history.entries[0].who == "Avery Admin"
        else:
            assert "This note has never been shared via the client portal." in text
        await closed(pilot)


async def test_r1_read_only_staff_see_the_history_too(tui_firm: TuiFirm) -> None:
    tui_firm.share_now(ItemKind.INVOICE, tui_firm.final_invoice)
    app = tui_firm.app(READER)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, table, tui_firm.final_invoice)
        await pilot.press("a")  # nothing to share: the history is what is offered
        await screen_of(pilot, ActionMenu)
        assert options(app) == [texts.SHARE_HISTORY]
        await pilot.press("enter")
        box = await opened(pilot)
        assert box.history is not None and box.history.entries[0].who == "Avery Admin"
        await closed(pilot)


async def test_history_fits_80x24_and_ascii(tui_firm: TuiFirm) -> None:
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    tui_firm.system.record_item_seen(
        ItemKind.NOTE, tui_firm.note, viewed_at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    app = tui_firm.app(ascii_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app, PortalApp)
        await started(app, pilot)
        table = await activities(pilot, ItemKind.NOTE)
        await move_to(pilot, table, tui_firm.note)
        await pilot.press("h")
        await opened(pilot)
        text = screen_text(app)
        assert all(ord(ch) < 128 for ch in text)
        assert history.SHARED in text and "Avery Admin" in text
        assert "OK" in text

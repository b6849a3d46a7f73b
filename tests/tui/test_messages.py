"""Matter Details > Messages, driven by keyboard as staff would: writing to the client (S5),
client replies arriving through sync, the rule's message when Messages are not permitted, and
a restricted party who neither reads nor writes (M5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import OptionList, Static, TextArea

from portal_tui.domain import Category, ItemKind, PartyAccess, texts
from portal_tui.domain.decision import Refused
from portal_tui.repository.worker import PassReport
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.modals import Notice
from portal_tui.tui.matter.matter_details import SECTIONS, MatterDetails
from portal_tui.tui.matter.messages_section import MessagesSection
from portal_tui.tui.messages import DeliveryPassed, PortalSynced

from .helpers import (
    ADMIN,
    BILLING,
    NORMAL,
    SIZE,
    AppPilot,
    Table,
    TuiFirm,
    cell,
    dialog,
    ids,
    screen_text,
)
from .pilot import choose, matter_section, open_matter, screen_of, started, until


def section(app: PortalApp) -> MessagesSection:
    return app.screen.query_one(MessagesSection)


def reading(app: PortalApp) -> str:
    return str(app.screen.query_one("#message-body", Static).content)


async def write_and_send(pilot: AppPilot, words: str) -> None:
    """`n` to the compose box, type, Ctrl+S."""
    await pilot.press("n")
    box = section(pilot.app).compose_box  # type: ignore[arg-type]
    await until(pilot, lambda: box.has_focus, "the compose box")
    await pilot.press(*words)
    assert box.text == words
    await pilot.press("ctrl+s")


def staff_id(firm: TuiFirm, login: str) -> int:
    return next(s.id for s in firm.system.list_staff() if s.login == login)


async def test_s5_staff_write_to_the_client_then_the_reply_comes_back(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        thread: Table = await matter_section(pilot, "messages")
        assert ids(thread) == []
        assert "No messages" in reading(app)

        await write_and_send(pilot, "Your papers are ready to sign.")
        await until(pilot, lambda: len(thread.rows_shown) == 1, "the message in the thread")
        (sent,) = thread.rows_shown
        # Shared as it was sent: pending until delivered (this app does not deliver).
        share = tui_firm.share(ItemKind.MESSAGE, sent.id)
        assert share.wanted
        assert cell(thread, sent.id, "share") == app.glyphs.pending
        assert cell(thread, sent.id, "From") == "Avery Admin"
        assert "Your papers are ready to sign." in reading(app)
        assert "Sharing: waiting for delivery" in reading(app)
        assert section(app).compose_box.text == ""
        assert not tui_firm.row(ItemKind.MESSAGE, sent.id).from_client

        # The client answers in the portal; sync records it, as the delivery worker does.
        reply = tui_firm.repo().record_client_reply(
            tui_firm.on_matter,
            portal_ref="reply-1",
            author_name="Ada Byrne",
            body="Thank you, I will come on Monday.",
            sent_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        assert reply is not None
        app.post_message(DeliveryPassed(PassReport(0, 0, 0, 1, None)))
        await until(pilot, lambda: ids(thread) == [sent.id, reply], "the reply in the thread")
        # Newest at the bottom, and the cursor follows it there.
        await until(pilot, lambda: "Thank you, I will come" in reading(app), "the reply read")
        assert thread.current is not None and thread.current.id == reply
        assert cell(thread, reply, "From") == "Ada Byrne (client)"
        assert "(client)" in reading(app)

        # The thread's own refresh, on the message the app sends every widget after a sync.
        later = tui_firm.repo().record_client_reply(
            tui_firm.on_matter,
            portal_ref="reply-2",
            author_name="Ada Byrne",
            body="See you then.",
            sent_at=datetime.now(UTC) + timedelta(minutes=6),
        )
        thread.post_message(PortalSynced())
        await until(pilot, lambda: ids(thread)[-1:] == [later], "the second reply")
        await until(pilot, lambda: "See you then." in reading(app), "the second reply read")


async def test_s5_esc_leaves_the_compose_box_and_keeps_the_draft(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        thread = await matter_section(pilot, "messages")
        await pilot.press("n", *"Draft")
        await pilot.press("escape")
        assert thread.has_focus
        assert isinstance(app.screen, MatterDetails)
        assert section(app).compose_box.text == "Draft"


@pytest.mark.parametrize(
    ("matter", "message"),
    [
        (
            "narrow",
            texts.CATEGORY_NOT_PERMITTED_MATTER.format(category=Category.MESSAGES.label),
        ),
        ("off", texts.MATTER_PORTAL_OFF),
    ],
)
async def test_s5_f4_sending_where_messages_are_not_permitted_says_why_and_keeps_nothing(
    tui_firm: TuiFirm, matter: str, message: str
) -> None:
    matter_id = {"narrow": tui_firm.narrow_matter, "off": tui_firm.off_matter}[matter]
    if matter == "narrow":
        tui_firm.repo(ADMIN).set_matter_permissions(
            matter_id, [c for c in Category if c is not Category.MESSAGES]
        )
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, matter_id)
        await matter_section(pilot, "messages")
        await write_and_send(pilot, "Hello")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Send Message", message)
        await pilot.press("enter")
        await screen_of(pilot, MatterDetails)
        assert tui_firm.count(ItemKind.MESSAGE, matter_id) == 0
        assert section(app).compose_box.text == "Hello"  # the draft is not lost


async def test_r1_billing_user_reads_the_thread_but_is_not_offered_to_write(
    tui_firm: TuiFirm,
) -> None:
    tui_firm.repo(ADMIN).add_message(tui_firm.on_matter, body="Invoice questions?", share=True)
    app = tui_firm.app(BILLING)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        thread = await matter_section(pilot, "messages")
        await until(pilot, lambda: len(thread.rows_shown) == 1, "the message")
        refusal = texts.ROLE_CANNOT_SHARE.format(role="Billing", plural="messages")
        assert refusal in " ".join(screen_text(app).split())
        assert not app.screen.query(TextArea)
        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Send Message", refusal)


async def test_m5_restricted_party_neither_reads_nor_writes_client_messages(
    tui_firm: TuiFirm,
) -> None:
    admin = tui_firm.repo(ADMIN)
    admin.add_message(tui_firm.on_matter, body="Private advice for Ada", share=True)
    admin.set_party_access(tui_firm.on_matter, staff_id(tui_firm, NORMAL), PartyAccess.RESTRICTED)
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        details = await open_matter(pilot, tui_firm.on_matter)
        nav = details.query_one("#matter-nav", OptionList)
        await choose(pilot, nav, [key for key, _ in SECTIONS].index("messages"))
        await until(pilot, lambda: section(app).has_class("-restricted"), "the M5 check")
        await pilot.pause()

        shown = " ".join(screen_text(app).split())
        assert texts.MESSAGES_RESTRICTED in shown
        assert "Private advice" not in shown
        # Nothing of the thread can be reached: no list, no compose box.
        assert not any(box.focusable for box in app.screen.query(TextArea))
        assert not section(app).pane.table.focusable
        assert app.focused is nav
        await pilot.press("ctrl+s", "n")
        assert isinstance(app.screen, MatterDetails)
        assert tui_firm.count(ItemKind.MESSAGE, tui_firm.on_matter) == 1

    # The repository enforces it too, whatever a screen does.
    normal = tui_firm.repo(NORMAL)
    with pytest.raises(Refused) as refused:
        normal.add_message(tui_firm.on_matter, body="Hi", share=True)
    assert refused.value.rule == "M5"
    assert normal.list_messages(matter_id=tui_firm.on_matter).rows == ()
    assert tui_firm.count(ItemKind.MESSAGE, tui_firm.on_matter) == 1

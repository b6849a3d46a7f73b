"""Preview as client, from Matter Details > Client Portal (`p`, or the button by mouse): for each
active contact, what that contact sees in the portal now, by category (P3, S7, M2, M4, C2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from textual.widgets import Static

from portal_tui.domain import Category, ItemKind, texts
from portal_tui.tui.matter.client_preview import ClientPreview
from portal_tui.tui.matter.matter_details import MatterDetails

from .helpers import ADMIN, READER, SIZE, TIMEOUT_S, AppPilot, TuiFirm, screen_text
from .pilot import screen_of, started
from .test_matter_portal import portal_pane

ACTIVATED = datetime(2026, 11, 2, 18, 30, tzinfo=UTC)


def active_contact(firm: TuiFirm, matter_id: int, name: str, email: str) -> int:
    """A contact who accepted the invitation, as sync would have recorded it."""
    system = firm.system
    client = system.matter(matter_id).client
    client_id = client.id if client.name == name else system.add_client(name, primary_email=email)
    contact = system.invite_contact(matter_id, client_id, name=name, email=email)
    system.record_contact_activated(contact, ACTIVATED)
    return contact


async def preview(pilot: AppPilot, matter_id: int) -> str:
    """Matter Details > Client Portal > `p`: the preview as it reads."""
    await portal_pane(pilot, matter_id)
    await pilot.press("p")
    shown: ClientPreview = await screen_of(pilot, ClientPreview)
    await asyncio.wait_for(shown.loaded.wait(), TIMEOUT_S)
    await pilot.pause()
    return str(shown.query_one("#preview", Static).content)


def section(text: str, name: str) -> str:
    """One contact's part of the preview: from their name to the next blank line."""
    return text[text.index(name) :].split("\n\n", 1)[0]


async def test_p3_a_shared_note_in_a_permitted_category_shows_and_an_unshared_one_does_not(
    tui_firm: TuiFirm,
) -> None:
    active_contact(tui_firm, tui_firm.on_matter, "Ada Byrne", "ada@example.test")
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    tui_firm.share_now(ItemKind.EVENT, tui_firm.event)
    # The task stays unshared; the Draft invoice is shared, then unshared again.
    tui_firm.share_now(ItemKind.INVOICE, tui_firm.draft_invoice)
    tui_firm.repo(ADMIN).unshare(ItemKind.INVOICE, tui_firm.draft_invoice)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        text = await preview(pilot, tui_firm.on_matter)
        ada = section(text, "Ada Byrne  <ada@example.test>")
        assert "Notes\n" in ada and "Call with Ada" in ada
        assert "Calendar Events\n" in ada and "Probate hearing" in ada
        assert "Sign the inventory" not in ada  # never shared
        assert "INV-0002" not in ada  # unshared
        assert app.glyphs.pending in ada  # delivery is off here: shown as on its way
        await pilot.press("escape")
        await screen_of(pilot, MatterDetails)


async def test_m2_a_category_not_permitted_on_the_matter_does_not_show(tui_firm: TuiFirm) -> None:
    active_contact(tui_firm, tui_firm.on_matter, "Ada Byrne", "ada@example.test")
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    tui_firm.share_now(ItemKind.TASK, tui_firm.task)
    tui_firm.repo(ADMIN).set_matter_permissions(
        tui_firm.on_matter, [c for c in Category if c is not Category.NOTES]
    )
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        text = await preview(pilot, tui_firm.on_matter)
        assert "Sign the inventory" in text
        assert "Call with Ada" not in text and "  Notes\n" not in text
        assert "Notes" not in text.split("Portal screens: ")[1].splitlines()[0]


async def test_c2_a_disabled_contact_is_not_listed(tui_firm: TuiFirm) -> None:
    active_contact(tui_firm, tui_firm.on_matter, "Ada Byrne", "ada@example.test")
    bob = active_contact(tui_firm, tui_firm.on_matter, "Bob Byrne", "bob@example.test")
    tui_firm.repo(ADMIN).disable_contact(bob)
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    app = tui_firm.app(READER)  # reading only: any role may look
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        text = await preview(pilot, tui_firm.on_matter)
        assert "Ada Byrne" in text and "Call with Ada" in text
        assert "Bob Byrne" not in text


async def test_m4_with_the_matter_off_nobody_sees_anything_and_the_preview_says_why(
    tui_firm: TuiFirm,
) -> None:
    active_contact(tui_firm, tui_firm.on_matter, "Ada Byrne", "ada@example.test")
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    tui_firm.repo(ADMIN).set_matter_portal(tui_firm.on_matter, False, confirmed=True)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        text = await preview(pilot, tui_firm.on_matter)
        assert texts.PREVIEW_MATTER_OFF in text
        assert "Call with Ada" not in text


async def test_p3_client_data_shows_as_written_and_the_button_opens_it_by_mouse(
    tui_firm: TuiFirm,
) -> None:
    """The OFF matter's client is "Smith [Deceased]" and its note "[b]bold[/b]": no markup."""
    system = tui_firm.system
    system.set_matter_portal(tui_firm.off_matter, True)
    active_contact(tui_firm, tui_firm.off_matter, "Smith [Deceased]", "smith@example.test")
    tui_firm.share_now(ItemKind.NOTE, tui_firm.off_note)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await portal_pane(pilot, tui_firm.off_matter)
        assert await pilot.click("#portal-preview")
        shown: ClientPreview = await screen_of(pilot, ClientPreview)
        await asyncio.wait_for(shown.loaded.wait(), TIMEOUT_S)
        await pilot.pause()
        on_screen = screen_text(app)
        assert "Smith [Deceased]  <smith@example.test>" in on_screen
        assert "[b]bold[/b]" in on_screen

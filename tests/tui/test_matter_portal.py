"""Matter Details > Client Portal driven as staff would drive it, by keyboard unless a test says
mouse: the matter's switch (M1, M3, M4), its permissions (M2, F4), its contacts (C1-C3), its
parties (M5), and what Billing and Read-only users are not offered (R1) — each with the exact
words of texts.py, and the repository checked afterwards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, OptionList, Static

from portal_tui.domain import (
    Category,
    ContactStatus,
    ItemKind,
    PartyAccess,
    ShareState,
    StaffRole,
    texts,
)
from portal_tui.repository.worker import PassReport
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.modals import ActionMenu, Confirm, Notice
from portal_tui.tui.common.tick_box import TickBox
from portal_tui.tui.matter.invite_contact import InviteContact
from portal_tui.tui.matter.matter_details import SECTIONS, MatterDetails
from portal_tui.tui.matter.matter_portal import MatterPortal
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.messages import DeliveryPassed

from .helpers import (
    ADMIN,
    BILLING,
    NORMAL,
    READER,
    SIZE,
    TIMEOUT_S,
    AppPilot,
    TuiFirm,
    cell,
    dialog,
    options,
)
from .pilot import choose, click_option, open_matter, screen_of, started, until

ACTIVATED = datetime(2026, 11, 2, 18, 30, tzinfo=UTC)


# Getting there, and reading the pane -----------------------------------------------------------


async def portal_pane(pilot: AppPilot, matter_id: int) -> MatterPortal:
    """Matters > the matter > Enter > Client Portal > Enter, the pane read."""
    app = pilot.app
    await open_matter(pilot, matter_id)
    nav = app.screen.query_one("#matter-nav", OptionList)
    await choose(pilot, nav, [key for key, _ in SECTIONS].index("portal"))
    pane = app.screen.query_one(MatterPortal)
    await asyncio.wait_for(pane.loaded.wait(), TIMEOUT_S)
    await pilot.pause()
    return pane


async def tab_to(pilot: AppPilot, widget: Widget) -> None:
    """Tab until `widget` has the focus."""
    for _ in range(40):
        if pilot.app.focused is widget:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab never reached {widget!r}")


def contacts(pane: MatterPortal) -> list[tuple[str, ...]]:
    """The contact list as shown: name, email, status, last login."""
    table = pane.query_one("#portal-contacts", DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def parties(pane: MatterPortal) -> dict[str, str]:
    table = pane.query_one("#portal-parties", DataTable)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    return {str(row[0]): str(row[2]) for row in rows}


async def answer(pilot: AppPilot, key: str, under: object) -> None:
    """Answer the box on top with `key` and wait for it to close."""
    await pilot.press(key)
    await until(pilot, lambda: pilot.app.screen is under, "the box to close")


async def menu(pilot: AppPilot) -> list[str]:
    """`a`: the Action menu of the highlighted contact; its choices."""
    await pilot.press("a")
    await screen_of(pilot, ActionMenu)
    app = pilot.app
    assert isinstance(app, PortalApp)
    return options(app)


def add_contact(firm: TuiFirm, *, active: bool) -> int:
    """Ada Byrne invited to the ON matter before the app starts, activated if asked."""
    system = firm.system
    client = system.matter(firm.on_matter).client
    contact = system.invite_contact(
        firm.on_matter, client.id, name=client.name, email="ada@example.test"
    )
    if active:
        system.record_contact_activated(contact, ACTIVATED)
    return contact


def portal_icon(app: PortalApp, table: ItemTable[object], matter_id: int) -> bool:
    return cell(table, matter_id, "Client").startswith(app.glyphs.portal)


# M1 ------------------------------------------------------------------------------------------


async def test_m1_inviting_on_a_matter_whose_portal_is_off_is_refused_and_changes_nothing(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app()
    client = tui_firm.system.matter(tui_firm.off_matter).client
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.off_matter)
        details = app.screen
        assert not pane.query_one("#portal-switch", TickBox).value
        await tab_to(pilot, pane.query_one("#portal-invite", Button))
        await pilot.press("enter")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Invite Contact", texts.MATTER_PORTAL_OFF)
        await answer(pilot, "enter", details)

        # The Action menu of an empty contact list offers Invite Contact: refused the same way.
        assert await menu(pilot) == ["Invite Contact"]
        await pilot.press("enter")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Invite Contact", texts.MATTER_PORTAL_OFF)
        await answer(pilot, "enter", details)
        assert not any(isinstance(s, InviteContact) for s in app.screen_stack)

    assert tui_firm.system.contacts(tui_firm.off_matter) == []
    assert tui_firm.system.client(client.id).primary_email == client.primary_email


# M4 (and M3) ---------------------------------------------------------------------------------


async def test_m4_off_asks_no_keeps_it_on_yes_hides_the_icon_and_on_again_republishes(
    tui_firm: TuiFirm,
) -> None:
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    version = tui_firm.record(ItemKind.NOTE, tui_firm.note).version
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        assert portal_icon(app, matters, tui_firm.on_matter)  # M3
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        switch = pane.query_one("#portal-switch", TickBox)
        assert app.focused is switch and switch.value

        # Space asks first; No (focused, the safe choice) leaves the portal ON.
        await pilot.press("space")
        await screen_of(pilot, Confirm)
        assert dialog(app) == ("Client Portal", texts.MATTER_OFF_CONFIRM)
        assert app.focused is not None and app.focused.id == "no"
        await answer(pilot, "n", details)
        await until(pilot, lambda: pane.loaded.is_set() and switch.value, "the switch back ON")
        assert tui_firm.system.matter(tui_firm.on_matter).portal_enabled

        # Yes turns it OFF: the pane says so, and the Matters list loses the portal icon.
        await pilot.press("space")
        await screen_of(pilot, Confirm)
        await answer(pilot, "y", details)
        await until(
            pilot,
            lambda: (
                not tui_firm.system.matter(tui_firm.on_matter).portal_enabled
                and pane.loaded.is_set()
                and str(switch.label) == "Client portal: OFF"
            ),
            "the portal OFF",
        )
        assert not switch.value
        await pilot.press("escape", "escape")  # the section, then the matter's tabs: out
        await screen_of(pilot, MainScreen)
        await until(
            pilot, lambda: not portal_icon(app, matters, tui_firm.on_matter), "the icon to go"
        )
        share = tui_firm.share(ItemKind.NOTE, tui_firm.note)
        assert share.wanted  # M4: the share marks are kept

        # Back ON: the note still marked shared is offered for publishing again; Yes.
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        await pilot.press("space")
        await screen_of(pilot, Confirm)
        assert dialog(app) == ("Client Portal", texts.MATTER_REPUBLISH_OFFER.format(count=1))
        await answer(pilot, "y", details)
        await until(
            pilot,
            lambda: tui_firm.record(ItemKind.NOTE, tui_firm.note).version == version + 1,
            "the note published again",
        )
        share = tui_firm.share(ItemKind.NOTE, tui_firm.note)
        assert share.wanted and share.state in (ShareState.PENDING, ShareState.SHARED)
        actions = [a.action for a in tui_firm.system.audit_for_item("note", tui_firm.note)]
        assert actions[-1] == "republish"
        await pilot.press("escape", "escape")  # the section, then the matter's tabs: out
        await screen_of(pilot, MainScreen)
        await until(pilot, lambda: portal_icon(app, matters, tui_firm.on_matter), "the icon back")


async def test_m4_declining_to_publish_again_lets_the_marks_go(tui_firm: TuiFirm) -> None:
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    tui_firm.repo(ADMIN).set_matter_portal(tui_firm.on_matter, False, confirmed=True)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        await pilot.press("space")
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == texts.MATTER_REPUBLISH_OFFER.format(count=1)
        await answer(pilot, "n", app.screen_stack[-2])
        await until(
            pilot, lambda: not tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted, "the unshare"
        )
        await until(pilot, lambda: pane.query_one("#portal-switch", TickBox).value, "ON")
    assert tui_firm.system.matter(tui_firm.on_matter).portal_enabled


# M2, F4 ------------------------------------------------------------------------------------------


async def test_m2_only_the_firms_categories_are_offered_and_narrowing_is_saved(
    tui_firm: TuiFirm,
) -> None:
    tui_firm.repo(ADMIN).set_firm_portal(permissions=[c for c in Category if c != Category.FORMS])
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        boxes = {c: pane.query_one(f"#perm-{c.value}", TickBox) for c in Category}
        # F4: Forms is not offered, and the pane says why and where to change it.
        assert boxes[Category.FORMS].disabled and not boxes[Category.FORMS].value
        assert all(
            not boxes[c].disabled and boxes[c].value for c in Category if c != Category.FORMS
        )
        hint = pane.query_one("#portal-firm-hint", Static)
        assert str(hint.content) == texts.PERMISSIONS_NOT_AT_FIRM.format(categories="Forms")

        await tab_to(pilot, boxes[Category.NOTES])
        await pilot.press("space")
        await until(
            pilot,
            lambda: Category.NOTES not in tui_firm.system.matter_permissions(tui_firm.on_matter),
            "Notes unchecked for the matter",
        )
        assert not boxes[Category.NOTES].value
    assert tui_firm.system.matter(tui_firm.on_matter).effective_permissions == {
        c for c in Category if c not in (Category.NOTES, Category.FORMS)
    }


# C1 ------------------------------------------------------------------------------------------


async def test_c1_invite_with_a_typed_email_saves_the_clients_primary_email(
    tui_firm: TuiFirm,
) -> None:
    client = tui_firm.system.matter(tui_firm.on_matter).client
    tui_firm.system.edit_client(client.id, primary_email=None)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        assert contacts(pane) == []
        await tab_to(pilot, pane.query_one("#portal-invite", Button))
        await pilot.press("enter")
        invite = await screen_of(pilot, InviteContact)
        # The box shows the client's name, and an email line to type into.
        assert str(invite.query_one("#invite-name", Static).content) == "Client: Ada Byrne"
        email = invite.query_one("#invite-email", Input)
        assert app.focused is email and email.value == ""
        hints = [str(s.content) for s in invite.query(".invite-hint").results(Static)]
        assert texts.INVITE_EMAIL_BECOMES_PRIMARY.format(name="Ada Byrne") in hints

        # A bad address is refused in the box, which stays open.
        await pilot.press(*"ada-at-home", "enter")
        error = invite.query_one("#invite-error", Static)
        await until(pilot, lambda: str(error.content), "the refusal")
        assert str(error.content) == texts.CONTACT_BAD_EMAIL.format(email="ada-at-home")
        assert app.screen is invite

        email.value = ""
        await pilot.press(*"ada.byrne@example.test", "enter")
        await screen_of(pilot, Notice)
        assert dialog(app) == (
            "Invite Contact",
            texts.CONTACT_INVITED.format(email="ada.byrne@example.test"),
        )
        await answer(pilot, "enter", details)
        await until(pilot, lambda: contacts(pane), "the contact listed")
        name, shown_email, status, last_login = contacts(pane)[0]
        assert (name, shown_email, status, last_login) == (
            "Ada Byrne",
            "ada.byrne@example.test",
            "Invited",
            "never",
        )
    assert tui_firm.system.client(client.id).primary_email == "ada.byrne@example.test"
    [contact] = tui_firm.system.contacts(tui_firm.on_matter)
    assert contact.status is ContactStatus.INVITED


# C2 ------------------------------------------------------------------------------------------


async def test_c2_disable_says_disabled_and_enable_asks_first(tui_firm: TuiFirm) -> None:
    contact = add_contact(tui_firm, active=True)
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        await tab_to(pilot, pane.query_one("#portal-contacts", DataTable))
        assert contacts(pane)[0][2] == "Active"

        # C3: no Re-invite for a contact with an account (the portal would send nothing).
        assert await menu(pilot) == [
            "Disable Access",
            "Remove Access",
            "Sign out everywhere",
            "Reset Two-Factor",
        ]
        await choose(pilot, app.screen.query_one(OptionList), 0)
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Disable Access", "Client portal access has been disabled.")
        await answer(pilot, "enter", details)
        await until(pilot, lambda: contacts(pane)[0][2] == "Disabled", "Disabled shown")
        assert tui_firm.system.contact(contact).status is ContactStatus.DISABLED

        # Enable asks first; No (focused) leaves the contact disabled.
        assert await menu(pilot) == [
            "Enable Access",
            "Remove Access",
            "Sign out everywhere",
            "Reset Two-Factor",
        ]
        await choose(pilot, app.screen.query_one(OptionList), 0)
        await screen_of(pilot, Confirm)
        assert dialog(app) == (
            "Enable Access",
            texts.CONTACT_ENABLE_CONFIRM.format(name="Ada Byrne"),
        )
        assert app.focused is not None and app.focused.id == "no"
        await answer(pilot, "n", details)
        assert tui_firm.system.contact(contact).status is ContactStatus.DISABLED

        await menu(pilot)
        await choose(pilot, app.screen.query_one(OptionList), 0)
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Enable Access", texts.CONTACT_ENABLED)
        await answer(pilot, "enter", details)
        await until(pilot, lambda: contacts(pane)[0][2] == "Active", "Active shown")
    assert tui_firm.system.contact(contact).status is ContactStatus.ACTIVE


async def test_c2_disable_access_by_mouse(tui_firm: TuiFirm) -> None:
    contact = add_contact(tui_firm, active=True)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        assert await pilot.click("#portal-action")
        await screen_of(pilot, ActionMenu)
        assert options(app)[0] == "Disable Access"
        await click_option(pilot, 0)
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.CONTACT_DISABLED
        assert await pilot.click("#ok")
        await until(pilot, lambda: app.screen is details, "the Notice to close")
        await until(pilot, lambda: contacts(pane)[0][2] == "Disabled", "Disabled shown")
    assert tui_firm.system.contact(contact).status is ContactStatus.DISABLED


# C3 ------------------------------------------------------------------------------------------


async def test_c3_reinvite_then_remove_warns_and_invite_is_offered_again(
    tui_firm: TuiFirm,
) -> None:
    contact = add_contact(tui_firm, active=False)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        await tab_to(pilot, pane.query_one("#portal-contacts", DataTable))

        # Re-invite Contact sends the invitation again.
        assert await menu(pilot) == ["Disable Access", "Remove Access", "Re-invite Contact"]
        await choose(pilot, app.screen.query_one(OptionList), 2)
        await screen_of(pilot, Notice)
        assert dialog(app) == (
            "Re-invite Contact",
            texts.CONTACT_REINVITED.format(email="ada@example.test"),
        )
        await answer(pilot, "enter", details)
        assert tui_firm.system.contact(contact).invitations_sent == 2

        # Remove Access warns first; Yes removes.
        await menu(pilot)
        await choose(pilot, app.screen.query_one(OptionList), 1)
        await screen_of(pilot, Confirm)
        assert dialog(app) == (
            "Remove Access",
            texts.CONTACT_REMOVE_WARNING.format(name="Ada Byrne"),
        )
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("y")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Remove Access", texts.CONTACT_REMOVED)
        await answer(pilot, "enter", details)
        await until(pilot, lambda: contacts(pane)[0][2] == "Removed", "Removed shown")

        # Afterwards the contact offers Invite Contact again, with its email filled in.
        assert await menu(pilot) == ["Invite Contact"]
        await pilot.press("enter")
        invite = await screen_of(pilot, InviteContact)
        assert invite.query_one("#invite-email", Input).value == "ada@example.test"
        await pilot.press("enter")
        await screen_of(pilot, Notice)
        assert dialog(app) == (
            "Invite Contact",
            texts.CONTACT_INVITED.format(email="ada@example.test"),
        )
        await answer(pilot, "enter", details)
        await until(pilot, lambda: contacts(pane)[0][2] == "Invited", "Invited shown")
    assert tui_firm.system.contact(contact).invitations_sent == 3


# M5 ------------------------------------------------------------------------------------------


async def test_m5_a_party_is_restricted_and_allowed_again_by_keyboard(tui_firm: TuiFirm) -> None:
    jo = next(s for s in tui_firm.system.list_staff() if s.login == NORMAL)
    app = tui_firm.app()

    def access() -> PartyAccess:
        return next(
            p.access for p in tui_firm.system.parties(tui_firm.on_matter) if p.login == NORMAL
        )

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        table = pane.query_one("#portal-parties", DataTable)
        assert parties(pane)[jo.name] == "Allowed"
        await tab_to(pilot, table)
        names = list(parties(pane))
        while table.cursor_row != names.index(jo.name):
            await pilot.press("down")
        await pilot.press("space")
        await until(pilot, lambda: parties(pane)[jo.name] == "Restricted", "Restricted shown")
        assert access() is PartyAccess.RESTRICTED
        assert table.cursor_row == names.index(jo.name)  # the cursor stays on the row
        await pilot.press("enter")
        await until(pilot, lambda: parties(pane)[jo.name] == "Allowed", "Allowed shown")
        assert access() is PartyAccess.ALLOWED


# R1 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", [BILLING, READER])
async def test_r1_billing_and_read_only_are_not_offered_portal_or_contact_actions(
    tui_firm: TuiFirm, login: str
) -> None:
    contact = add_contact(tui_firm, active=True)
    app = tui_firm.app(login)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        # Not offered: the switch, the boxes, Invite Contact and Action are all disabled.
        for selector in ("#portal-switch", "#portal-invite", "#portal-action"):
            assert pane.query_one(selector).disabled, selector
        assert all(box.disabled for box in pane.query("#portal-permissions TickBox"))
        role_hint = pane.query_one("#portal-role-hint", Static)
        assert str(role_hint.content) == texts.ROLE_CANNOT_MANAGE_PORTAL

        # A direct attempt (the Action key on the contact) is refused, and nothing changes.
        await tab_to(pilot, pane.query_one("#portal-contacts", DataTable))
        await pilot.press("a")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Client Portal", texts.ROLE_CANNOT_INVITE)
        await answer(pilot, "enter", details)
        await pilot.press("enter")  # Enter on the contact: the same refusal
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.ROLE_CANNOT_INVITE
        await answer(pilot, "enter", details)
        assert not any(isinstance(s, ActionMenu) for s in app.screen_stack)

        # Switching a party is refused too.
        await tab_to(pilot, pane.query_one("#portal-parties", DataTable))
        await pilot.press("space")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Client Portal Parties", texts.ROLE_CANNOT_MANAGE_PORTAL)
        await answer(pilot, "enter", details)
    assert tui_firm.system.contact(contact).status is ContactStatus.ACTIVE
    assert all(p.access is PartyAccess.ALLOWED for p in tui_firm.system.parties(tui_firm.on_matter))
    assert tui_firm.system.matter(tui_firm.on_matter).portal_enabled


# Sync ----------------------------------------------------------------------------------------


async def test_p1_activation_and_last_login_arrive_through_sync(tui_firm: TuiFirm) -> None:
    contact = add_contact(tui_firm, active=False)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        assert contacts(pane)[0][2:] == ("Invited", "never")
        tui_firm.system.record_contact_activated(contact, ACTIVATED)
        tui_firm.system.record_contact_login(contact, ACTIVATED)
        app.post_message(DeliveryPassed(PassReport(0, 0, 0, 1, None)))
        shown = ACTIVATED.astimezone().strftime("%Y-%m-%d")
        await until(pilot, lambda: contacts(pane)[0][2:] == ("Active", shown), "the sync shown")


async def test_the_pane_fits_80x24_and_scrolls_to_what_has_the_focus(tui_firm: TuiFirm) -> None:
    add_contact(tui_firm, active=True)
    for n in range(8):  # more parties than 24 lines hold
        tui_firm.system.add_staff(
            f"staff{n}", f"Staff Member {n}", f"s{n}@firm.test", StaffRole.NORMAL
        )
    app = tui_firm.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        assert pane.max_scroll_y > 0  # it scrolls rather than cut anything off
        table = pane.query_one("#portal-parties", DataTable)
        await tab_to(pilot, table)
        await pilot.press("end")
        await pilot.pause()
        assert pane.scroll_y > 0
        cursor = table.region.y + table.cursor_row + 1 - int(table.scroll_y)  # below the header
        assert pane.region.y <= cursor < pane.region.bottom
        assert isinstance(app.screen, MatterDetails)


# Two-factor sign-in ---------------------------------------------------------------------------


async def test_a_matter_is_marked_sensitive_from_its_client_portal(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        sensitive = pane.query_one("#portal-sensitive", TickBox)
        assert sensitive.value is False
        await tab_to(pilot, sensitive)
        await pilot.press("space")
        await until(
            pilot,
            lambda: tui_firm.system.matter(tui_firm.on_matter).sensitive,
            "the matter marked sensitive",
        )


async def test_staff_reset_a_contacts_two_factor_after_confirming(tui_firm: TuiFirm) -> None:
    contact = add_contact(tui_firm, active=True)
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        details = app.screen
        await tab_to(pilot, pane.query_one("#portal-contacts", DataTable))
        entries = await menu(pilot)
        await choose(pilot, app.screen.query_one(OptionList), entries.index("Reset Two-Factor"))
        await screen_of(pilot, Confirm)
        assert dialog(app) == (
            "Reset Two-Factor",
            texts.TWO_FACTOR_RESET_CONFIRM.format(name="Ada Byrne"),
        )
        await pilot.press("y")
        await screen_of(pilot, Notice)
        assert dialog(app) == (
            "Reset Two-Factor",
            texts.TWO_FACTOR_RESET_DONE.format(email="ada@example.test"),
        )
        await answer(pilot, "enter", details)
    history = tui_firm.system.contact(contact)
    assert history.status is ContactStatus.ACTIVE  # access itself unchanged

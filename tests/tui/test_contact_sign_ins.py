"""The contact's sign-ins on Matter Details > Client Portal, with the embedded portal really
running: the client activates through the emailed invitation, the highlighted contact shows
their two-factor, last sign-in and live sessions, and "Sign out everywhere" from the Action
menu (asked first) ends the client's session, which their browser finds at its next request."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, OptionList, Static

from portal_tui.config import load_settings
from portal_tui.domain import ContactStatus, texts
from portal_tui.tui.common.modals import Confirm, Notice

from ..delivery.support import Browser, invitation_links
from .helpers import SIZE, TuiFirm, dialog
from .pilot import choose, screen_of, started, until
from .test_app import DELIVERY_DEADLINE_S
from .test_matter_portal import add_contact, menu, portal_pane, tab_to


def sign_ins(app: object) -> str:
    line = app.screen.query_one("#portal-sign-ins", Static)  # type: ignore[attr-defined]
    return str(line.render())


async def test_c1_staff_see_the_sign_ins_and_sign_the_client_out_everywhere(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    contact = add_contact(tui_firm, active=False)  # invited: the invitation goes on delivery
    data = tmp_path / "data"
    settings = load_settings(
        flags={},
        env={"PORTAL_TUI_DATA_DIR": str(data), "PORTAL_TUI_CONFIG": str(tmp_path / "none.toml")},
    )
    app = tui_firm.app(settings=settings, deliver=True)
    browser: Browser | None = None
    async with app.run_test(size=SIZE) as pilot:
        try:
            await started(app, pilot)
            mail = data / "portal" / "mail"
            await until(
                pilot,
                lambda: bool(invitation_links(mail, "ada@example.test")),
                "the invitation email",
                DELIVERY_DEADLINE_S,
            )
            (link,) = invitation_links(mail, "ada@example.test")
            address = app.portal_address
            assert address is not None
            browser = Browser(address)
            await asyncio.to_thread(browser.accept_invitation, link)  # signed in, one session
            app.wake_delivery()
            await until(
                pilot,
                lambda: tui_firm.system.contact(contact).status is ContactStatus.ACTIVE,
                "the activation to come back",
                DELIVERY_DEADLINE_S,
            )

            pane = await portal_pane(pilot, tui_firm.on_matter)
            details = app.screen
            await tab_to(pilot, pane.query_one("#portal-contacts", DataTable))
            await until(
                pilot,
                lambda: "Active sessions: 1" in sign_ins(app),
                "the contact's sign-ins",
                DELIVERY_DEADLINE_S,
            )
            assert "Two-factor: off" in sign_ins(app)
            assert "Last sign-in: never" not in sign_ins(app)

            choices = await menu(pilot)
            assert texts.CONTACT_SIGN_OUT in choices
            await choose(
                pilot, app.screen.query_one(OptionList), choices.index(texts.CONTACT_SIGN_OUT)
            )
            await screen_of(pilot, Confirm)
            assert dialog(app) == (
                texts.CONTACT_SIGN_OUT,
                texts.CONTACT_SIGN_OUT_CONFIRM.format(name="Ada Byrne"),
            )
            await pilot.press("y")
            await screen_of(pilot, Notice)
            assert dialog(app) == (
                texts.CONTACT_SIGN_OUT,
                texts.CONTACT_SIGNED_OUT.format(name="Ada Byrne", ended=1),
            )
            await pilot.press("enter")
            await screen_of(pilot, type(details))
            answer = await asyncio.to_thread(browser.get, "/account")
            assert answer.url.path == "/login"  # her browser must log in again
            await until(
                pilot,
                lambda: "Active sessions: 0" in sign_ins(app),
                "no session left",
                DELIVERY_DEADLINE_S,
            )
        finally:
            if browser is not None:
                browser.close()

"""The account page and the pages around signing in, in real Chromium: driven from the
keyboard with JavaScript off, the emails read from the portal's mail folder and parsed with the
email package, and axe-core (shipped in axe-playwright-python: no network) finding no
violation on the log-in, forgot, reset, account and access-ended pages. Forgot → the emailed
link → a new password → every other browser signed out → the notice email."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail.sender import send_due

from .axe import assert_accessible, assert_shown_accessible
from .conftest import CONTACT_ANN_A, PASSWORD, Rows
from .test_browser import CHROMIUM, CHROMIUM_ARGS, live_portal, require_chromium

__all__ = ["live_portal"]  # the fixture, used here as in test_browser

NEW_PASSWORD = "lighthouse keeper of the northern isles"
RESET_PASSWORD = "quiet orchards beyond the tidal marsh"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def mail_folder(tmp_path: Path) -> Path:
    # live_portal's service keeps its data in tmp_path/data; its mail goes to data/mail.
    return tmp_path / "data" / "mail"


def deliver(base: str, db: Database, tmp_path: Path) -> list[EmailMessage]:
    """Every email due, sent into the mail folder as the portal's sender does; all read back."""
    config = ServiceConfig(
        database_url=str(db.url), data_dir=tmp_path / "data", base_url=base, send_mail=False
    )
    send_due(db, config)
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(mail_folder(tmp_path).glob("*.eml"))
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def chromium() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, base: str, password: str) -> None:
    """From the keyboard alone: Tab from field to field, Enter sends."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").focus()
    page.keyboard.type("ann@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/m/\d+/$"))


def test_account_page_in_chromium_password_sessions_and_axe(
    live_portal: tuple[str, Database], tmp_path: Path, chromium: Any
) -> None:
    from playwright.sync_api import expect

    base, db = live_portal
    desk = chromium.new_context(java_script_enabled=False)
    phone = chromium.new_context(java_script_enabled=False, user_agent=PHONE)
    page, on_phone = desk.new_page(), phone.new_page()
    for p in (page, on_phone):
        p.set_default_timeout(15_000)

    assert_accessible(chromium, desk, f"{base}/login")
    assert_accessible(chromium, desk, f"{base}/forgot")
    log_in(on_phone, base, PASSWORD)
    log_in(page, base, PASSWORD)

    # Every signed-in page's header leads to the account page.
    page.get_by_role("link", name="Your account").click()
    page.wait_for_url(f"{base}/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("#account-email")).to_have_text("ann@example.com")
    sessions = page.locator("#sessions tbody tr")
    expect(sessions).to_have_count(2)
    expect(sessions.nth(1)).to_contain_text("Mobile Safari on iPhone")
    assert_accessible(chromium, desk, f"{base}/account")

    # A new password, typed: the current one, the new one twice, Enter.
    page.get_by_label("Current password").focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#account-done")).to_have_text(
        "Your password is changed. You are signed out everywhere else."
    )
    expect(sessions).to_have_count(1)
    on_phone.goto(f"{base}/account")
    on_phone.wait_for_url(re.compile(r".*/login\?next="))
    (notice,) = [m for m in deliver(base, db, tmp_path) if "password was changed" in m["Subject"]]
    assert notice["To"] == "ann@example.com"
    assert "was changed on" in text_of(notice)

    # The phone signs in again with the new password; the desk signs it out from the list.
    log_in(on_phone, base, NEW_PASSWORD)
    page.reload()
    expect(sessions).to_have_count(2)
    sign_out = page.get_by_role("button", name=re.compile("^Sign out Mobile Safari on iPhone"))
    sign_out.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#account-done")).to_have_text("That session is signed out.")
    on_phone.goto(f"{base}/account")
    on_phone.wait_for_url(re.compile(r".*/login\?next="))

    # The email preference, chosen with the arrow keys and sent with Enter.
    page.get_by_label("Each new item, as soon as it is shared").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("One digest a day of the previous day's new items")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator("#account-done")).to_have_text("Your email preference is saved.")
    expect(page.get_by_label("One digest a day of the previous day's new items")).to_be_checked()

    # Forgot and reset, the link taken from the email as a client would.
    anonymous = chromium.new_context(java_script_enabled=False)
    asking = anonymous.new_page()
    asking.goto(f"{base}/forgot")
    asking.get_by_label("Email").fill("ann@example.com")
    asking.get_by_role("button", name="Email me a link").click()
    expect(asking.locator("#reset-sent")).to_be_visible()
    assert_accessible(chromium, anonymous, asking.url)  # the "we have emailed it" answer
    (reset,) = [m for m in deliver(base, db, tmp_path) if "Choose a new password" in m["Subject"]]
    link = re.search(r"https?://\S+/reset/\S+", text_of(reset))
    assert link is not None
    assert_accessible(chromium, anonymous, link.group(0))
    # A weak password first: refused with its reason, on a page as clean as the others.
    asking.goto(link.group(0))
    asking.get_by_label("New password", exact=False).first.focus()
    asking.keyboard.type("password1234")
    asking.keyboard.press("Tab")
    asking.keyboard.type("password1234")
    asking.keyboard.press("Enter")
    expect(asking.get_by_text("This password would be easy to guess")).to_be_visible()
    assert_shown_accessible(chromium, asking)  # the answer to the form
    # The new password, typed; this browser is signed in, every other one signed out.
    asking.goto(link.group(0))
    asking.get_by_label("New password", exact=False).first.focus()
    asking.keyboard.type(RESET_PASSWORD)
    asking.keyboard.press("Tab")
    asking.keyboard.type(RESET_PASSWORD)
    asking.keyboard.press("Enter")
    asking.wait_for_url(re.compile(r".*/m/\d+/$"))
    # The link once used is dead, and its page says so, clean too.
    dead = anonymous.new_page()
    dead.goto(link.group(0))
    expect(dead.get_by_text("is not valid any more")).to_be_visible()
    assert_shown_accessible(chromium, dead)
    dead.close()
    page.goto(f"{base}/account")
    page.wait_for_url(re.compile(r".*/login\?next="))
    changed = [m for m in deliver(base, db, tmp_path) if "password was changed" in m["Subject"]]
    assert len(changed) == 2 and changed[-1]["To"] == "ann@example.com", changed
    assert "every other signed-in browser was signed out" in " ".join(text_of(changed[-1]).split())

    # Access ended: the next page says so plainly, and that page is clean too.
    Rows(db).set_contact(CONTACT_ANN_A, status="disabled")
    ended = chromium.new_context(storage_state=anonymous.storage_state())
    try:
        gone = ended.new_page()
        gone.goto(f"{base}/account")
        expect(gone.get_by_role("heading", name="Your access has ended")).to_be_visible()
        assert_shown_accessible(chromium, gone)  # the session is gone: shown once
    finally:
        ended.close()
    for context in (desk, phone, anonymous):
        context.close()

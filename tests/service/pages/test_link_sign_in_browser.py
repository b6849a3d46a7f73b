"""Sign-in by emailed link in a real browser (Debian's chromium, JavaScript off, a real uvicorn
on loopback): the email is sent to the mail folder by the real sender and read back with the
email package; its link signs in the browser that asked, once; the same link opened in another
browser — another profile, with none of the first one's cookies — is refused. axe-core finds
no violation on the "check your email" page, the link's page or the refusal."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail.sender import send_due

from .axe import assert_accessible, assert_shown_accessible
from .conftest import MATTER_A
from .test_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_portal


def sign_in_email(mail_dir: Path) -> EmailMessage:
    (eml,) = sorted(mail_dir.glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def test_the_emailed_link_signs_in_only_the_browser_that_asked_and_only_once(
    tmp_path: Path,
) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_portal(tmp_path, sign_in_links=True) as (base, db):
        config = ServiceConfig(
            database_url="", data_dir=tmp_path / "data", base_url=base, sign_in_links=True
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                mine = browser.new_context(java_script_enabled=False)
                page = mine.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{base}/login")
                page.get_by_label("Email for the sign-in link").fill("ann@example.com")
                page.get_by_role("button", name="Email me a sign-in link").click()
                expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
                assert_shown_accessible(browser, page)  # the answer to the form

                assert send_due(db, config) == 1
                message = sign_in_email(config.mail_dir)
                assert message["To"] == "ann@example.com"
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                found = re.search(
                    rf"{re.escape(base)}/login/link/[A-Za-z0-9_-]+", body.get_content()
                )
                assert found is not None
                link = found.group(0)

                # The email forwarded to someone else's browser: refused, and nothing spent.
                theirs = browser.new_context(java_script_enabled=False)
                other = theirs.new_page()
                answer = other.goto(link)
                assert answer is not None and answer.status == 404
                expect(other.get_by_text("only in the browser where you asked")).to_be_visible()
                assert_accessible(browser, theirs, link)

                page.goto(link)
                assert_accessible(browser, mine, link)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base}/m/{MATTER_A}/")
                expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

                # Used once: a second visit finds nothing to sign in with.
                again = page.goto(link)
                assert again is not None and again.status == 404
            finally:
                browser.close()

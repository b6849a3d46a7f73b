"""Two-factor sign-in in a real browser with JavaScript off (Chromium via Playwright, uvicorn on
loopback), pyotp computing what the client's authenticator app would show: setup from the
account page with the QR code drawn inline under the strict CSP, the recovery codes shown once,
then a log-in asked for the code, a wrong code refused, and the device remembered for 30 days
(the portal's clock moved by the test); a recovery code signing in once; the setup a firm that
requires two-factor walks the client through after the password; axe-core finds no violation
on any of these pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect, sync_playwright

from portal_tui.database import Database
from portal_tui.domain.states import TwoFactorRequirement
from portal_tui.service import two_factor
from portal_tui.service.models import PortalFirm

from .axe import assert_accessible, assert_shown_accessible
from .conftest import MATTER_A, PASSWORD
from .test_browser import CHROMIUM, CHROMIUM_ARGS, live_portal, require_chromium
from .test_two_factor import Clock

__all__ = ["live_portal"]  # the fixture, shared with test_browser


def test_two_factor_setup_and_sign_in_in_a_real_browser(
    live_portal: tuple[str, Database], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_chromium()
    base, _ = live_portal
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.set_default_timeout(15_000)
            refused_by_csp: list[str] = []
            page.on(
                "console",
                lambda m: refused_by_csp.append(m.text) if "Content Security" in m.text else None,
            )

            def log_in() -> None:
                page.goto(f"{base}/login")
                page.get_by_label("Email").fill("ann@example.com")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()

            log_in()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")

            # Setup: the QR code is an inline <svg> the browser draws, and the key as text.
            assert_accessible(browser, context, f"{base}/account/two-factor")
            page.goto(f"{base}/account/two-factor")
            qr = page.get_by_role("img", name="QR code to add this account")
            expect(qr).to_be_visible()
            box = qr.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100
            secret = page.locator("#secret").inner_text().replace(" ", "")
            totp = pyotp.TOTP(secret)
            page.get_by_label("Code from the app").fill(totp.now())
            page.get_by_role("button", name="Turn on two-factor sign-in").click()
            expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
            assert page.locator("#recovery-codes li").count() == 10
            recovery = page.locator("#recovery-codes li").first.inner_text().strip()
            assert_shown_accessible(browser, page)  # the codes are shown once
            page.get_by_role("link", name="I have kept them: continue").click()
            expect(page.get_by_text("Two-factor sign-in is on since")).to_be_visible()
            assert_accessible(browser, context, page.url)
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(f"{base}/login?out=1")

            # Log-in: the password, then the code; a wrong one is refused.
            log_in()
            page.wait_for_url(f"{base}/login/two-factor")
            page.goto(f"{base}/m/{MATTER_A}/")  # nothing opens before the code
            page.wait_for_url(f"{base}/login?next=**")
            page.goto(f"{base}/login/two-factor")
            assert_accessible(browser, context, page.url)
            page.get_by_label("Code").fill("000000")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("That code is not right")).to_be_visible()
            assert_shown_accessible(browser, page)  # the refusal, with its message
            # A code not used yet (the one of setup is spent): the next step's.
            page.get_by_label("Code").fill(totp.at(datetime.now(UTC) + timedelta(seconds=30)))
            page.get_by_label("Remember this device for 30 days").check()
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")

            # Remembered: the password alone signs in from this browser, for 30 days (the
            # portal runs in this process: its clock is moved here).
            page.get_by_role("button", name="Log out").click()
            log_in()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")
            clock = Clock()
            monkeypatch.setattr(two_factor, "clock", clock)
            clock.offset = timedelta(days=29)
            page.get_by_role("button", name="Log out").click()
            log_in()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")
            clock.offset = timedelta(days=30, seconds=1)
            page.get_by_role("button", name="Log out").click()
            log_in()
            page.wait_for_url(f"{base}/login/two-factor")  # 30 days on: the code again
            page.get_by_label("Code").fill(totp.at(clock()))  # the app, 30 days on
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")
            monkeypatch.undo()

            # A browser not remembered: a recovery code instead of the app's signs in once.
            for attempt in ("first", "again"):
                other = browser.new_context(java_script_enabled=False)
                elsewhere = other.new_page()
                elsewhere.set_default_timeout(15_000)
                elsewhere.goto(f"{base}/login")
                elsewhere.get_by_label("Email").fill("ann@example.com")
                elsewhere.get_by_label("Password").fill(PASSWORD)
                elsewhere.get_by_role("button", name="Log in").click()
                elsewhere.wait_for_url(f"{base}/login/two-factor")
                elsewhere.get_by_label("Code").fill(recovery)
                elsewhere.get_by_role("button", name="Sign in").click()
                if attempt == "first":
                    elsewhere.wait_for_url(f"{base}/m/{MATTER_A}/")
                else:
                    expect(elsewhere.get_by_text("That code is not right")).to_be_visible()
                other.close()
            assert refused_by_csp == []
            context.close()
        finally:
            browser.close()


def test_the_setup_the_firm_requires_after_the_password_in_a_real_browser(
    live_portal: tuple[str, Database], tmp_path: Path
) -> None:
    require_chromium()
    base, db = live_portal
    with db.write() as s:
        firm = s.get(PortalFirm, 1)
        assert firm is not None
        firm.two_factor_required = TwoFactorRequirement.ALL.value
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/login")
            page.get_by_label("Email").fill("ann@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/login/two-factor/setup")
            expect(page.get_by_text("asks you to sign in with a code")).to_be_visible()
            assert_accessible(browser, context, page.url)

            page.get_by_label("Code from the app").fill("000000")
            page.get_by_role("button", name="Turn on two-factor sign-in").click()
            expect(page.get_by_role("alert")).to_be_visible()
            assert_shown_accessible(browser, page)  # the refusal, with its message

            secret = page.locator("#secret").inner_text().replace(" ", "")
            page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
            page.get_by_role("button", name="Turn on two-factor sign-in").click()
            expect(page.locator("#recovery-codes li")).to_have_count(10)
            assert_shown_accessible(browser, page)
            page.get_by_role("link", name="I have kept them: continue").click()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")
            context.close()
        finally:
            browser.close()

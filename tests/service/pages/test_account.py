"""The client's account page, /account (OWASP ASVS V6.2, V7.4, V7.5): a new password with the
current one asked again, the email preference the mail code honours (F5, per client), and the
signed-in sessions, each of which can be signed out, or all but this one."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail.digest import queue_daily_digest
from portal_tui.service.mail.notices import queue_new_items
from portal_tui.service.mail.sender import send_round
from portal_tui.service.models import Account, ClientSession, PortalFirm, PortalItem
from portal_tui.service.pages.auth import verify_password
from portal_tui.sqltypes import utcnow

from .conftest import (
    ANN,
    CONTACT_ANN_A,
    MATTER_A,
    PASSWORD,
    SHOWN,
    Browser,
    Portal,
    Scene,
    csrf_of,
)
from .test_recovery import mails

NEW_PASSWORD = "lighthouse keeper of the northern isles"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def log_in(portal: Portal, user_agent: str) -> Browser:
    browser = portal.anonymous()
    browser.headers["User-Agent"] = user_agent
    answer = browser.post_prelogin("/login", {"email": "ann@example.com", "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    browser.set_cookies(answer)
    browser.csrf = csrf_of(browser.get("/account").text)
    return browser


def sessions_of(portal: Portal, account_id: int = ANN) -> int:
    with portal.db.read() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(ClientSession)
                .where(ClientSession.account_id == account_id)
            )
            or 0
        )


def change(browser: Browser, current: str, new: str, confirm: str | None = None) -> str:
    answer = browser.post(
        "/account/password",
        {"current": current, "password": new, "confirm": new if confirm is None else confirm},
    )
    if answer.status_code == 303:
        return browser.get(answer.headers["location"]).text
    assert answer.status_code == 400, answer.text
    return answer.text


def test_every_signed_in_page_links_to_the_account_page(ann: Browser) -> None:
    for path in (f"/m/{MATTER_A}/", f"/m/{MATTER_A}/invoices", "/matters"):
        assert 'href="/account"' in ann.get(path).text, path
    page = ann.get("/account")
    assert page.status_code == 200
    assert "Ann Smith" in page.text and "ann@example.com" in page.text
    assert 'href="/account/two-factor"' in page.text and "is <strong>off</strong>" in page.text


def test_the_account_page_needs_a_session(portal: Portal, scene: Scene) -> None:
    answer = portal.anonymous().get("/account")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_wrong_current_password_is_refused_and_nothing_changes(
    portal: Portal, scene: Scene
) -> None:
    here, elsewhere = log_in(portal, FIREFOX), log_in(portal, IPHONE)
    page = change(here, "not my password at all", NEW_PASSWORD)
    assert "That is not your current password." in page
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and verify_password(account.password_hash, PASSWORD)
    assert elsewhere.get("/account").status_code == 200
    assert mails(portal, "password_changed") == []


def test_a_weak_new_password_is_refused_with_the_reason(portal: Portal, scene: Scene) -> None:
    here = log_in(portal, FIREFOX)
    assert "Use at least 12 characters." in change(here, PASSWORD, "short one")
    assert "This password would be easy to guess" in change(here, PASSWORD, "password1234")
    # Her own name counts as guessable, as on every new password.
    assert "easy to guess" in change(here, PASSWORD, "Ann Smith Smith")
    mismatch = change(here, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert "The two passwords are not the same." in mismatch
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and verify_password(account.password_hash, PASSWORD)


def test_a_new_password_ends_the_other_sessions_and_emails_the_client(
    portal: Portal, scene: Scene
) -> None:
    here, elsewhere, third = log_in(portal, FIREFOX), log_in(portal, IPHONE), log_in(portal, IPHONE)
    page = change(here, PASSWORD, NEW_PASSWORD)
    assert "Your password is changed. You are signed out everywhere else." in page
    assert here.get("/account").status_code == 200  # this browser stays in
    for other in (elsewhere, third):
        assert other.get("/account").status_code == 303  # sent to log in
    assert sessions_of(portal) == 1
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and verify_password(account.password_hash, NEW_PASSWORD)
    (notice,) = mails(portal, "password_changed")
    assert notice.to_addr == "ann@example.com" and "was changed on" in notice.body
    # The new password logs in; the old one does not.
    fresh = portal.anonymous()
    assert (
        fresh.post_prelogin(
            "/login", {"email": "ann@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )
    assert (
        fresh.post_prelogin(
            "/login", {"email": "ann@example.com", "password": NEW_PASSWORD}
        ).status_code
        == 303
    )


def test_the_sessions_list_shows_each_device_and_signs_one_out(
    portal: Portal, scene: Scene
) -> None:
    here, phone = log_in(portal, FIREFOX), log_in(portal, IPHONE)
    page = here.get("/account").text
    assert "Firefox on Windows" in page and "Mobile Safari on iPhone" in page
    assert "this browser" in page
    # No address is shown (nor kept) unless the firm turns session_places on.
    assert "testclient" not in page and ">Place<" not in page
    refs = re.findall(r'name="session" value="([0-9a-f]+)"', page)
    assert len(refs) == 1  # only the other one can be signed out here
    done = here.post("/account/sessions/end", {"session": refs[0]})
    assert done.status_code == 303
    assert "That session is signed out." in here.get(done.headers["location"]).text
    assert phone.get("/account").status_code == 303
    assert here.get("/account").status_code == 200
    # A reference that names no session of hers (or someone else's) changes nothing.
    assert here.post("/account/sessions/end", {"session": "0" * 24}).status_code == 303
    assert sessions_of(portal) == 1


def test_sign_out_everywhere_else_keeps_only_this_browser(portal: Portal, scene: Scene) -> None:
    here = log_in(portal, FIREFOX)
    others = [log_in(portal, IPHONE) for _ in range(3)]
    bob = portal.as_user(2)
    assert here.post("/account/sessions/end-others").status_code == 303
    assert here.get("/account").status_code == 200
    assert all(o.get("/account").status_code == 303 for o in others)
    assert bob.get("/account").status_code == 200  # another client's session is not touched
    assert sessions_of(portal) == 1


def test_every_form_needs_its_csrf_token(portal: Portal, scene: Scene) -> None:
    here = log_in(portal, FIREFOX)
    for path, data in (
        ("/account/password", {"current": PASSWORD, "password": NEW_PASSWORD}),
        ("/account/email", {"preference": "none"}),
        ("/account/sessions/end-others", {}),
        ("/account/sessions/end", {"session": "x"}),
    ):
        assert here.post(path, {**data, "csrf": "forged"}).status_code == 403, path
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and account.email_preference == "instant"


def test_an_unknown_preference_is_refused_and_nothing_changes(ann: Browser, portal: Portal) -> None:
    answer = ann.post("/account/email", {"preference": "hourly"})
    assert answer.status_code == 400 and "Choose one of the three." in answer.text
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and account.email_preference == "instant"


def test_s7_a_client_whose_access_ended_gets_the_ended_page(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    portal.set_contact(CONTACT_ANN_A, status="disabled")
    answer = ann.get("/account")
    assert answer.status_code == 403 and "Your access to this portal has ended." in answer.text
    assert sessions_of(portal) == 0


@pytest.fixture
def places_portal(portal: Portal) -> Portal:
    portal.client.app.state.config = replace(portal.config, session_places=True)  # type: ignore[attr-defined]
    return portal


def test_the_place_is_kept_and_shown_only_when_the_firm_turns_it_on(
    places_portal: Portal, scene: Scene
) -> None:
    here = log_in(places_portal, FIREFOX)
    page = here.get("/account").text
    assert ">Place<" in page and "testclient" in page


# The email preference, honoured by the mail code -------------------------------------------


def _share_batch(portal: Portal, batch: str) -> None:
    with portal.db.write() as s:
        s.execute(
            update(PortalItem)
            .where(
                PortalItem.kind == ItemKind.NOTE.value, PortalItem.item_id == SHOWN[ItemKind.NOTE]
            )
            .values(batch=batch, published_at=utcnow() - timedelta(days=1))
        )


def _prefer(browser: Browser, preference: str) -> None:
    answer = browser.post("/account/email", {"preference": preference})
    assert answer.status_code == 303
    assert "Your email preference is saved." in browser.get(answer.headers["location"]).text


def _queued(portal: Portal, *, daily_digest: bool) -> tuple[list[str], list[str]]:
    """Who is emailed at once for the batch, and who gets yesterday's digest."""
    with portal.db.write() as s:
        firm = s.get(PortalFirm, 1)
        assert firm is not None
        firm.notify_new_items, firm.daily_digest = True, daily_digest
    with portal.db.write() as s:
        queue_new_items(s, portal.config, "batch-1")
        queue_daily_digest(s, portal.config, (utcnow() - timedelta(days=1)).date())
    return (
        [m.to_addr for m in mails(portal, "new_items")],
        [m.to_addr for m in mails(portal, "digest")],
    )


def test_f5_each_item_at_once_is_the_default(portal: Portal, scene: Scene, ann: Browser) -> None:
    _share_batch(portal, "batch-1")
    assert _queued(portal, daily_digest=False) == (["ann@example.com"], [])


def test_f5_a_client_who_chose_the_digest_gets_one_a_day_and_nothing_at_once(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    _prefer(ann, "digest")
    _share_batch(portal, "batch-1")
    # The firm sends no digest to everyone; this client chose one, so she gets hers.
    assert _queued(portal, daily_digest=False) == ([], ["ann@example.com"])


def test_f5_a_client_who_chose_none_gets_neither_but_security_notices_still_come(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    _prefer(ann, "none")
    _share_batch(portal, "batch-1")
    assert _queued(portal, daily_digest=True) == ([], [])
    change(ann, PASSWORD, NEW_PASSWORD)
    assert [m.to_addr for m in mails(portal, "password_changed")] == ["ann@example.com"]


def test_f5_an_email_queued_before_the_client_chose_none_is_not_sent(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    _share_batch(portal, "batch-1")
    assert _queued(portal, daily_digest=False) == (["ann@example.com"], [])
    _prefer(ann, "none")
    config: ServiceConfig = portal.config
    result = send_round(portal.db, config, now=utcnow() + timedelta(minutes=2))
    assert (result.sent, result.dropped) == (0, 1)
    (row,) = mails(portal, "new_items")
    assert row.sent_at is None and row.dropped_at is not None

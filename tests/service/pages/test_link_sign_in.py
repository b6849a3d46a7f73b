"""Sign-in by emailed link (OWASP ASVS V6.6, NIST SP 800-63B 5.1.3), when the firm turns it on
(`sign_in_links`): the link works once, for 15 minutes, only in the browser that asked for it,
never for a contact whose access has ended; the answer is the same whether or not the address
has an account; off, the log-in page does not offer it and its routes are not there."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select, update

from portal_tui.service import two_factor
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import ClientSession, MailMessage, OneTimeLink, PortalContact
from portal_tui.service.pages.link_sign_in import LINK_GONE
from portal_tui.sqltypes import utcnow

from .conftest import ANN, CONTACT_ANN_A, MATTER_A, Browser, Portal, Scene

ASK = "Email me a sign-in link"
SENT = "we have emailed it a sign-in link"


@pytest.fixture
def service_config(tmp_path: Path, request: pytest.FixtureRequest) -> ServiceConfig:
    """The tests' portal with sign-in links on, unless a test asks for it off."""
    base = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )
    return replace(base, sign_in_links=getattr(request, "param", True))


def mails(portal: Portal) -> list[MailMessage]:
    with portal.db.read() as s:
        return list(s.scalars(select(MailMessage).where(MailMessage.kind == "sign_in_link")))


def ask(browser: Browser, email: str) -> str:
    """Ask for a link as this browser, keeping the cookie the answer sets."""
    answer = browser.post_prelogin("/login/link", {"email": email})
    assert answer.status_code == 200, answer.text
    browser.set_cookies(answer)
    return answer.text


def link_in(mail: MailMessage) -> str:
    found = re.search(r"http://testserver(/login/link/[A-Za-z0-9_-]+)", mail.body)
    assert found is not None, mail.body
    return found.group(1)


def sessions_of_ann(portal: Portal) -> int:
    with portal.db.read() as s:
        return s.scalar(select(func.count()).where(ClientSession.account_id == ANN)) or 0


def test_the_link_signs_in_once_in_the_browser_that_asked(portal: Portal, scene: Scene) -> None:
    login = portal.anonymous().get("/login").text
    assert ASK in login and 'action="/login/link"' in login
    visitor = portal.anonymous()
    assert SENT in ask(visitor, "ANN@example.com")  # any case
    (mail,) = mails(portal)
    assert mail.to_addr == "ann@example.com"
    assert "works once, for 15 minutes" in mail.body and "only in" in mail.body
    path = link_in(mail)

    # Opening it spends nothing (a mail scanner may open links): a button does.
    shown = visitor.get(path)
    assert shown.status_code == 200 and "ann@example.com" in shown.text
    assert visitor.get(path).status_code == 200
    signed = visitor.post_prelogin(path, {})
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    visitor.set_cookies(signed)
    assert visitor.get(f"/m/{MATTER_A}/").status_code == 200
    assert sessions_of_ann(portal) == 1

    # Once only, even in the same browser.
    again = visitor.get(path)
    assert again.status_code == 404
    assert visitor.post_prelogin(path, {}).status_code == 404


def test_another_browser_with_the_link_is_refused(portal: Portal, scene: Scene) -> None:
    asker = portal.anonymous()
    ask(asker, "ann@example.com")
    path = link_in(mails(portal)[0])
    thief = portal.anonymous()  # the email forwarded, or read off another device
    refused = thief.get(path)
    assert refused.status_code == 404 and LINK_GONE in refused.text
    assert thief.post_prelogin(path, {}).status_code == 404
    # A cookie of its own, from asking for itself, does not fit someone else's link either.
    ask(thief, "bob@example.com")
    assert thief.post_prelogin(path, {}).status_code == 404
    assert sessions_of_ann(portal) == 0
    # The asker's link still works: the refusals spent nothing.
    assert asker.post_prelogin(path, {}).status_code == 303


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    portal: Portal, scene: Scene
) -> None:
    known = ask(portal.anonymous(), "ann@example.com")
    unknown = ask(portal.anonymous(), "nobody@example.com")
    assert SENT in known and SENT in unknown
    assert known.replace("ann@example.com", "X") == unknown.replace("nobody@example.com", "X")
    assert [m.to_addr for m in mails(portal)] == ["ann@example.com"]


def test_a_link_expires_after_15_minutes_and_a_newer_one_replaces_it(
    portal: Portal, scene: Scene
) -> None:
    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    first = link_in(mails(portal)[0])
    ask(visitor, "ann@example.com")
    second = link_in(mails(portal)[1])
    assert visitor.get(first).status_code == 404  # replaced (and its cookie with it)
    assert visitor.get(second).status_code == 200
    with portal.db.write() as s:
        s.execute(
            update(OneTimeLink)
            .where(OneTimeLink.purpose == "sign-in", OneTimeLink.used_at.is_(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert visitor.get(second).status_code == 404
    assert visitor.post_prelogin(second, {}).status_code == 404


def test_a_contact_whose_access_ended_is_never_signed_in(portal: Portal, scene: Scene) -> None:
    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    path = link_in(mails(portal)[0])
    with portal.db.write() as s:
        s.execute(
            update(PortalContact).where(PortalContact.id == CONTACT_ANN_A).values(status="disabled")
        )
    assert visitor.get(path).status_code == 404
    assert visitor.post_prelogin(path, {}).status_code == 404
    assert sessions_of_ann(portal) == 0
    # Nor does a new request get a link: the same page, no email.
    ask(portal.anonymous(), "ann@example.com")
    assert len(mails(portal)) == 1


def test_asking_is_limited_per_address(portal: Portal, scene: Scene) -> None:
    visitor = portal.anonymous()
    limit = portal.config.reset_limit_per_account
    for _ in range(limit):
        ask(visitor, "ann@example.com")
    refused = visitor.post_prelogin("/login/link", {"email": "ann@example.com"})
    assert refused.status_code == 429
    assert len(mails(portal)) == limit


def test_a_form_post_from_another_site_is_refused(portal: Portal, scene: Scene) -> None:
    visitor = portal.anonymous()
    forged = visitor.post("/login/link", data={"email": "ann@example.com", "csrf": "x" * 40})
    assert forged.status_code == 403
    assert mails(portal) == []


@pytest.mark.parametrize("service_config", [False], indirect=True)
def test_off_by_default_the_page_does_not_offer_it(portal: Portal, scene: Scene) -> None:
    assert ServiceConfig(database_url="sqlite://", data_dir=Path(".")).sign_in_links is False
    login = portal.anonymous().get("/login").text
    assert ASK not in login and "/login/link" not in login
    visitor = portal.anonymous()
    answer = visitor.post_prelogin("/login/link", {"email": "ann@example.com"})
    assert answer.status_code == 404
    assert mails(portal) == []


def test_with_two_factor_on_the_link_still_asks_for_the_code(
    portal: Portal, scene: Scene, ann: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_two_factor import Clock, give_code, turn_on

    clock = Clock()
    monkeypatch.setattr(two_factor, "clock", clock)
    secret, _ = turn_on(ann, clock)
    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    path = link_in(mails(portal)[0])
    sessions_before = sessions_of_ann(portal)
    used = visitor.post_prelogin(path, {})
    # The emailed link stands for the password only: on to the code page, no session yet.
    assert used.status_code == 303 and used.headers["location"] == "/login/two-factor"
    visitor.set_cookies(used)
    assert sessions_of_ann(portal) == sessions_before
    assert visitor.get(f"/m/{MATTER_A}/").status_code == 303
    assert give_code(visitor, pyotp.TOTP(secret).at(clock())) == 303
    assert visitor.get(f"/m/{MATTER_A}/").status_code == 200

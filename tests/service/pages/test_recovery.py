"""A client who forgot the password (OWASP ASVS V6.4, NIST SP 800-63B): "Forgot your
password?" on the log-in page emails a single-use link valid an hour; the page answers the
same whether or not the address exists; requests are limited per address typed and per client
address; the new password must be long and hard to guess; using the link ends every other
session and tells the client by email."""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from portal_tui.service.models import Account, ClientSession, MailMessage, OneTimeLink
from portal_tui.service.pages.auth import verify_password
from portal_tui.sqltypes import utcnow

from .conftest import ANN, CONTACT_ANN_A, MATTER_A, PASSWORD, Browser, Portal, Scene

NEW_PASSWORD = "lighthouse keeper of the northern isles"
SENT = "we have emailed it a link to choose a new password"


def mails(portal: Portal, kind: str) -> list[MailMessage]:
    with portal.db.read() as s:
        return list(s.scalars(select(MailMessage).where(MailMessage.kind == kind)))


def ask(browser: Browser, email: str) -> str:
    answer = browser.post_prelogin("/forgot", {"email": email})
    assert answer.status_code == 200, answer.text
    return answer.text


def link_in(mail: MailMessage) -> str:
    found = re.search(r"http://testserver(/reset/[A-Za-z0-9_-]+)", mail.body)
    assert found is not None, mail.body
    return found.group(1)


def choose(
    browser: Browser, path: str, password: str, confirm: str | None = None
) -> httpx.Response:
    return browser.post_prelogin(path, {"password": password, "confirm": confirm or password})


def test_the_login_page_offers_it(portal: Portal, scene: Scene) -> None:
    page = portal.anonymous().get("/login").text
    assert 'href="/forgot"' in page and "Forgot your password?" in page


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    portal: Portal, scene: Scene
) -> None:
    visitor = portal.anonymous()
    known = ask(visitor, "ANN@example.com")  # any case
    unknown = ask(visitor, "nobody@example.com")
    assert SENT in known and SENT in unknown
    assert known.replace("ANN@example.com", "X") == unknown.replace("nobody@example.com", "X")
    (mail,) = mails(portal, "password_reset")
    assert mail.to_addr == "ann@example.com"
    assert "works once, for 60 minutes" in mail.body


def test_the_link_sets_a_new_password_ends_other_sessions_and_tells_the_client(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    assert ann.get(f"/m/{MATTER_A}/").status_code == 200  # Ann is logged in elsewhere
    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    path = link_in(mails(portal, "password_reset")[0])
    form = visitor.get(path)
    assert form.status_code == 200 and "Choose a new password" in form.text
    assert "ann@example.com" in form.text

    done = choose(visitor, path, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/"
    visitor.set_cookies(done)
    assert visitor.get(f"/m/{MATTER_A}/").status_code == 200  # this browser is in
    # The other browser's session ended with the old password.
    assert ann.get(f"/m/{MATTER_A}/").status_code == 303
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and verify_password(account.password_hash, NEW_PASSWORD)
        assert not verify_password(account.password_hash, PASSWORD)
        sessions = s.scalar(select(func.count()).where(ClientSession.account_id == ANN))
    assert sessions == 1
    (changed,) = mails(portal, "password_changed")
    assert changed.to_addr == "ann@example.com" and "was changed on" in changed.body
    # Once only.
    assert portal.anonymous().get(path).status_code == 404
    assert choose(portal.anonymous(), path, NEW_PASSWORD + " again").status_code == 404


def test_a_weak_or_short_password_is_refused_with_the_reason(portal: Portal, scene: Scene) -> None:
    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    path = link_in(mails(portal, "password_reset")[0])
    short = visitor.post_prelogin(path, {"password": "Tr0ub4dor&3", "confirm": "Tr0ub4dor&3"})
    assert short.status_code == 400 and "Use at least 12 characters." in short.text
    common = visitor.post_prelogin(path, {"password": "password1234", "confirm": "password1234"})
    assert common.status_code == 400 and "This password would be easy to guess" in common.text
    # The client's own name is counted as guessable.
    named = visitor.post_prelogin(
        path, {"password": "Ann Smith Smith", "confirm": "Ann Smith Smith"}
    )
    assert named.status_code == 400 and "easy to guess" in named.text
    other = visitor.post_prelogin(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "."})
    assert other.status_code == 400 and "The two passwords are not the same." in other.text
    with portal.db.read() as s:
        account = s.get(Account, ANN)
        assert account is not None and verify_password(account.password_hash, PASSWORD)
    assert visitor.get(path).status_code == 200  # the link still works


def test_an_expired_link_or_a_replaced_one_is_refused(portal: Portal, scene: Scene) -> None:
    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    first = link_in(mails(portal, "password_reset")[0])
    ask(visitor, "ann@example.com")
    second = link_in(mails(portal, "password_reset")[1])
    assert visitor.get(first).status_code == 404  # replaced by the newer one
    assert "not valid any more" in visitor.get(first).text
    with portal.db.write() as s:
        s.execute(update(OneTimeLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert visitor.get(second).status_code == 404
    assert choose(visitor, second, NEW_PASSWORD).status_code == 404


def test_requests_are_limited_per_address_typed_known_or_not(portal: Portal, scene: Scene) -> None:
    visitor = portal.anonymous()
    for email in ("ann@example.com", "nobody@example.com"):
        for _ in range(portal.config.reset_limit_per_account):
            ask(visitor, email)
        over = visitor.post_prelogin("/forgot", {"email": email})
        assert over.status_code == 429 and "Too many requests" in over.text
    assert len(mails(portal, "password_reset")) == portal.config.reset_limit_per_account


def test_a_client_whose_access_ended_gets_no_link_and_an_old_one_stops(
    portal: Portal, scene: Scene
) -> None:
    from portal_tui.service.models import PortalContact

    visitor = portal.anonymous()
    ask(visitor, "ann@example.com")
    path = link_in(mails(portal, "password_reset")[0])
    with portal.db.write() as s:
        # Ann's only active matter: disabled by the firm (her other one is an invitation).
        s.execute(
            update(PortalContact).where(PortalContact.id == CONTACT_ANN_A).values(status="disabled")
        )
    assert visitor.get(path).status_code == 404
    assert SENT in ask(visitor, "ann@example.com")  # the same answer...
    assert len(mails(portal, "password_reset")) == 1  # ...and no second link


def test_the_clients_and_the_firms_names_count_as_guessable() -> None:
    from portal_tui.service.pages.passwords import password_errors

    rare = "Zebulon Quarrington"  # strong to zxcvbn, unless it is the client's own name
    assert password_errors(rare, rare, names=[]) == {}
    refused = password_errors(rare, rare, names=["Zebulon Quarrington"])
    assert refused["password"].startswith("This password would be easy to guess")
    firm = password_errors(rare, rare, names=["Quarrington & Zebulon LLP"])
    assert "password" in firm


# Over this many tries of each, the median answer for an address with an account and for one
# without differ by less than TIMING_BOUND_S: the work is the same but for one row and the
# email queued, well under the time a request takes (and far under what a guesser could tell
# apart through a network). Medians, interleaved: a busy machine slows both alike.
TIMING_TRIES = 50
TIMING_BOUND_S = 0.025


def test_the_answer_takes_the_same_time_whether_or_not_the_address_exists(
    portal: Portal, scene: Scene
) -> None:
    unlimited = replace(portal.config, reset_limit_per_account=1000, reset_limit_per_address=1000)
    portal.client.app.state.config = unlimited  # type: ignore[attr-defined]
    visitor = portal.anonymous()
    took: dict[str, list[float]] = {"ann@example.com": [], "nobody@example.com": []}
    pages: dict[str, set[str]] = {email: set() for email in took}
    ask(visitor, "nobody@example.com")  # warm: the first request of a process is slower
    for _ in range(TIMING_TRIES):
        for email, times in took.items():
            started = time.perf_counter()
            answer = visitor.post_prelogin("/forgot", {"email": email})
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200
            pages[email].add(answer.text.replace(email, "X"))
    # The same page, the same status, every time, for both.
    assert len(pages["ann@example.com"]) == 1
    assert pages["ann@example.com"] == pages["nobody@example.com"]
    known, unknown = (statistics.median(t) for t in took.values())
    assert abs(known - unknown) < TIMING_BOUND_S, (known, unknown)
    assert len(mails(portal, "password_reset")) == TIMING_TRIES  # each known one was real


def test_ten_requests_in_a_minute_for_one_address_are_refused_past_the_limit(
    portal: Portal, scene: Scene
) -> None:
    visitor = portal.anonymous()
    limit = portal.config.reset_limit_per_account
    answers = [visitor.post_prelogin("/forgot", {"email": "ann@example.com"}) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * limit + [429] * (10 - limit)
    for refused in answers[limit:]:
        assert "Too many requests" in refused.text
    assert len(mails(portal, "password_reset")) == limit

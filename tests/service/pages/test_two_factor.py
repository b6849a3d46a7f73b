"""Two-factor sign-in (OWASP ASVS V6.5/V6.6, NIST SP 800-63B 5.1.4/5.1.5), with pyotp
computing the codes an authenticator app would: setup from the account page, the code asked
after the password (no access before it), a wrong code refused, a code never taken twice, a
recovery code working once, the remembered device (30 days, not after a new password), the
firm's requirement walking a client through setup first, turning it off, the guessing limit."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import default

import pyotp
import pytest
from sqlalchemy import select

from portal_tui.service import two_factor
from portal_tui.service.mail.sender import send_due
from portal_tui.service.models import (
    Base,
    ClientSession,
    PortalFirm,
    PortalMatter,
    TwoFactor,
)
from portal_tui.service.tokens import create_token
from portal_tui.sqltypes import utcnow

from ..api.conftest import Api
from .conftest import (
    ANN,
    BOB,
    CONTACT_ANN_A,
    MATTER_A,
    PASSWORD,
    Browser,
    Portal,
    Scene,
    csrf_of,
)
from .test_account import change

DASHBOARD = f"/m/{MATTER_A}/"


class Clock:
    """The time two_factor reads, moved by the test."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(two_factor, "clock", moved)
    return moved


def secret_on(page: str) -> str:
    found = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page)
    assert found is not None, page
    return found.group(1).replace(" ", "")


def setup_field_on(page: str) -> str:
    found = re.search(r'name="setup" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def recovery_codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", page)


def turn_on(browser: Browser, clock: Clock) -> tuple[str, list[str]]:
    """Set two-factor up from the account page; returns the secret and the recovery codes."""
    page = browser.get("/account/two-factor")
    assert page.status_code == 200
    assert '<svg role="img"' in page.text and "<img" not in page.text
    secret = secret_on(page.text)
    code = pyotp.TOTP(secret).at(clock())
    done = browser.post("/account/two-factor", {"code": code, "setup": setup_field_on(page.text)})
    assert done.status_code == 200, done.text
    codes = recovery_codes_on(done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert done.headers["cache-control"] == "no-store"
    clock.offset += timedelta(seconds=30)  # the next code is a new one
    return secret, codes


def log_in(browser: Browser) -> tuple[int, str]:
    answer = browser.post_prelogin("/login", {"email": "ann@example.com", "password": PASSWORD})
    browser.set_cookies(answer)
    return answer.status_code, answer.headers.get("location", "")


def give_code(browser: Browser, code: str, *, remember: bool = False) -> int:
    data = {"code": code} | ({"remember": "1"} if remember else {})
    answer = browser.post_prelogin("/login/two-factor", data)
    browser.set_cookies(answer)
    return answer.status_code


def portal_rows(portal: Portal) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the portal's database but the sessions' (each request marks its session
    seen), to tell whether a request changed anything."""
    tables = Base.metadata.sorted_tables
    with portal.db.read() as s:
        return {
            table.name: sorted(map(tuple, s.execute(select(table)).all()), key=repr)
            for table in tables
            if table.name != ClientSession.__tablename__
        }


def test_showing_the_setup_page_changes_nothing_and_each_tab_keeps_its_secret(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    two_factor.signing_key(portal.db)  # the service's key, made once on first use
    before = portal_rows(portal)
    first = ann.get("/account/two-factor")
    second = ann.get("/account/two-factor")  # a reload, or another tab
    assert first.headers["cache-control"] == "no-store"  # the secret is on it
    assert portal_rows(portal) == before  # a GET writes nothing
    assert secret_on(first.text) != secret_on(second.text)
    # The first tab's setup is not broken by the second: its own secret confirms it.
    secret = secret_on(first.text)
    done = ann.post(
        "/account/two-factor",
        {"code": pyotp.TOTP(secret).at(clock()), "setup": setup_field_on(first.text)},
    )
    assert done.status_code == 200 and len(recovery_codes_on(done.text)) == 10
    with portal.db.read() as s:
        row = s.get(TwoFactor, ANN)
        assert row is not None and row.secret == secret and row.enabled_at is not None
    # The second tab, confirmed after: on already, so the page says so and nothing changes.
    late = ann.post(
        "/account/two-factor",
        {
            "code": pyotp.TOTP(secret_on(second.text)).at(clock()),
            "setup": setup_field_on(second.text),
        },
    )
    assert late.status_code == 303 and late.headers["location"] == "/account/two-factor"
    with portal.db.read() as s:
        row = s.get(TwoFactor, ANN)
        assert row is not None and row.secret == secret


def test_a_setup_field_forged_of_another_account_or_too_old_confirms_nothing(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    page = ann.get("/account/two-factor").text
    secret, field = secret_on(page), setup_field_on(page)
    code = pyotp.TOTP(secret).at(clock())
    chosen = pyotp.random_base32(32)  # a secret someone else knows, signed by nobody
    forged = field.replace(secret, chosen)
    bobs = portal.as_user(BOB).get("/account/two-factor").text  # signed, for Bob
    for bad in (forged, setup_field_on(bobs), "", "x" * 500):
        data = {"code": pyotp.TOTP(chosen).at(clock()) if bad == forged else code, "setup": bad}
        refused = ann.post("/account/two-factor", data)
        assert refused.status_code == 400, bad
        assert "This setup page is out of date" in refused.text
        assert secret_on(refused.text) not in (secret, chosen)  # a new one to scan
    clock.offset += two_factor.SETUP_VALID
    stale = ann.post(
        "/account/two-factor", {"code": pyotp.TOTP(secret).at(clock()), "setup": field}
    )
    assert stale.status_code == 400 and "This setup page is out of date" in stale.text
    with portal.db.read() as s:
        assert s.get(TwoFactor, ANN) is None


def test_setup_shows_the_qr_code_as_inline_svg_and_a_wrong_code_is_refused(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    page = ann.get("/account/two-factor").text
    secret = secret_on(page)
    wrong = ann.post("/account/two-factor", {"code": "000000", "setup": setup_field_on(page)})
    assert wrong.status_code == 400 and "That code does not match" in wrong.text
    # The same secret again, the one the app has: the next code from it still works.
    assert secret_on(wrong.text) == secret
    with portal.db.read() as s:
        assert s.get(TwoFactor, ANN) is None  # not on, nor kept, until a right code
    done = ann.post(
        "/account/two-factor",
        {"code": pyotp.TOTP(secret).at(clock()), "setup": setup_field_on(wrong.text)},
    )
    assert done.status_code == 200 and len(recovery_codes_on(done.text)) == 10
    with portal.db.read() as s:
        row = s.get(TwoFactor, ANN)
        assert row is not None and row.enabled_at is not None
    assert "Two-factor sign-in is <strong>on</strong>" in ann.get("/account/two-factor").text


def test_the_code_is_asked_after_the_password_and_nothing_opens_before_it(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    secret, _ = turn_on(ann, clock)
    visitor = portal.anonymous()
    assert log_in(visitor) == (303, "/login/two-factor")
    assert "portal_session" not in visitor.cookies
    # Half signed in: every page but the code page sends the browser to log in.
    for path in (DASHBOARD, "/", "/account/two-factor", "/login/two-factor/setup"):
        answer = visitor.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith(("/login", "/login/two-factor")), path
    assert visitor.get(DASHBOARD).headers["location"].startswith("/login?next=")

    assert give_code(visitor, "123456") == 400
    code = pyotp.TOTP(secret).at(clock())
    assert give_code(visitor, code) == 303
    assert visitor.get(DASHBOARD).status_code == 200

    # The same code again, in another browser within its 30 seconds: refused (no replay).
    other = portal.anonymous()
    log_in(other)
    assert give_code(other, code) == 400
    assert other.get(DASHBOARD).status_code == 303


def test_a_recovery_code_works_once(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    _, codes = turn_on(ann, clock)
    first = portal.anonymous()
    log_in(first)
    assert give_code(first, codes[3].upper().replace("-", " ")) == 303  # as typed, any case
    assert first.get(DASHBOARD).status_code == 200
    again = portal.anonymous()
    log_in(again)
    assert give_code(again, codes[3]) == 400
    assert "9 unused recovery codes" in first.get("/account/two-factor").text


def test_a_remembered_device_skips_the_code_for_30_days_and_not_after_a_new_password(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    secret, _ = turn_on(ann, clock)
    browser = portal.anonymous()
    log_in(browser)
    assert give_code(browser, pyotp.TOTP(secret).at(clock()), remember=True) == 303
    assert "portal_device" in browser.cookies

    browser.cookies.pop("portal_session")
    assert log_in(browser) == (303, "/")  # no code asked
    clock.offset += timedelta(days=29)
    browser.cookies.pop("portal_session")
    assert log_in(browser) == (303, "/")
    clock.offset += timedelta(days=1, seconds=1)
    browser.cookies.pop("portal_session", None)
    assert log_in(browser) == (303, "/login/two-factor")  # 30 days on: asked again

    # Remembered afresh, then the client changes the password on the account page, in the
    # very browser that is remembered: the device is forgotten with the old password.
    assert give_code(browser, pyotp.TOTP(secret).at(clock()), remember=True) == 303
    browser.cookies.pop("portal_session")
    assert log_in(browser) == (303, "/")
    browser.csrf = csrf_of(browser.get("/account").text)
    changed = change(browser, PASSWORD, "another long pass phrase here")
    assert "Your password is changed." in changed
    browser.cookies.pop("portal_session")
    answer = browser.post_prelogin(
        "/login", {"email": "ann@example.com", "password": "another long pass phrase here"}
    )
    assert answer.headers["location"] == "/login/two-factor"


def test_the_firm_requirement_walks_the_client_through_setup_first(
    portal: Portal, scene: Scene, clock: Clock
) -> None:
    with portal.db.write() as s:
        firm = s.get(PortalFirm, 1)
        assert firm is not None
        firm.two_factor_required = "sensitive"
    browser = portal.anonymous()
    assert log_in(browser) == (303, "/")  # no sensitive matter: not required
    with portal.db.write() as s:
        matter = s.get(PortalMatter, MATTER_A)
        assert matter is not None
        matter.sensitive = True
    browser = portal.anonymous()
    assert log_in(browser) == (303, "/login/two-factor/setup")
    assert browser.get(DASHBOARD).status_code == 303  # nothing else first
    assert browser.get("/login/two-factor").headers["location"] == "/login/two-factor/setup"
    page = browser.get("/login/two-factor/setup")
    assert "asks you to sign in with a code" in page.text
    secret = secret_on(page.text)
    bad = browser.post_prelogin(
        "/login/two-factor/setup", {"code": "999999", "setup": setup_field_on(page.text)}
    )
    assert bad.status_code == 400 and secret_on(bad.text) == secret
    assert bad.headers["cache-control"] == "no-store"
    done = browser.post_prelogin(
        "/login/two-factor/setup",
        {"code": pyotp.TOTP(secret).at(clock()), "setup": setup_field_on(bad.text)},
    )
    assert done.status_code == 200 and len(recovery_codes_on(done.text)) == 10
    browser.set_cookies(done)
    assert browser.get(DASHBOARD).status_code == 200
    # Required: it cannot be turned off by the client.
    account_page = browser.get("/account/two-factor").text
    assert "cannot be turned off here" in account_page
    assert 'action="/account/two-factor/off"' not in account_page


def test_turning_it_off_asks_for_a_code_or_the_password(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    turn_on(ann, clock)
    page = ann.get("/account/two-factor").text
    refused = ann.post("/account/two-factor/off", {"csrf": csrf_of(page), "password": "wrong"})
    assert refused.status_code == 400 and "to turn two-factor sign-in off" in refused.text
    done = ann.post("/account/two-factor/off", {"password": PASSWORD})
    assert done.status_code == 200 and "Two-factor sign-in is off." in done.text
    with portal.db.read() as s:
        # Gone; the page offers setting it up again, storing nothing until confirmed.
        assert list(s.scalars(select(TwoFactor))) == []
    assert log_in(portal.anonymous()) == (303, "/")


def test_guessing_codes_is_limited(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    secret, _ = turn_on(ann, clock)
    browser = portal.anonymous()
    log_in(browser)
    for _ in range(portal.config.login_limit_per_account):
        assert give_code(browser, "000000") == 400
    assert give_code(browser, pyotp.TOTP(secret).at(clock())) == 429  # even the right one
    assert browser.get(DASHBOARD).status_code == 303


def test_staff_reset_clears_it_signs_the_client_out_everywhere_and_emails_them(
    portal: Portal, scene: Scene, ann: Browser, clock: Clock
) -> None:
    secret, _ = turn_on(ann, clock)
    browser = portal.anonymous()
    log_in(browser)
    assert give_code(browser, pyotp.TOTP(secret).at(clock()), remember=True) == 303
    old_device = browser.cookies["portal_device"]
    assert browser.get(DASHBOARD).status_code == 200
    api = Api(portal.client, create_token(portal.db, "vera"))

    answer = api.post(f"/contacts/{CONTACT_ANN_A}/two-factor/reset")
    assert answer.status_code == 200 and answer.json() == {"reset": True}
    # Every signed-in browser is signed out: the one that gave the code, and the one that
    # set it up (whoever holds the lost phone may be either).
    for signed_in in (browser, ann):
        gone = signed_in.get(DASHBOARD)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login"), gone
    assert send_due(portal.db, portal.config, now=utcnow() + timedelta(minutes=1)) == 1
    (eml,) = sorted(portal.config.mail_dir.iterdir())
    with eml.open("rb") as f:
        mail = BytesParser(policy=default).parse(f)
    assert mail["To"] == "ann@example.com"
    assert mail["Subject"] == "Your client portal two-factor sign-in was reset"
    for kind in ("plain", "html"):
        body = mail.get_body((kind,))
        assert body is not None
        # The HTML part read as its reader sees it: tags gone, entities as characters.
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body.get_content())).split())
        assert "Harbor & Vale LLP reset the two-factor sign-in" in text, kind
        assert "every signed-in browser was signed out" in text, kind
        assert "http://testserver/account/two-factor" in text, kind

    # Off now: the password alone signs in.
    browser.cookies.pop("portal_session", None)
    assert log_in(browser) == (303, "/")
    assert browser.get(DASHBOARD).status_code == 200
    # Set up again, the old remembered-device cookie skips nothing: the code is asked.
    again = portal.as_user(ANN)
    new_secret, _ = turn_on(again, clock)
    assert new_secret != secret
    stale = portal.anonymous()
    stale.cookies["portal_device"] = old_device
    assert log_in(stale) == (303, "/login/two-factor")
    assert stale.get(DASHBOARD).status_code == 303


def test_a_staff_reset_that_finds_two_factor_off_changes_nothing(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    api = Api(portal.client, create_token(portal.db, "vera"))
    assert api.post(f"/contacts/{CONTACT_ANN_A}/two-factor/reset").json() == {"reset": False}
    assert ann.get(DASHBOARD).status_code == 200  # still signed in
    assert send_due(portal.db, portal.config, now=utcnow() + timedelta(minutes=1)) == 0
    assert api.post("/contacts/999/two-factor/reset").status_code == 404

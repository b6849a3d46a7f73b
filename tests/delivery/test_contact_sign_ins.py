"""The contact screen's sign-ins, end to end with `portal-tui serve`: the firm reads a
contact's two-factor, last sign-in and live sessions from the portal, and "Sign out everywhere"
ends every session of that client at once (their next request is the log-in page), recorded in
the firm's audit trail; a role that may not manage contacts, or a portal that cannot be
reached, changes nothing. Reset Two-Factor goes from the firm through the delivery worker to
the portal: every browser of the client is signed out, the client is emailed, and the
password alone signs in again."""

from __future__ import annotations

import re
import socket

import pyotp
import pytest

from portal_tui.domain import StaffRole, texts
from portal_tui.domain.decision import NeedsConfirmation, PortalAway, Refused
from portal_tui.domain.records import AuditRow
from portal_tui.repository import Repository
from portal_tui.repository.portal_client import PortalClient

from .support import (
    PASSWORD,
    Browser,
    Firm,
    Service,
    activate_clients,
    deliver_all,
    read_mail,
    wait_for,
)

RESET_SUBJECT = "Your client portal two-factor sign-in was reset"


def signed_in(service: Service, email: str) -> Browser:
    browser = Browser(service.base)
    browser.log_in(email)
    return browser


def sign_outs(firm: Firm, contact: int) -> list[AuditRow]:
    return [
        e for e in firm.repo.audit_for_item("contact", contact) if e.action == "contact.sign_out"
    ]


def test_staff_see_the_sign_ins_and_sign_the_client_out_everywhere(
    service: Service, firm: Firm, portal: PortalClient
) -> None:
    activate_clients(firm, service, portal)
    client, other = firm.clients
    contact = client.contacts[0]
    before = firm.repo.contact_sign_ins(contact, portal)
    browsers = [signed_in(service, client.email) for _ in range(2)]
    bystander = signed_in(service, other.email)
    try:
        now = firm.repo.contact_sign_ins(contact, portal)
        assert now.active_sessions == before.active_sessions + 2
        assert now.two_factor is False and now.last_login_at is not None
        # The client's other matter's contact is the same person: the same sessions.
        assert firm.repo.contact_sign_ins(client.contacts[1], portal) == now

        message = firm.repo.sign_out_everywhere(contact, portal)
        assert message == (
            f"{client.name} is signed out of the client portal everywhere: "
            f"{now.active_sessions} session(s) ended."
        )
        for browser in browsers:
            assert browser.get("/account").url.path == "/login"
        assert firm.repo.contact_sign_ins(contact, portal).active_sessions == 0
        # Another client stays signed in.
        assert bystander.get("/account").url.path == "/account"
        (entry,) = [
            e
            for e in firm.repo.audit_for_item("contact", contact)
            if e.action == "contact.sign_out"
        ]
        assert entry.actor == "admin" and entry.after == {"sessions_ended": now.active_sessions}
    finally:
        for browser in (*browsers, bystander):
            browser.close()


def test_a_read_only_user_or_a_portal_away_signs_nobody_out(
    service: Service, firm: Firm, portal: PortalClient
) -> None:
    activate_clients(firm, service, portal)
    client = firm.clients[0]
    contact = client.contacts[0]
    browser = signed_in(service, client.email)
    try:
        firm.repo.add_staff("rory", "Rory Reader", "rory@firm.test", StaffRole.READ_ONLY)
        reader = Repository(firm.repo.db, "rory")
        with pytest.raises(Refused):
            reader.sign_out_everywhere(contact, portal)

        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            away = PortalClient(f"http://127.0.0.1:{closed.getsockname()[1]}", service.token)
        try:
            with pytest.raises(PortalAway, match="Nobody was signed out"):
                firm.repo.sign_out_everywhere(contact, away)
            with pytest.raises(PortalAway, match="could not be read"):
                firm.repo.contact_sign_ins(contact, away)
        finally:
            away.close()

        assert browser.get("/account").url.path == "/account"
        assert [
            e
            for e in firm.repo.audit_for_item("contact", contact)
            if e.action == "contact.sign_out"
        ] == []
    finally:
        browser.close()


def turn_on_two_factor(browser: Browser) -> list[str]:
    """Set two-factor up on the account page as the client would, pyotp as the phone's app;
    returns the recovery codes shown once."""
    setup = browser.get("/account/two-factor")
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', setup.text)
    assert secret is not None, setup.text[:2000]
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
    done = browser.fill_in(setup, "/account/two-factor", {"code": code})
    codes = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", done.text)
    assert len(codes) == 10, done.text[:2000]
    return codes


def test_a_staff_two_factor_reset_reaches_the_portal_and_the_password_alone_signs_in(
    service: Service, firm: Firm, portal: PortalClient
) -> None:
    activate_clients(firm, service, portal)
    client = firm.clients[0]
    contact = client.contacts[0]
    first = signed_in(service, client.email)
    second = Browser(service.base)
    try:
        codes = turn_on_two_factor(first)
        # Another browser: the password, then a recovery code (the app's code of this half
        # minute is spent), and this device remembered.
        asked = second.submit("/login", {"email": client.email, "password": PASSWORD})
        assert asked.url.path == "/login/two-factor", asked.url
        signed = second.fill_in(asked, "/login/two-factor", {"code": codes[0], "remember": "1"})
        assert signed.status_code == 200 and signed.url.path != "/login/two-factor"
        assert "portal_device" in second.http.cookies
        assert firm.repo.contact_sign_ins(contact, portal).two_factor is True

        with pytest.raises(NeedsConfirmation):
            firm.repo.reset_two_factor(contact)
        done = firm.repo.reset_two_factor(contact, confirmed=True)
        assert done == texts.TWO_FACTOR_RESET_DONE.format(email=client.email)
        deliver_all(firm.repo, portal)

        # Every browser of the client is signed out.
        for browser in (first, second):
            assert browser.get("/account").url.path == "/login"
        state = firm.repo.contact_sign_ins(contact, portal)
        assert state.two_factor is False and state.active_sessions == 0
        (entry,) = [
            e
            for e in firm.repo.audit_for_item("contact", contact)
            if e.action == "contact.two_factor_reset"
        ]
        assert entry.actor == "admin"

        # The email, as the portal's own sender wrote it.
        (mail,) = wait_for(
            lambda: [m for m in read_mail(service.mail_dir) if m.subject == RESET_SUBJECT] or None,
            timeout=20,
            what="the two-factor reset email",
        )
        assert mail.to == client.email
        text = " ".join(mail.text.split())
        assert "every signed-in browser was signed out" in text
        assert f"{service.base}/account/two-factor" in text

        # The password alone signs in now, in the remembered browser and in a new one.
        for browser in (second, Browser(service.base)):
            try:
                landed = browser.log_in(client.email)
                assert landed.url.path != "/login/two-factor"
                assert browser.get("/account").url.path == "/account"
            finally:
                if browser is not second:
                    browser.close()
    finally:
        first.close()
        second.close()

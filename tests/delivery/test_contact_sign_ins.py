"""The contact screen's sign-ins, end to end with `portal-tui serve`: the firm reads a
contact's two-factor, last sign-in and live sessions from the portal, and "Sign out everywhere"
ends every session of that client at once (their next request is the log-in page), recorded in
the firm's audit trail; a role that may not manage contacts, or a portal that cannot be
reached, changes nothing."""

from __future__ import annotations

import socket

import pytest

from portal_tui.domain import StaffRole
from portal_tui.domain.decision import PortalAway, Refused
from portal_tui.domain.records import AuditRow
from portal_tui.repository import Repository
from portal_tui.repository.portal_client import PortalClient

from .support import Browser, Firm, Service, activate_clients


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

"""Portal contacts through the staff API (C1-C3): the account, the invitation and its email."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.models import Account, MailMessage, PortalContact
from portal_tui.sqltypes import utcnow

from .conftest import Api, contact_body, firm_body, matter_body

LINK = re.compile(r"http://testserver/invite/([A-Za-z0-9_-]+)")


@pytest.fixture
def matter(api: Api) -> int:
    api.put("/firm", firm_body())
    api.put("/matters/7", matter_body())
    return 7


def contact(db: Database, contact_id: int = 3) -> PortalContact:
    with db.read() as s:
        row = s.get(PortalContact, contact_id)
        assert row is not None
        return row


def invitation_secrets(db: Database) -> list[str]:
    with db.read() as s:
        bodies = s.scalars(
            select(MailMessage.body)
            .where(MailMessage.kind == "invitation")
            .order_by(MailMessage.id)
        )
        return [m.group(1) for body in bodies if (m := LINK.search(body))]


def test_invite_makes_the_account_the_contact_and_the_email(
    api: Api, service_db: Database, matter: int
) -> None:
    response = api.put("/contacts/3", contact_body())
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "invited"
    assert response.json()["invitations_sent"] == 1
    with service_db.read() as s:
        account = s.get(Account, 21)
        assert account is not None and account.email == "jorg@example.com"
        assert account.password_hash is None
    row = contact(service_db)
    assert (row.matter_id, row.account_id, row.status) == (7, 21, "invited")
    [secret] = invitation_secrets(service_db)
    # Only the secret's hash is kept; the email holds the secret itself.
    assert row.invite_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.invite_expires_at is not None and row.invite_expires_at > utcnow()


def test_reinvite_replaces_the_link_and_sends_again(
    api: Api, service_db: Database, matter: int
) -> None:
    api.put("/contacts/3", contact_body())
    first = contact(service_db).invite_hash
    response = api.put("/contacts/3", contact_body("reinvite", "invited", 2))
    assert response.json()["invitations_sent"] == 2
    assert contact(service_db).invite_hash not in (None, first)
    assert len(invitation_secrets(service_db)) == 2
    # A replay under a new key (the worker's retry after a lost answer) sends nothing more.
    assert api.put("/contacts/3", contact_body("reinvite", "invited", 2)).json()["applied"] is False
    assert len(invitation_secrets(service_db)) == 2


def test_disable_enable_and_remove(api: Api, service_db: Database, matter: int) -> None:
    api.put("/contacts/3", contact_body())
    assert (
        api.put("/contacts/3", contact_body("disable", "disabled", 2)).json()["status"]
        == "disabled"
    )
    assert (
        api.put("/contacts/3", contact_body("enable", "invited", 3)).json()["status"] == "invited"
    )
    removed = api.put("/contacts/3", contact_body("remove", "removed", 4))
    assert removed.json()["status"] == "removed"
    row = contact(service_db)
    assert (row.invite_hash, row.invite_expires_at) == (None, None)
    # Stale versions change nothing.
    assert api.put("/contacts/3", contact_body("enable", "active", 3)).json()["applied"] is False
    assert contact(service_db).status == "removed"


def test_c1_an_edit_renames_the_contact_and_its_account_and_sends_nothing(
    api: Api, service_db: Database, matter: int
) -> None:
    """The firm corrected a contact's name and email: the portal's contact and account take
    them (notices go to the account's address), the status stays, and no invitation is sent;
    a client who activated meanwhile stays active."""
    api.put("/contacts/3", contact_body())
    with service_db.write() as s:
        account = s.get(Account, 21)
        row = s.get(PortalContact, 3)
        assert account is not None and row is not None
        account.password_hash, account.activated_at = "argon2id$...", utcnow()
        row.status = "active"
    edited = contact_body("edit", "invited", 2, name="Jörg Müller-Lang", email="jml@example.com")
    response = api.put("/contacts/3", edited)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["invitations_sent"]) == ("active", 1)
    row = contact(service_db)
    assert (row.name, row.email) == ("Jörg Müller-Lang", "jml@example.com")
    with service_db.read() as s:
        account = s.get(Account, 21)
        assert account is not None
        assert (account.name, account.email) == ("Jörg Müller-Lang", "jml@example.com")
    assert len(invitation_secrets(service_db)) == 1  # the first invitation only
    stale = contact_body("edit", "active", 2, name="Old", email="old@example.com")
    assert api.put("/contacts/3", stale).json()["applied"] is False


def test_an_activation_the_firm_has_not_heard_of_is_kept(
    api: Api, service_db: Database, matter: int
) -> None:
    api.put("/contacts/3", contact_body())
    with service_db.write() as s:  # the client accepted the invitation meanwhile
        account = s.get(Account, 21)
        row = s.get(PortalContact, 3)
        assert account is not None and row is not None
        account.password_hash, account.activated_at = "argon2id$...", utcnow()
        row.status = "active"
    response = api.put("/contacts/3", contact_body("reinvite", "invited", 2))
    assert response.json()["status"] == "active"
    api.put("/contacts/3", contact_body("disable", "disabled", 3))
    assert api.put("/contacts/3", contact_body("enable", "invited", 4)).json()["status"] == "active"


def test_contact_requests_that_cannot_be_are_refused(api: Api, matter: int) -> None:
    unknown_matter = api.put("/contacts/3", contact_body(matter_id=99))
    assert unknown_matter.status_code == 409
    assert "99" in unknown_matter.json()["detail"]
    inconsistent = api.put("/contacts/3", contact_body("disable", "active"))
    assert inconsistent.status_code == 422
    assert api.put("/contacts/3", contact_body(email="not an email")).status_code == 422
    assert api.put("/contacts/3", contact_body(action="promote")).status_code == 422
    assert api.put("/contacts/4", contact_body()).status_code == 422  # id differs from path
    api.put("/contacts/3", contact_body())
    moved = api.put("/contacts/3", contact_body("reinvite", "invited", 2, client_id=22))
    assert moved.status_code == 422

"""Portal contacts at repository level (C1-C4, P1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal_tui.domain import (
    ContactAction,
    ContactStatus,
    NeedsConfirmation,
    OutboxOp,
    Refused,
    StaffRole,
    texts,
)
from portal_tui.store.models import AuditEntry, OutboxEntry

from .conftest import Firm


def _invite(firm: Firm, email: str = "ada@example.test") -> int:
    return firm.admin.invite_contact(firm.matter_id, firm.client_id, name="Ada Byrne", email=email)


def _contact_ops(firm: Firm) -> list[str]:
    with firm.system.db.read() as s:
        rows = s.scalars(
            select(OutboxEntry).where(OutboxEntry.op == OutboxOp.CONTACT).order_by(OutboxEntry.id)
        )
        return [r.payload["action"] for r in rows]


def test_c1_admin_invites_and_the_portal_is_told(firm: Firm) -> None:
    contact = _invite(firm)
    row = firm.admin.contact(contact)
    assert (row.status, row.email, row.invitations_sent) == (
        ContactStatus.INVITED,
        "ada@example.test",
        1,
    )
    assert _contact_ops(firm) == ["invite"]


@pytest.mark.parametrize("role", [StaffRole.BILLING, StaffRole.READ_ONLY])
def test_c1_only_admin_and_normal_invite(firm: Firm, role: StaffRole) -> None:
    with pytest.raises(Refused) as e:
        firm.as_(role).invite_contact(
            firm.matter_id, firm.client_id, name="Ada Byrne", email="ada@example.test"
        )
    assert e.value.rule == "C1"
    assert firm.admin.contacts(firm.matter_id) == []


def test_c1_typed_email_is_saved_as_the_clients_primary_email(firm: Firm) -> None:
    repo = firm.admin
    client = repo.add_client("Brendan Cole")  # no email on file
    matter = repo.add_matter(client, number="2026-0100", name="Cole v. Dunne")
    repo.set_matter_portal(matter, True)
    with pytest.raises(Refused, match="Enter an email address for Brendan Cole"):
        repo.invite_contact(matter, client, name="Brendan Cole", email="  ")
    with pytest.raises(Refused, match="not a valid email"):
        repo.invite_contact(matter, client, name="Brendan Cole", email="brendan-at-home")
    assert repo.client(client).primary_email is None
    repo.invite_contact(matter, client, name="Brendan Cole", email="brendan@example.test")
    assert repo.client(client).primary_email == "brendan@example.test"


def test_c1_an_existing_primary_email_is_kept(firm: Firm) -> None:
    _invite(firm, "ada.work@example.test")
    assert firm.admin.client(firm.client_id).primary_email == "ada@example.test"


def test_c2_disable_is_temporary_and_enable_asks_first(firm: Firm) -> None:
    repo = firm.admin
    contact = _invite(firm)
    repo.record_contact_activated(contact, datetime(2026, 11, 1, tzinfo=UTC))
    assert repo.disable_contact(contact) == "Client portal access has been disabled."
    assert repo.contact(contact).status is ContactStatus.DISABLED
    assert ContactAction.ENABLE in repo.contact_actions(contact)
    with pytest.raises(NeedsConfirmation) as asked:
        repo.enable_contact(contact)
    assert asked.value.question == texts.CONTACT_ENABLE_CONFIRM.format(name="Ada Byrne")
    assert repo.contact(contact).status is ContactStatus.DISABLED
    assert repo.enable_contact(contact, confirmed=True) == texts.CONTACT_ENABLED
    assert repo.contact(contact).status is ContactStatus.ACTIVE
    assert _contact_ops(firm) == ["invite", "disable", "enable"]


def test_c2_enabling_one_who_never_activated_leaves_them_invited(firm: Firm) -> None:
    contact = _invite(firm)
    firm.admin.disable_contact(contact)
    firm.admin.enable_contact(contact, confirmed=True)
    assert firm.admin.contact(contact).status is ContactStatus.INVITED


def test_c3_remove_warns_then_offers_invite_again(firm: Firm) -> None:
    repo = firm.admin
    contact = _invite(firm)
    with pytest.raises(NeedsConfirmation) as asked:
        repo.remove_contact(contact)
    assert "Ada Byrne" in asked.value.question
    assert repo.contact(contact).status is ContactStatus.INVITED
    assert repo.remove_contact(contact, confirmed=True) == texts.CONTACT_REMOVED
    assert repo.contact_actions(contact) == [ContactAction.INVITE]
    again = _invite(firm)
    assert again == contact
    assert repo.contact(contact).status is ContactStatus.INVITED
    assert repo.contact(contact).invitations_sent == 2


def test_c3_reinvite_sends_the_invitation_again(firm: Firm) -> None:
    contact = _invite(firm)
    message = firm.admin.reinvite_contact(contact)
    assert message == "The invitation has been sent again to ada@example.test."
    assert firm.admin.contact(contact).invitations_sent == 2
    assert _contact_ops(firm) == ["invite", "reinvite"]
    firm.admin.disable_contact(contact)
    with pytest.raises(Refused, match="Re-invite Contact is not available"):
        firm.admin.reinvite_contact(contact)


def test_c3_an_active_contact_is_not_reinvited(firm: Firm) -> None:
    """The portal sends no invitation to a contact with an account: the app neither offers nor
    says it did."""
    contact = _invite(firm)
    firm.admin.record_contact_activated(contact, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert ContactAction.REINVITE not in firm.admin.contact_actions(contact)
    with pytest.raises(Refused, match="Re-invite Contact is not available"):
        firm.admin.reinvite_contact(contact)
    assert firm.admin.contact(contact).invitations_sent == 1
    assert _contact_ops(firm) == ["invite"]


def test_c4_a_client_with_several_portal_matters_has_them_all_listed(firm: Firm) -> None:
    from portal_tui.domain.rules import c4_needs_matter_choice

    repo = firm.admin
    _invite(firm)
    assert [m.id for m in repo.client_portal_matters(firm.client_id)] == [firm.matter_id]
    assert not c4_needs_matter_choice(m.id for m in repo.client_portal_matters(firm.client_id))
    repo.set_matter_portal(firm.other_matter_id, True)
    repo.invite_contact(
        firm.other_matter_id, firm.client_id, name="Ada Byrne", email="ada@example.test"
    )
    matters = repo.client_portal_matters(firm.client_id)
    assert {m.id for m in matters} == {firm.matter_id, firm.other_matter_id}
    assert c4_needs_matter_choice(m.id for m in matters)


def test_p1_activation_makes_the_contact_active_and_logins_are_kept(firm: Firm) -> None:
    repo = firm.system
    contact = _invite(firm)
    at = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    repo.record_contact_activated(contact, at)
    repo.record_contact_login(contact, datetime(2026, 11, 3, 8, tzinfo=UTC))
    repo.record_contact_login(contact, datetime(2026, 11, 2, 8, tzinfo=UTC))  # older: ignored
    row = repo.contact(contact)
    assert row.status is ContactStatus.ACTIVE
    assert row.activated_at == at
    assert row.last_login_at == datetime(2026, 11, 3, 8, tzinfo=UTC)


# Two-factor reset ----------------------------------------------------------------------------


def test_c1_staff_reset_a_clients_two_factor_after_asking_audited_and_the_portal_told(
    firm: Firm,
) -> None:
    repo = firm.admin
    contact = _invite(firm)
    # Not activated yet: nothing to reset, nothing queued.
    with pytest.raises(Refused, match="has not activated a portal account yet"):
        repo.reset_two_factor(contact, confirmed=True)
    repo.record_contact_activated(contact, datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(NeedsConfirmation) as asked:
        repo.reset_two_factor(contact)
    assert asked.value.question == texts.TWO_FACTOR_RESET_CONFIRM.format(name="Ada Byrne")
    with pytest.raises(Refused):
        firm.as_(StaffRole.BILLING).reset_two_factor(contact, confirmed=True)
    assert repo.reset_two_factor(contact, confirmed=True) == texts.TWO_FACTOR_RESET_DONE.format(
        email="ada@example.test"
    )
    with firm.system.db.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.op == OutboxOp.TWO_FACTOR_RESET))
        assert [r.payload for r in rows] == [{"contact_id": contact}]
        audit = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "contact.two_factor_reset")
        ).all()
        assert [(a.item_id, a.after) for a in audit] == [(contact, {"email": "ada@example.test"})]

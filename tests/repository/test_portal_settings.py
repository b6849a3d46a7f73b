"""Firm and matter portal settings at repository level (F1-F6, M1-M4)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal_tui.domain import (
    ALL_CATEGORIES,
    Category,
    ItemKind,
    NeedsConfirmation,
    OutboxOp,
    Refused,
    StaffRole,
    texts,
)
from portal_tui.domain.states import TwoFactorRequirement
from portal_tui.repository import Repository
from portal_tui.store.models import OutboxEntry

from .conftest import Firm


def _ops(firm: Firm) -> list[OutboxOp]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(OutboxEntry.op).order_by(OutboxEntry.id)))


@pytest.mark.parametrize("role", list(StaffRole))
def test_f1_only_admin_and_normal_change_firm_settings(firm: Firm, role: StaffRole) -> None:
    repo = firm.as_(role)
    if role in (StaffRole.ADMIN, StaffRole.NORMAL):
        repo.set_firm_portal(daily_digest=True)
        assert repo.firm_portal().daily_digest is True
        return
    with pytest.raises(Refused) as e:
        repo.set_firm_portal(daily_digest=True)
    assert e.value.rule == "F1"
    assert firm.system.firm_portal().daily_digest is False


def test_f2_f3_f5_a_new_firm_has_the_portal_on_every_box_and_the_usual_emails(
    migrated_url: str,
) -> None:
    repo = Repository.open(migrated_url)
    try:
        repo.setup_firm("New Firm")
        firm = repo.firm_portal()
        assert firm.enabled is True  # F2
        assert firm.permissions == ALL_CATEGORIES  # F3
        assert (firm.notify_new_items, firm.daily_digest, firm.notify_staff_on_upload) == (
            True,
            False,
            True,
        )  # F5
    finally:
        repo.close()


def test_f4_a_category_unchecked_at_firm_level_is_unavailable_on_every_matter(
    firm: Firm,
) -> None:
    repo = firm.admin
    repo.set_firm_portal(permissions=ALL_CATEGORIES - {Category.TASKS})
    detail = repo.matter(firm.matter_id)
    assert Category.TASKS in detail.permissions  # the matter's own box stays as it was
    assert Category.TASKS not in detail.effective_permissions
    with pytest.raises(Refused, match="Tasks are not permitted"):
        repo.share(ItemKind.TASK, firm.item(ItemKind.TASK))
    # ... and a matter cannot switch it back on by itself (M2).
    with pytest.raises(Refused) as e:
        repo.set_matter_permissions(firm.matter_id, ALL_CATEGORIES)
    assert e.value.rule == "M2"
    # Checked again at firm level, it is offered on the matter once more.
    repo.set_firm_portal(permissions=ALL_CATEGORIES)
    assert Category.TASKS in repo.matter(firm.matter_id).effective_permissions


def test_f5_email_settings_are_kept_and_sent_to_the_portal(firm: Firm) -> None:
    repo = firm.admin
    repo.set_firm_portal(notify_new_items=False, daily_digest=True, notify_staff_on_upload=False)
    f = repo.firm_portal()
    assert (f.notify_new_items, f.daily_digest, f.notify_staff_on_upload) == (False, True, False)
    with firm.system.db.read() as s:
        last = s.scalars(select(OutboxEntry).order_by(OutboxEntry.id.desc())).first()
    assert last is not None
    assert last.op is OutboxOp.FIRM
    assert last.payload["daily_digest"] is True
    # A share then carries "no email" to the portal (F5).
    note = firm.item(ItemKind.NOTE)
    repo.share(ItemKind.NOTE, note)
    with firm.system.db.read() as s:
        last = s.scalars(select(OutboxEntry).order_by(OutboxEntry.id.desc())).first()
    assert last is not None
    assert last.payload["notify"] is False


def test_f6_turning_the_firm_off_asks_then_hides_everything_and_deletes_nothing(
    firm: Firm,
) -> None:
    repo = firm.admin
    note = firm.item(ItemKind.NOTE)
    repo.share(ItemKind.NOTE, note)
    with pytest.raises(NeedsConfirmation) as asked:
        repo.set_firm_portal(enabled=False)
    assert asked.value.question == texts.FIRM_OFF_CONFIRM
    assert repo.firm_portal().enabled is True
    repo.set_firm_portal(enabled=False, confirmed=True)
    assert repo.firm_portal().enabled is False
    assert _ops(firm)[-1] is OutboxOp.FIRM
    # Nothing the firm holds is deleted: the note and its share mark are still there.
    assert repo.share_state(ItemKind.NOTE, note).wanted
    # While OFF, nothing new is shared.
    with pytest.raises(Refused, match="OFF for the firm"):
        repo.share(ItemKind.NOTE, firm.item(ItemKind.NOTE))
    # Turning it ON again asks nothing.
    repo.set_firm_portal(enabled=True)


def test_m1_portal_must_be_on_before_sharing_or_inviting(firm: Firm) -> None:
    repo = firm.admin
    task = firm.item(ItemKind.TASK, firm.other_matter_id)
    with pytest.raises(Refused) as e:
        repo.share(ItemKind.TASK, task)
    assert e.value.rule == "M1"
    assert e.value.message == texts.MATTER_PORTAL_OFF
    with pytest.raises(Refused) as e:
        repo.invite_contact(
            firm.other_matter_id, firm.client_id, name="Ada Byrne", email="ada@example.test"
        )
    assert e.value.rule == "M1"
    assert repo.contacts(firm.other_matter_id) == []
    assert not repo.share_state(ItemKind.TASK, task).wanted


def test_m2_turning_a_matter_on_starts_from_the_firms_set(firm: Firm) -> None:
    repo = firm.admin
    repo.set_firm_portal(permissions=ALL_CATEGORIES - {Category.NOTES, Category.FORMS})
    repo.set_matter_portal(firm.other_matter_id, True)
    assert repo.matter_permissions(firm.other_matter_id) == ALL_CATEGORIES - {
        Category.NOTES,
        Category.FORMS,
    }


def test_m2_matter_may_narrow_but_not_widen(firm: Firm) -> None:
    repo = firm.admin
    repo.set_matter_permissions(firm.matter_id, {Category.INVOICES})
    assert repo.matter(firm.matter_id).effective_permissions == {Category.INVOICES}
    repo.set_firm_portal(permissions={Category.INVOICES, Category.NOTES})
    with pytest.raises(Refused, match="Documents cannot be permitted"):
        repo.set_matter_permissions(firm.matter_id, {Category.DOCUMENTS})
    assert repo.matter_permissions(firm.matter_id) == {Category.INVOICES}


def test_m3_matters_list_shows_which_have_the_portal_on(firm: Firm) -> None:
    from portal_tui.domain.rules import m3_shows_portal_icon

    rows = {r.id: r for r in firm.admin.list_matters().rows}
    assert m3_shows_portal_icon(rows[firm.matter_id].portal_enabled)
    assert not m3_shows_portal_icon(rows[firm.other_matter_id].portal_enabled)
    assert [r.id for r in firm.admin.list_matters(portal_only=True).rows] == [firm.matter_id]


def test_m4_turning_a_matter_off_asks_keeps_marks_and_offers_to_publish_again(
    firm: Firm,
) -> None:
    repo = firm.admin
    notes = [firm.item(ItemKind.NOTE) for _ in range(2)]
    for n in notes:
        repo.share(ItemKind.NOTE, n)
    with pytest.raises(NeedsConfirmation) as asked:
        repo.set_matter_portal(firm.matter_id, False)
    assert asked.value.question == texts.MATTER_OFF_CONFIRM
    assert repo.matter(firm.matter_id).portal_enabled
    repo.set_matter_portal(firm.matter_id, False, confirmed=True)
    assert not repo.matter(firm.matter_id).portal_enabled
    assert all(repo.share_state(ItemKind.NOTE, n).wanted for n in notes)  # marks kept
    # ON again asks first, and changes nothing until it is answered.
    before = len(_ops(firm))
    with pytest.raises(NeedsConfirmation) as offered:
        repo.set_matter_portal(firm.matter_id, True)
    assert offered.value.question == texts.MATTER_REPUBLISH_OFFER.format(count=2)
    assert not repo.matter(firm.matter_id).portal_enabled and len(_ops(firm)) == before
    change = repo.set_matter_portal(firm.matter_id, True, republish=True)
    assert change.republished == 2 and repo.matter(firm.matter_id).portal_enabled
    assert _ops(firm)[before:] == [OutboxOp.MATTER, OutboxOp.PUBLISH, OutboxOp.PUBLISH]


def test_m4_declining_to_publish_again_unshares_what_was_kept(firm: Firm) -> None:
    repo = firm.admin
    note = firm.item(ItemKind.NOTE)
    repo.share(ItemKind.NOTE, note)
    repo.set_matter_portal(firm.matter_id, False, confirmed=True)
    before = len(_ops(firm))
    change = repo.set_matter_portal(firm.matter_id, True, republish=False)
    assert change.withdrawn == 1 and repo.matter(firm.matter_id).portal_enabled
    assert not repo.share_state(ItemKind.NOTE, note).wanted
    # Withdrawn before the matter is ON again: its client never sees what was declined.
    assert _ops(firm)[before:] == [OutboxOp.REVOKE, OutboxOp.MATTER]


def test_m4_matter_portal_is_managed_by_admin_and_normal_only(firm: Firm) -> None:
    with pytest.raises(Refused) as e:
        firm.as_(StaffRole.BILLING).set_matter_portal(firm.other_matter_id, True)
    assert e.value.rule == "R1"
    assert not firm.admin.matter(firm.other_matter_id).portal_enabled


def test_m5_restricted_parties_get_no_portal_notifications(firm: Firm) -> None:
    from portal_tui.domain import PartyAccess

    restricted = firm.staff[StaffRole.BILLING]
    firm.admin.set_party_access(firm.matter_id, restricted, PartyAccess.RESTRICTED)
    parties = {p.staff_id: p.access for p in firm.admin.parties(firm.matter_id)}
    assert parties[restricted] is PartyAccess.RESTRICTED
    assert parties[firm.staff[StaffRole.ADMIN]] is PartyAccess.ALLOWED
    with firm.system.db.read() as s:
        last = s.scalars(select(OutboxEntry).order_by(OutboxEntry.id.desc())).first()
    assert last is not None
    assert last.op is OutboxOp.PARTIES
    notified = {p["login"] for p in last.payload["notify"]}
    assert "billing" not in notified
    assert "admin" in notified


def test_f2_setting_up_the_firm_again_with_its_name_changes_nothing(firm: Firm) -> None:
    before = _ops(firm)
    firm.system.setup_firm("Hale & Forde LLP")
    assert _ops(firm) == before
    firm.system.setup_firm("Hale, Forde & Quinn LLP")
    assert firm.system.firm_name() == "Hale, Forde & Quinn LLP"
    assert _ops(firm)[len(before) :] == [OutboxOp.FIRM]


# Two-factor sign-in: the firm's requirement and a matter's sensitive mark ----------------------


def _payloads(firm: Firm, op: OutboxOp) -> list[dict[str, object]]:
    with firm.system.db.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.op == op).order_by(OutboxEntry.id))
        return [dict(r.payload) for r in rows]


def test_the_firm_requires_two_factor_and_the_portal_is_told(firm: Firm) -> None:
    repo = firm.admin
    assert repo.firm_portal().two_factor_required is TwoFactorRequirement.OFF
    repo.set_firm_portal(two_factor_required=TwoFactorRequirement.SENSITIVE)
    assert repo.firm_portal().two_factor_required is TwoFactorRequirement.SENSITIVE
    assert _payloads(firm, OutboxOp.FIRM)[-1]["two_factor_required"] == "sensitive"
    with pytest.raises(Refused):
        firm.as_(StaffRole.BILLING).set_firm_portal(two_factor_required=TwoFactorRequirement.ALL)


def test_a_matter_marked_sensitive_is_carried_to_the_portal(firm: Firm) -> None:
    repo = firm.admin
    assert repo.matter(firm.matter_id).sensitive is False
    repo.set_matter_sensitive(firm.matter_id, True)
    assert repo.matter(firm.matter_id).sensitive is True
    sent = _payloads(firm, OutboxOp.MATTER)[-1]
    assert (sent["matter_id"], sent["sensitive"]) == (firm.matter_id, True)
    count = len(_payloads(firm, OutboxOp.MATTER))
    repo.set_matter_sensitive(firm.matter_id, True)  # no change, nothing queued
    assert len(_payloads(firm, OutboxOp.MATTER)) == count
    with pytest.raises(Refused):
        firm.as_(StaffRole.READ_ONLY).set_matter_sensitive(firm.matter_id, False)

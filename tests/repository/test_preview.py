"""Preview as client at repository level: what each active contact of a matter sees now, by
the same rule the portal service applies (P3, S7, F6, M4, C2, C3, C4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_tui.domain import Category, ContactStatus, ItemKind, ShareState, StaffRole, texts
from portal_tui.repository.preview import MatterPreview

from .conftest import Firm

ACTIVATED = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _active_contact(firm: Firm, matter_id: int | None = None) -> int:
    repo = firm.admin
    matter = matter_id or firm.matter_id
    contact = repo.invite_contact(matter, firm.client_id, name="Ada Byrne", email="ada@x.test")
    repo.record_contact_activated(contact, ACTIVATED)
    return contact


def _seen(preview: MatterPreview, contact_index: int = 0) -> dict[Category, list[str]]:
    contact = preview.contacts[contact_index]
    return {g.category: [i.title for i in g.items] for g in contact.groups}


def _shared_note(firm: Firm, subject: str, matter_id: int | None = None) -> int:
    repo = firm.admin
    note = repo.add_note(matter_id or firm.matter_id, subject=subject, body="")
    repo.share(ItemKind.NOTE, note)
    return note


def test_p3_a_shared_item_in_a_permitted_category_is_seen(firm: Firm) -> None:
    _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    firm.admin.add_note(firm.matter_id, subject="Internal only", body="")  # never shared
    preview = firm.admin.client_preview(firm.matter_id)
    assert preview.reason is None
    assert [c.contact.name for c in preview.contacts] == ["Ada Byrne"]
    assert _seen(preview)[Category.NOTES] == ["Call with Ada"]
    assert preview.contacts[0].item_count == 1
    item = preview.contacts[0].groups[3].items[0]
    assert (item.kind, item.share.state) == (ItemKind.NOTE, ShareState.PENDING)


def test_p3_every_kind_lands_in_its_category_in_the_order_of_the_permission_boxes(
    firm: Firm,
) -> None:
    _active_contact(firm)
    for kind in ItemKind:
        firm.admin.share(kind, firm.item(kind), confirmed=True)
    preview = firm.admin.client_preview(firm.matter_id)
    groups = preview.contacts[0].groups
    assert [g.category for g in groups] == list(Category)
    assert all(len(g.items) == 1 and g.items[0].kind.category is g.category for g in groups)
    assert preview.contacts[0].screens[0] == "Dashboard"


def test_p3_unshared_items_are_not_seen(firm: Firm) -> None:
    _active_contact(firm)
    note = _shared_note(firm, "Call with Ada")
    firm.admin.unshare(ItemKind.NOTE, note)
    assert _seen(firm.admin.client_preview(firm.matter_id))[Category.NOTES] == []


def test_m2_a_category_not_permitted_on_the_matter_is_not_shown(firm: Firm) -> None:
    _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    firm.admin.set_matter_permissions(firm.matter_id, [c for c in Category if c != Category.NOTES])
    preview = firm.admin.client_preview(firm.matter_id)
    assert Category.NOTES not in _seen(preview)
    assert "Notes" not in preview.contacts[0].screens


def test_f4_a_category_the_firm_unchecks_is_not_shown(firm: Firm) -> None:
    _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    firm.admin.set_firm_portal(permissions=[c for c in Category if c != Category.NOTES])
    assert Category.NOTES not in _seen(firm.admin.client_preview(firm.matter_id))


@pytest.mark.parametrize("status", [ContactStatus.DISABLED, ContactStatus.REMOVED])
def test_c2_c3_a_disabled_or_removed_contact_is_not_listed(
    firm: Firm, status: ContactStatus
) -> None:
    contact = _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    if status is ContactStatus.DISABLED:
        firm.admin.disable_contact(contact)
    else:
        firm.admin.remove_contact(contact, confirmed=True)
    preview = firm.admin.client_preview(firm.matter_id)
    assert preview.contacts == ()
    assert preview.reason == texts.PREVIEW_NO_ACTIVE_CONTACT


def test_p1_an_invited_contact_who_never_activated_sees_nothing(firm: Firm) -> None:
    firm.admin.invite_contact(firm.matter_id, firm.client_id, name="Ada Byrne", email="a@x.test")
    _shared_note(firm, "Call with Ada")
    preview = firm.admin.client_preview(firm.matter_id)
    assert preview.contacts == ()
    assert preview.reason == texts.PREVIEW_NO_ACTIVE_CONTACT


def test_m4_a_matter_turned_off_shows_nothing_and_says_why(firm: Firm) -> None:
    _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    firm.admin.set_matter_portal(firm.matter_id, False, confirmed=True)
    preview = firm.admin.client_preview(firm.matter_id)
    assert preview.reason == texts.PREVIEW_MATTER_OFF
    assert all(not g.items for c in preview.contacts for g in c.groups)
    firm.admin.set_matter_portal(firm.matter_id, True, republish=True)
    assert _seen(firm.admin.client_preview(firm.matter_id))[Category.NOTES] == ["Call with Ada"]


def test_f6_the_firm_switched_off_shows_nothing_and_says_why(firm: Firm) -> None:
    _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    firm.admin.set_firm_portal(enabled=False, confirmed=True)
    preview = firm.admin.client_preview(firm.matter_id)
    assert preview.reason == texts.PREVIEW_FIRM_OFF
    assert all(not g.items for c in preview.contacts for g in c.groups)


def test_c4_a_contact_on_two_matters_is_previewed_for_this_matter_only(firm: Firm) -> None:
    _active_contact(firm)
    firm.admin.set_matter_portal(firm.other_matter_id, True)
    _active_contact(firm, firm.other_matter_id)
    _shared_note(firm, "On this matter")
    _shared_note(firm, "On the other matter", firm.other_matter_id)
    assert _seen(firm.admin.client_preview(firm.matter_id))[Category.NOTES] == ["On this matter"]
    other = firm.admin.client_preview(firm.other_matter_id)
    assert _seen(other)[Category.NOTES] == ["On the other matter"]


def test_a_message_without_a_subject_is_named_by_its_first_line(firm: Firm) -> None:
    _active_contact(firm)
    message = firm.admin.add_message(firm.matter_id, body="Please sign the inventory.\nThanks")
    firm.admin.share(ItemKind.MESSAGE, message)
    assert _seen(firm.admin.client_preview(firm.matter_id))[Category.MESSAGES] == [
        "Please sign the inventory."
    ]


@pytest.mark.parametrize("role", list(StaffRole))
def test_r1_every_role_may_look(firm: Firm, role: StaffRole) -> None:
    _active_contact(firm)
    _shared_note(firm, "Call with Ada")
    assert _seen(firm.as_(role).client_preview(firm.matter_id))[Category.NOTES] == ["Call with Ada"]

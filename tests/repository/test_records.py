"""Clients, matters and contacts kept by staff, on SQLite and PostgreSQL: Admin and Normal only
(R1), every field checked with one clear sentence and nothing written on bad input, every
change audited, a Save crossed by another staff member's refused with the conflict message
(two repositories, as two apps), and closing a matter whose portal is ON asking whether to turn
it off too (M4: Yes closes and turns it off, the share marks kept; No closes only)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from portal_tui.domain import (
    ContactStatus,
    ItemKind,
    MatterStatus,
    NeedsConfirmation,
    OutboxOp,
    Refused,
    StaffRole,
    texts,
)
from portal_tui.domain.decision import EditConflict, Invalid, NotFound
from portal_tui.repository import Repository
from portal_tui.store.models import AuditEntry, Client, Matter, OutboxEntry

from .conftest import Firm


def _count(firm: Firm, model: type[Any]) -> int:
    with firm.system.db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _audited(firm: Firm, action: str) -> list[AuditEntry]:
    with firm.system.db.read() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def _outbox(firm: Firm, op: OutboxOp) -> list[dict[str, Any]]:
    with firm.system.db.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.op == op).order_by(OutboxEntry.id))
        return [r.payload for r in rows]


# Clients ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.NORMAL])
def test_r1_admin_and_normal_staff_add_and_edit_clients(firm: Firm, role: StaffRole) -> None:
    repo = firm.as_(role)
    client = repo.add_client(
        "  Carla Diaz ", primary_email="carla@example.test", phone="", address=""
    )
    row = repo.client(client)
    assert (row.name, row.primary_email, row.phone, row.address) == (
        "Carla Diaz",
        "carla@example.test",
        None,
        None,
    )
    saved = repo.edit_client(
        client, expected_version=row.edit_version, phone="+44 20 7946 0000", primary_email=""
    )
    assert (saved.phone, saved.primary_email) == ("+44 20 7946 0000", None)
    assert saved.edit_version > row.edit_version
    edit = _audited(firm, "client.edit")[-1]
    assert edit.actor == role.value and edit.after == {
        "phone": "+44 20 7946 0000",
        "primary_email": None,
    }


@pytest.mark.parametrize("role", [StaffRole.BILLING, StaffRole.READ_ONLY])
def test_r1_billing_and_read_only_may_not_add_or_change_clients(
    firm: Firm, role: StaffRole
) -> None:
    repo = firm.as_(role)
    before = _count(firm, Client)
    with pytest.raises(Refused) as added:
        repo.add_client("Dan Eve")
    assert (added.value.rule, added.value.message) == ("R1", texts.ROLE_CANNOT_KEEP_RECORDS)
    with pytest.raises(Refused, match="may add or change clients and matters"):
        repo.edit_client(firm.client_id, name="Someone else")
    assert _count(firm, Client) == before
    assert firm.system.client(firm.client_id).name == "Ada Byrne"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, texts.CLIENT_NEEDS_NAME),
        ({"name": "x" * 201}, texts.CLIENT_NEEDS_NAME),
        (
            {"name": "Dan", "primary_email": "dan at example"},
            texts.CLIENT_BAD_EMAIL.format(email="dan at example"),
        ),
        ({"name": "Dan", "phone": "1" * 61}, texts.CLIENT_PHONE_TOO_LONG),
    ],
)
def test_a_client_with_a_bad_field_is_refused_clearly_and_nothing_is_saved(
    firm: Firm, fields: dict[str, str], message: str
) -> None:
    before = _count(firm, Client)
    with pytest.raises(Invalid) as refused:
        firm.admin.add_client(**fields)
    assert str(refused.value) == message
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        firm.admin.edit_client(firm.client_id, **fields)
    assert _count(firm, Client) == before
    assert firm.system.client(firm.client_id).name == "Ada Byrne"
    assert _audited(firm, "client.edit") == []


def test_a_client_edit_crossed_by_another_staff_members_is_refused(
    firm: Firm, migrated_url: str
) -> None:
    """Two apps (two repositories, each with its own engine) opened the same client; the
    second Save is refused with the conflict message naming who saved first."""
    mine = Repository.open(migrated_url, StaffRole.ADMIN.value)
    theirs = Repository.open(migrated_url, StaffRole.NORMAL.value)
    try:
        seen = mine.client(firm.client_id)
        assert theirs.client(firm.client_id).edit_version == seen.edit_version
        theirs.edit_client(
            firm.client_id,
            expected_version=seen.edit_version,
            primary_email="ada.byrne@example.test",
        )
        with pytest.raises(EditConflict) as crossed:
            mine.edit_client(firm.client_id, expected_version=seen.edit_version, name="Ada B.")
        assert crossed.value.message.startswith("Normal User changed this client at ")
        assert "your changes were not saved" in crossed.value.message
        now = firm.system.client(firm.client_id)
        assert (now.name, now.primary_email) == ("Ada Byrne", "ada.byrne@example.test")
    finally:
        mine.close()
        theirs.close()


# Matters ---------------------------------------------------------------------------------------


def test_r1_a_matter_is_added_with_its_responsible_staff_user_and_shows_in_the_list(
    firm: Firm,
) -> None:
    repo = firm.as_(StaffRole.NORMAL)
    responsible = firm.staff[StaffRole.BILLING]
    matter = repo.add_matter(
        firm.client_id,
        number=" 2026-0100 ",
        name="Lease of Unit 9",
        practice_area="Property",
        responsible_id=responsible,
    )
    detail = repo.matter(matter)
    assert (detail.number, detail.status, detail.practice_area, detail.portal_enabled) == (
        "2026-0100",
        MatterStatus.OPEN,
        "Property",
        False,
    )
    assert (detail.responsible_id, detail.responsible_name) == (responsible, "Billing User")
    row = next(r for r in repo.list_matters("Unit 9").rows)
    assert row.responsible_name == "Billing User"
    assert _audited(firm, "matter.add")[-1].after["responsible_id"] == responsible  # type: ignore[index]


@pytest.mark.parametrize("role", [StaffRole.BILLING, StaffRole.READ_ONLY])
def test_r1_billing_and_read_only_may_not_add_or_change_matters(
    firm: Firm, role: StaffRole
) -> None:
    repo = firm.as_(role)
    before = _count(firm, Matter)
    with pytest.raises(Refused, match=texts.ROLE_CANNOT_KEEP_RECORDS):
        repo.add_matter(firm.client_id, number="2026-0100", name="Lease")
    with pytest.raises(Refused, match=texts.ROLE_CANNOT_KEEP_RECORDS):
        repo.edit_matter(firm.matter_id, status=MatterStatus.CLOSED, portal_off=False)
    assert _count(firm, Matter) == before
    assert firm.system.matter(firm.matter_id).status is MatterStatus.OPEN


def test_a_matter_number_taken_is_refused_naming_the_other_matter(firm: Firm) -> None:
    repo = firm.admin
    taken = texts.MATTER_NUMBER_TAKEN.format(
        number="2026-0002", name="Purchase of 14 Elm St", client="Ada Byrne"
    )
    before = _count(firm, Matter)
    with pytest.raises(Invalid) as added:
        repo.add_matter(firm.client_id, number="2026-0002", name="Another")
    assert str(added.value) == taken
    with pytest.raises(Invalid) as edited:
        repo.edit_matter(firm.matter_id, number="2026-0002", name="Renamed")
    assert str(edited.value) == taken
    assert _count(firm, Matter) == before
    kept = repo.matter(firm.matter_id)
    assert (kept.number, kept.name) == ("2026-0001", "Estate of Byrne")
    # Its own number again is no clash.
    repo.edit_matter(firm.matter_id, number="2026-0001", name="Estate of A. Byrne")
    assert repo.matter(firm.matter_id).name == "Estate of A. Byrne"


def test_bad_matter_fields_and_links_are_refused_and_nothing_is_saved(firm: Firm) -> None:
    repo = firm.admin
    firm.admin.set_staff_active(StaffRole.READ_ONLY.value, False)
    before = _count(firm, Matter)
    for fields, error, words in [
        ({"number": " ", "name": "Lease"}, Invalid, texts.MATTER_NEEDS_NUMBER),
        ({"number": "1" * 41, "name": "Lease"}, Invalid, texts.MATTER_NEEDS_NUMBER),
        ({"number": "2026-0100", "name": ""}, Invalid, texts.MATTER_NEEDS_NAME),
        (
            {"number": "2026-0100", "name": "Lease", "practice_area": "p" * 121},
            Invalid,
            texts.MATTER_PRACTICE_AREA_TOO_LONG,
        ),
        (
            {
                "number": "2026-0100",
                "name": "Lease",
                "responsible_id": firm.staff[StaffRole.READ_ONLY],
            },
            Invalid,
            texts.MATTER_RESPONSIBLE_INACTIVE.format(name="Read-only User"),
        ),
        ({"number": "2026-0100", "name": "Lease", "responsible_id": 9999}, NotFound, "9999"),
    ]:
        with pytest.raises(error) as refused:
            repo.add_matter(firm.client_id, **fields)
        assert words in str(refused.value)
    with pytest.raises(NotFound):
        repo.add_matter(9999, number="2026-0100", name="Lease")
    with pytest.raises(Invalid, match="not a matter status"):
        repo.edit_matter(firm.matter_id, status="archived")
    assert _count(firm, Matter) == before
    assert _audited(firm, "matter.edit") == []


def test_a_matter_edit_crossed_by_another_staff_members_is_refused(
    firm: Firm, migrated_url: str
) -> None:
    mine = Repository.open(migrated_url, StaffRole.ADMIN.value)
    theirs = Repository.open(migrated_url, StaffRole.NORMAL.value)
    try:
        seen = mine.matter(firm.other_matter_id)
        theirs.edit_matter(
            firm.other_matter_id,
            expected_version=seen.edit_version,
            responsible_id=firm.staff[StaffRole.NORMAL],
        )
        with pytest.raises(EditConflict) as crossed:
            mine.edit_matter(
                firm.other_matter_id, expected_version=seen.edit_version, name="Renamed"
            )
        assert crossed.value.message.startswith("Normal User changed this matter at ")
        now = firm.system.matter(firm.other_matter_id)
        assert (now.name, now.responsible_name) == ("Purchase of 14 Elm St", "Normal User")
    finally:
        mine.close()
        theirs.close()


def test_a_new_number_or_name_of_a_matter_on_the_portal_goes_to_it(firm: Firm) -> None:
    """The portal lists a client's matters by number and name (C4): it is told of a change;
    a matter it has never had (portal never ON) is not sent."""
    before = len(_outbox(firm, OutboxOp.MATTER))
    firm.admin.edit_matter(firm.matter_id, name="Estate of Ada Byrne")
    firm.admin.edit_matter(firm.other_matter_id, name="Purchase of 15 Elm St")
    firm.admin.edit_matter(firm.matter_id, practice_area="Probate")  # not on the portal
    sent = _outbox(firm, OutboxOp.MATTER)[before:]
    assert [(p["matter_id"], p["name"], p["enabled"]) for p in sent] == [
        (firm.matter_id, "Estate of Ada Byrne", True)
    ]


def test_m4_closing_a_matter_whose_portal_is_on_asks_and_yes_turns_the_portal_off(
    firm: Firm,
) -> None:
    repo = firm.admin
    note = firm.item(ItemKind.NOTE)
    repo.share(ItemKind.NOTE, note)
    seen = repo.matter(firm.matter_id)
    before = len(_outbox(firm, OutboxOp.MATTER))
    with pytest.raises(NeedsConfirmation) as asked:
        repo.edit_matter(
            firm.matter_id, expected_version=seen.edit_version, status=MatterStatus.CLOSED
        )
    assert asked.value.rule == "M4"
    assert asked.value.question == texts.MATTER_CLOSE_PORTAL_OFF.format(number="2026-0001")
    assert asked.value.question.split("? ")[0].endswith("Turn its portal off too")
    unchanged = repo.matter(firm.matter_id)  # asked: nothing changed yet
    assert (unchanged.status, unchanged.portal_enabled) == (MatterStatus.OPEN, True)
    assert unchanged.edit_version == seen.edit_version

    closed = repo.edit_matter(
        firm.matter_id,
        expected_version=seen.edit_version,
        status=MatterStatus.CLOSED,
        portal_off=True,
    )
    assert (closed.status, closed.portal_enabled) == (MatterStatus.CLOSED, False)
    assert repo.share_state(ItemKind.NOTE, note).wanted  # M4: the marks are kept
    sent = _outbox(firm, OutboxOp.MATTER)[before:]
    assert [p["enabled"] for p in sent] == [False]
    assert [e.after for e in _audited(firm, "matter.portal")][-1]["enabled"] is False  # type: ignore[index]


def test_m4_closing_with_no_closes_it_and_leaves_the_portal_on(firm: Firm) -> None:
    repo = firm.as_(StaffRole.NORMAL)
    before = len(_outbox(firm, OutboxOp.MATTER))
    closed = repo.edit_matter(firm.matter_id, status=MatterStatus.CLOSED, portal_off=False)
    assert (closed.status, closed.portal_enabled) == (MatterStatus.CLOSED, True)
    assert len(_outbox(firm, OutboxOp.MATTER)) == before
    # A matter with its portal OFF closes without a question.
    other = repo.edit_matter(firm.other_matter_id, status=MatterStatus.CLOSED)
    assert other.status is MatterStatus.CLOSED


# Contacts --------------------------------------------------------------------------------------


def _invite(firm: Firm) -> int:
    return firm.admin.invite_contact(
        firm.matter_id, firm.client_id, name="Ada Byrne", email="ada@example.test"
    )


def test_c1_editing_a_contact_saves_name_and_email_and_tells_the_portal(firm: Firm) -> None:
    contact = _invite(firm)
    seen = firm.admin.contact(contact)
    message = firm.as_(StaffRole.NORMAL).edit_contact(
        contact, name="Ada M. Byrne", email="ada.m@example.test", expected_version=seen.version
    )
    assert message.startswith(texts.CONTACT_SAVED.format(name="Ada M. Byrne"))
    assert texts.CONTACT_EMAIL_CHANGED_INVITED in message  # the invitation went elsewhere
    row = firm.admin.contact(contact)
    assert (row.name, row.email, row.status) == (
        "Ada M. Byrne",
        "ada.m@example.test",
        ContactStatus.INVITED,
    )
    assert row.version == seen.version + 1
    sent = _outbox(firm, OutboxOp.CONTACT)[-1]
    assert (sent["action"], sent["name"], sent["email"], sent["version"]) == (
        "edit",
        "Ada M. Byrne",
        "ada.m@example.test",
        row.version,
    )
    assert _audited(firm, "contact.edit")[-1].before == {
        "name": "Ada Byrne",
        "email": "ada@example.test",
    }
    # The client's own record is the firm's, not the contact's: unchanged.
    assert firm.system.client(firm.client_id).primary_email == "ada@example.test"


def test_c1_a_bad_contact_edit_or_one_crossed_is_refused_and_nothing_changes(
    firm: Firm,
) -> None:
    contact = _invite(firm)
    seen = firm.admin.contact(contact)
    sent = len(_outbox(firm, OutboxOp.CONTACT))
    for name, email, words in [
        ("", "ada@example.test", texts.CONTACT_NEEDS_NAME),
        ("Ada", "ada@", texts.CONTACT_BAD_EMAIL.format(email="ada@")),
        ("Ada", " ", texts.CONTACT_NEEDS_EMAIL.format(name="Ada")),
    ]:
        with pytest.raises(Refused) as refused:
            firm.admin.edit_contact(contact, name=name, email=email)
        assert refused.value.message == words
    for role in (StaffRole.BILLING, StaffRole.READ_ONLY):
        with pytest.raises(Refused, match=texts.ROLE_CANNOT_INVITE):
            firm.as_(role).edit_contact(contact, name="Ada", email="a@example.test")
    firm.admin.disable_contact(contact)
    with pytest.raises(EditConflict):
        firm.admin.edit_contact(
            contact, name="Ada", email="a@example.test", expected_version=seen.version
        )
    firm.admin.remove_contact(contact, confirmed=True)
    with pytest.raises(Refused, match="Edit Contact is not available for a contact who is removed"):
        firm.admin.edit_contact(contact, name="Ada", email="a@example.test")
    row = firm.admin.contact(contact)
    assert (row.name, row.email) == ("Ada Byrne", "ada@example.test")
    assert [p["action"] for p in _outbox(firm, OutboxOp.CONTACT)[sent:]] == ["disable", "remove"]

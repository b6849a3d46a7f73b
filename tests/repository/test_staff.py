"""A firm from nothing and its staff (R1): `init_firm` makes the firm and its first Admin
together or not at all; only an Admin manages staff; the firm always keeps an active Admin;
nobody disables themselves; every change is audited; a staff user disabled or given another
role while their app runs is refused at its next write — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal_tui.domain import ItemKind, StaffRole, texts
from portal_tui.domain.decision import Invalid, Refused
from portal_tui.repository import Repository
from portal_tui.store.models import AuditEntry, FirmSettings, OutboxEntry, StaffUser

from .conftest import Firm


def _audit(repo: Repository, action: str) -> list[AuditEntry]:
    with repo.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_init_makes_the_firm_and_its_admin_and_refuses_a_second_time(migrated_url: str) -> None:
    repo = Repository.open(migrated_url)
    try:
        with pytest.raises(
            Refused, match=r"No active staff user with login 'jdoe'.*portal-tui init"
        ):
            Repository(repo.db, "jdoe").add_client("Ada")
        admin_id = repo.init_firm("Harbor & Vale LLP", "jdoe", "Jane Doe", "jane@hv.example")
        assert repo.firm_name() == "Harbor & Vale LLP"
        assert repo.firm_identity() is not None  # who the firm is to its portal
        jdoe = Repository(repo.db, "jdoe")
        assert jdoe.current_staff() is not None and jdoe.current_staff().id == admin_id  # type: ignore[union-attr]
        assert jdoe.current_staff().role is StaffRole.ADMIN  # type: ignore[union-attr]
        assert [e.kind for e in _audit(repo, "firm.create")] == ["firm"]
        with repo.db.read() as s:
            assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 1  # the firm
        with pytest.raises(Refused, match="already holds a firm \\(Harbor & Vale LLP\\)"):
            repo.init_firm("Another", "x", "X", "x@example.test")
        with repo.db.read() as s:
            assert s.scalar(select(func.count()).select_from(StaffUser)) == 1
    finally:
        repo.close()


def test_init_with_bad_fields_writes_nothing(migrated_url: str) -> None:
    repo = Repository.open(migrated_url)
    try:
        for firm, login, name, email, why in [
            ("", "jdoe", "Jane", "j@x.test", "needs a name"),
            ("Firm", "j doe", "Jane", "j@x.test", "not usable"),
            ("Firm", "jdoe", " ", "j@x.test", "needs a name"),
            ("Firm", "jdoe", "Jane", "not-an-email", "not an email"),
        ]:
            with pytest.raises(Invalid, match=why):
                repo.init_firm(firm, login, name, email)
        with repo.db.read() as s:
            assert s.scalar(select(func.count()).select_from(FirmSettings)) == 0
            assert s.scalar(select(func.count()).select_from(StaffUser)) == 0
    finally:
        repo.close()


def test_r1_only_an_admin_manages_staff(firm: Firm) -> None:
    for role in (StaffRole.NORMAL, StaffRole.BILLING, StaffRole.READ_ONLY):
        repo = firm.as_(role)
        with pytest.raises(Refused, match="Only Admin"):
            repo.add_staff("new", "New", "new@firm.test", StaffRole.NORMAL)
        with pytest.raises(Refused, match=texts.STAFF_ADMIN_ONLY):
            repo.set_staff_role("billing", StaffRole.ADMIN)
        with pytest.raises(Refused, match=texts.STAFF_ADMIN_ONLY):
            repo.set_staff_active("billing", False)


def test_roles_change_and_staff_are_disabled_and_enabled_audited(firm: Firm) -> None:
    admin = firm.admin
    assert admin.set_staff_role("billing", StaffRole.NORMAL).role is StaffRole.NORMAL
    assert not admin.set_staff_active("normal", False).active
    assert admin.set_staff_active("normal", True).active
    role_changes = _audit(admin, "staff.role")
    assert [(e.actor, e.before, e.after) for e in role_changes] == [
        ("admin", {"login": "billing", "role": "billing"}, {"login": "billing", "role": "normal"})
    ]
    assert [e.item_id for e in _audit(admin, "staff.disable")] == [firm.staff[StaffRole.NORMAL]]
    assert len(_audit(admin, "staff.enable")) == 1
    with pytest.raises(Invalid, match="no staff user with login 'nobody'"):
        admin.set_staff_role("nobody", StaffRole.ADMIN)
    with pytest.raises(Refused, match="already exists"):
        admin.add_staff("normal", "Again", "again@firm.test", StaffRole.NORMAL)


def test_the_firm_keeps_an_active_admin_and_nobody_disables_themselves(firm: Firm) -> None:
    admin = firm.admin
    with pytest.raises(Refused, match=texts.STAFF_NOT_YOURSELF):
        admin.set_staff_active("admin", False)
    with pytest.raises(Refused, match="at least one active Admin"):
        admin.set_staff_role("admin", StaffRole.NORMAL)
    admin.set_staff_role("normal", StaffRole.ADMIN)
    # Now there are two: the first may step down, and is refused at its next write.
    assert admin.set_staff_role("admin", StaffRole.NORMAL).role is StaffRole.NORMAL
    with pytest.raises(Refused, match="is now Normal, so nothing was changed"):
        admin.add_client("Late")
    other = firm.as_(StaffRole.NORMAL)  # the new Admin (login "normal")
    with pytest.raises(Refused, match="at least one active Admin"):
        other.set_staff_role("normal", StaffRole.BILLING)


def test_a_disabled_users_app_is_refused_at_its_next_action(firm: Firm) -> None:
    running = firm.as_(StaffRole.NORMAL)
    running.add_client("Before")  # the app is open and working
    firm.admin.set_staff_active("normal", False)
    with pytest.raises(Refused, match="was disabled by an administrator"):
        running.share(ItemKind.NOTE, firm.item(ItemKind.NOTE))
    with pytest.raises(Refused, match="was disabled by an administrator"):
        running.add_client("After")
    with firm.system.db.read() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "client.add")) == 2

"""Staff users' SSH keys and the doors' audit entries, on SQLite and PostgreSQL: a key is one
staff user's only, even when two Admins register it at the same moment; the door finds a
key's owner afresh (a removed key opens nothing); each door entry names its staff user."""

from __future__ import annotations

import threading
import warnings

import pytest
from sqlalchemy import func, select

from portal_tui.domain import StaffRole, texts
from portal_tui.domain.decision import Refused
from portal_tui.domain.ssh_keys import PublicKey, parse_public_key
from portal_tui.repository import Repository
from portal_tui.store.models import AuditEntry, StaffKey

from .conftest import Firm

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # cryptography's word on DSA
    import asyncssh


def _key() -> PublicKey:
    made = asyncssh.generate_private_key("ssh-ed25519", comment="laptop")
    key = parse_public_key(made.export_public_key().decode())
    assert key.fingerprint == made.get_fingerprint("sha256")  # what the door will see
    return key


def test_two_admins_registering_one_key_at_once_give_it_to_one_user(firm: Firm) -> None:
    second_admin = "admin2"
    firm.system.add_staff(second_admin, "Second Admin", "a2@firm.test", StaffRole.ADMIN)
    key = _key()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def add(actor: str, login: str) -> None:
        repo = Repository(firm.system.db, actor)
        _ = repo.actor
        barrier.wait()
        try:
            outcomes.append(repo.add_staff_key(login, key)[1])
        except Refused as refused:
            outcomes.append(refused.message)

    threads = [
        threading.Thread(target=add, args=(StaffRole.ADMIN.value, StaffRole.NORMAL.value)),
        threading.Thread(target=add, args=(second_admin, StaffRole.BILLING.value)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert True in outcomes and len(outcomes) == 2
    (refusal,) = [o for o in outcomes if o is not True]
    assert isinstance(refusal, str) and "is already registered to" in refusal
    with firm.system.db.read() as s:
        assert s.scalar(select(func.count()).select_from(StaffKey)) == 1
        added = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "staff.key_add")
        )
    assert added == 1


def test_the_door_finds_a_keys_owner_afresh_and_its_entries_name_them(firm: Firm) -> None:
    key = _key()
    normal = StaffRole.NORMAL.value
    assert firm.system.key_owner(key.fingerprint) is None
    firm.admin.add_staff_key(normal, key)
    owner = firm.system.key_owner(key.fingerprint)
    assert owner is not None and owner.login == normal and owner.active
    firm.admin.set_staff_active(normal, False)
    owner = firm.system.key_owner(key.fingerprint)
    assert owner is not None and not owner.active
    firm.admin.remove_staff_key(normal, key.fingerprint)
    assert firm.system.key_owner(key.fingerprint) is None

    firm.system.record_door(
        "ssh", login=normal, refused=texts.DOOR_DISABLED, address="127.0.0.1", fingerprint="x"
    )
    firm.system.record_door("ssh", login=None, refused=texts.DOOR_UNKNOWN_KEY, address="::1")
    with firm.system.db.read() as s:
        entries = list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.action.like("door.%")).order_by(AuditEntry.id)
            )
        )
    assert [(e.actor, e.staff_id, e.action) for e in entries] == [
        (normal, firm.staff[StaffRole.NORMAL], "door.refused"),
        ("ssh door", None, "door.refused"),
    ]
    assert entries[0].after == {
        "door": "ssh",
        "address": "127.0.0.1",
        "fingerprint": "x",
        "reason": texts.DOOR_DISABLED,
    }


@pytest.mark.parametrize("role", [StaffRole.NORMAL, StaffRole.BILLING, StaffRole.READ_ONLY])
def test_r1_only_an_admin_registers_or_removes_a_key(firm: Firm, role: StaffRole) -> None:
    key = _key()
    with pytest.raises(Refused, match=texts.STAFF_ADMIN_ONLY):
        firm.as_(role).add_staff_key(role.value, key)
    firm.admin.add_staff_key(role.value, key)
    with pytest.raises(Refused, match=texts.STAFF_ADMIN_ONLY):
        firm.as_(role).remove_staff_key(role.value, key.fingerprint)
    assert [k.fingerprint for k in firm.as_(role).list_staff_keys(role.value)] == [key.fingerprint]

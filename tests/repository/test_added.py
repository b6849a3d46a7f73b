"""`Context.added`, the one way a new row goes in with its audit entry: the entry names the row
by the id it got, and a row whose unique key someone else took first leaves nothing behind —
not the row, not an entry saying it was added (the trail is what an Edit's conflict reads)."""

from __future__ import annotations

from sqlalchemy import select

from portal_tui.domain import StaffRole
from portal_tui.repository.base import Context
from portal_tui.store.models import AuditEntry, StaffUser

from .conftest import Firm


def _entries(firm: Firm, action: str) -> list[AuditEntry]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_new_matter_is_named_by_its_own_id_as_item_and_matter(firm: Firm) -> None:
    matter_id = firm.admin.add_matter(firm.client_id, number="2026-0099", name="Lease of Unit 4")
    (entry,) = [e for e in _entries(firm, "matter.add") if e.item_id == matter_id]
    assert (entry.kind, entry.matter_id, entry.actor) == ("matter", matter_id, "admin")
    assert entry.after is not None and entry.after["name"] == "Lease of Unit 4"


def test_a_new_folder_is_named_by_its_id_on_its_matter(firm: Firm) -> None:
    folder_id = firm.admin.add_folder(firm.matter_id, "Correspondence")
    (entry,) = [e for e in _entries(firm, "folder.add") if e.item_id == folder_id]
    assert (entry.kind, entry.matter_id) == ("folder", firm.matter_id)


def test_a_unique_key_taken_first_writes_neither_row_nor_entry(firm: Firm) -> None:
    ctx = Context(firm.system.db, StaffRole.ADMIN.value)
    before = len(_entries(firm, "staff.add"))
    with firm.system.db.write() as s:
        twin = StaffUser(login="admin", name="Twin", email="t@firm.test", role=StaffRole.ADMIN)
        taken = ctx.added(s, twin, "staff.add", kind="staff", after={"login": "admin"}, unique=True)
        fresh = StaffUser(login="new", name="New", email="n@firm.test", role=StaffRole.NORMAL)
        # The transaction goes on after the refused insert: the next row still goes in.
        added = ctx.added(s, fresh, "staff.add", kind="staff", after={"login": "new"}, unique=True)
    assert (taken, added) == (False, True)
    logins = [e.after["login"] for e in _entries(firm, "staff.add")[before:] if e.after]
    assert logins == ["new"]
    assert [u.login for u in firm.system.list_staff() if u.name == "Twin"] == []

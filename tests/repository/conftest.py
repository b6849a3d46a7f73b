"""A small firm for repository tests: one staff user per role, a client and two matters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from portal_tui.domain import ItemKind, StaffRole
from portal_tui.repository import Repository


@dataclass
class Firm:
    """The test firm: `as_(role)` gives a repository acting as that role's staff user."""

    system: Repository
    staff: dict[StaffRole, int]
    client_id: int
    matter_id: int  # portal ON, every category permitted
    other_matter_id: int  # portal OFF

    def as_(self, role: StaffRole) -> Repository:
        return Repository(self.system.db, role.value)

    @property
    def admin(self) -> Repository:
        return self.as_(StaffRole.ADMIN)

    def item(self, kind: ItemKind, matter_id: int | None = None) -> int:
        """A fresh, unshared item of `kind` on the matter."""
        repo = self.system
        m = matter_id or self.matter_id
        n = _counter()
        if kind is ItemKind.INVOICE:
            return repo.add_invoice(
                m, number=f"INV-{n}", issued_on=date(2026, 1, 5), lines=[("Advice", "2", 25000)]
            )
        if kind is ItemKind.EVENT:
            return repo.add_event(
                m, title=f"Hearing {n}", starts_at=datetime(2026, 12, 1, 9, tzinfo=UTC)
            )
        if kind is ItemKind.TASK:
            return repo.add_task(m, title=f"Sign papers {n}", due_on=date(2026, 12, 3))
        if kind is ItemKind.NOTE:
            return repo.add_note(m, subject=f"Call {n}", body="Discussed the estate.")
        if kind is ItemKind.DOCUMENT:
            folder = repo.client_portal_folder(m)
            return repo.add_document(m, folder, name=f"letter-{n}.txt", content=b"Dear client")
        if kind is ItemKind.MESSAGE:
            return repo.add_message(m, body=f"Hello {n}")
        from portal_tui.domain import FormRule

        return repo.add_form(
            f"Intake {n}",
            fields=[{"key": "phone", "label": "Phone", "type": "phone", "target": "client.phone"}],
            rule=FormRule.ASSOCIATE,
            matter_id=m,
        )


_n = [0]


def _counter() -> int:
    _n[0] += 1
    return _n[0]


@pytest.fixture
def firm(migrated_url: str) -> Iterator[Firm]:
    repo = Repository.open(migrated_url)
    repo.setup_firm("Hale & Forde LLP")
    staff = {
        role: repo.add_staff(role.value, f"{role.label} User", f"{role.value}@firm.test", role)
        for role in StaffRole
    }
    client_id = repo.add_client("Ada Byrne", primary_email="ada@example.test")
    matter_id = repo.add_matter(client_id, number="2026-0001", name="Estate of Byrne")
    other = repo.add_matter(client_id, number="2026-0002", name="Purchase of 14 Elm St")
    repo.set_matter_portal(matter_id, True)
    yield Firm(repo, staff, client_id, matter_id, other)
    repo.close()

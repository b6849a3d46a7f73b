"""A small firm for the many-staff benchmarks, set up through the repository as staff would
(as tests/delivery/support.py build_firm does): one Admin, `staff` Normal users, clients with
matters whose portal is ON and whose client is invited, and items spread over the matters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIRM_NAME = "Hale & Forde LLP"
ADMIN = "admin"


@dataclass
class SmallFirm:
    url: str
    logins: list[str]  # the Normal staff users, one per process
    matters: list[int]
    emails: list[str]  # the clients' addresses, each invited to its matters
    items: list[tuple[Any, int]]  # (ItemKind, id), never shared yet


def build(url: str, *, staff: int, clients: int, matters_per_client: int, items: int) -> SmallFirm:
    from portal_tui.domain import ItemKind, StaffRole
    from portal_tui.repository import Repository

    system = Repository.open(url)
    try:
        system.setup_firm(FIRM_NAME)
        system.add_staff(ADMIN, "Ada Admin", "admin@firm.test", StaffRole.ADMIN)
        logins = [f"staff{n}" for n in range(1, staff + 1)]
        for n, login in enumerate(logins, 1):
            system.add_staff(login, f"Staff {n} User", f"{login}@firm.test", StaffRole.NORMAL)
        admin = Repository(system.db, ADMIN)
        matters: list[int] = []
        emails: list[str] = []
        for c in range(1, clients + 1):
            name, email = f"Client {c} Byrne", f"client{c}@example.test"
            client_id = admin.add_client(name, primary_email=email)
            emails.append(email)
            for k in range(matters_per_client):
                number = f"2026-{len(matters) + 1:04d}"
                matter = admin.add_matter(client_id, number=number, name=f"Matter {k}")
                admin.set_matter_portal(matter, True)
                admin.invite_contact(matter, client_id, name=name, email=email)
                matters.append(matter)
        made: list[tuple[Any, int]] = []
        start = datetime(2026, 12, 1, 9, tzinfo=UTC)
        for n in range(items):
            matter = matters[n % len(matters)]
            # Notes, tasks and events in turn: the kinds staff share most.
            if n % 3 == 0:
                made.append((ItemKind.NOTE, admin.add_note(matter, subject=f"Call {n}", body=".")))
            elif n % 3 == 1:
                due = date(2026, 12, 1) + timedelta(days=n % 60)
                made.append((ItemKind.TASK, admin.add_task(matter, title=f"Sign {n}", due_on=due)))
            else:
                when = start + timedelta(hours=n)
                made.append(
                    (ItemKind.EVENT, admin.add_event(matter, title=f"Hearing {n}", starts_at=when))
                )
        return SmallFirm(url, logins, matters, emails, made)
    finally:
        system.close()

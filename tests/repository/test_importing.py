"""Bringing in a firm's own files (docs/importing.md), on SQLite and PostgreSQL: a dry run
writes nothing and reports what --apply does; a file is one transaction, matched on the
firm's own ids, so a second import changes nothing; a changed row updates its item and a
shared one is published again; a row the firm cannot take refuses the whole file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal_tui.domain import ItemKind, OutboxOp, StaffRole
from portal_tui.domain.decision import Refused
from portal_tui.imports.calendar import read_calendar
from portal_tui.imports.ledes import FIELDS, read_ledes
from portal_tui.imports.records import FileRefused
from portal_tui.imports.tabular import read_clients, read_invoices, read_matters
from portal_tui.store.models import AuditEntry, CalendarEvent, Client, Invoice, Matter, OutboxEntry

from .conftest import Firm

CLIENTS = "Client ID,Name,Email\nC-1,Anna Łukasiewicz,anna@example.test\nC-2,Eve Byrne,\n"
MATTERS = (
    "Matter Number,Matter Name,Client ID,Status\n"
    "M-1,Estate of Łukasiewicz,C-1,Open\nM-2,Purchase,C-2,Closed\n"
)


def _count(firm: Firm, model: type) -> int:
    with firm.system.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_dry_run_reports_and_writes_nothing_then_apply_writes_it(firm: Firm) -> None:
    repo = firm.admin
    records = read_clients(CLIENTS).checked("c.csv")
    before = _count(firm, Client), _count(firm, AuditEntry)
    dry = repo.import_clients(records, name="c.csv", apply=False)
    assert (dry.added, dry.changed, dry.unchanged, dry.applied) == (("C-1", "C-2"), (), 0, False)
    assert (_count(firm, Client), _count(firm, AuditEntry)) == before
    done = repo.import_clients(records, name="c.csv", apply=True)
    assert done.added == dry.added and done.applied
    assert _count(firm, Client) == before[0] + 2
    again = repo.import_clients(records, name="c.csv", apply=True)
    assert (again.added, again.changed, again.unchanged) == ((), (), 2)
    changed = read_clients(CLIENTS.replace("Eve Byrne,", "Eve Byrne-Hale,eve@x.test")).checked("c")
    assert repo.import_clients(changed, name="c", apply=True).changed == ("C-2",)
    with firm.system.db.read() as s:
        eve = s.scalar(select(Client).where(Client.ref == "C-2"))
        assert eve is not None and (eve.name, eve.primary_email) == ("Eve Byrne-Hale", "eve@x.test")
        assert eve.edit_version == 2


def test_matters_need_their_client_and_a_bad_row_refuses_the_whole_file(firm: Firm) -> None:
    repo = firm.admin
    repo.import_clients(read_clients(CLIENTS).checked("c"), name="c", apply=True)
    bad = MATTERS + "M-3,Lost,C-9,Open\nM-1,Again,C-1,Open\n"
    with pytest.raises(FileRefused) as refused:
        repo.import_matters(read_matters(bad).checked("m.csv"), name="m.csv", apply=True)
    assert [(r.line, r.reason) for r in refused.value.refusals] == [
        (4, "client C-9 is not in the firm: import the clients first"),
        (5, "matter M-1 is also on line 2"),
    ]
    assert _count(firm, Matter) == 2  # the fixture's two, nothing of the file
    report = repo.import_matters(read_matters(MATTERS).checked("m"), name="m", apply=True)
    assert report.added == ("M-1", "M-2")
    with firm.system.db.read() as s:
        closed = s.scalar(select(Matter).where(Matter.number == "M-2"))
        assert closed is not None and closed.status.value == "closed" and not closed.portal_enabled


def _ledes(total: str, cost: str) -> str:
    row = dict.fromkeys(FIELDS, "")
    row |= {
        "INVOICE_DATE": "20261130",
        "INVOICE_NUMBER": "INV-900",
        "CLIENT_ID": "C-1",
        "LAW_FIRM_MATTER_ID": "2026-0001",
        "INVOICE_TOTAL": total,
        "EXP/FEE/INV_ADJ_TYPE": "F",
        "LINE_ITEM_NUMBER_OF_UNITS": "2",
        "LINE_ITEM_TOTAL": total,
        "LINE_ITEM_UNIT_COST": cost,
        "LINE_ITEM_DESCRIPTION": "Drafting",
    }
    return "LEDES1998B[]\n" + "|".join(FIELDS) + "[]\n" + "|".join(row[f] for f in FIELDS) + "[]\n"


def test_a_changed_invoice_that_is_shared_is_published_again(firm: Firm) -> None:
    repo = firm.admin
    first = read_ledes(_ledes("500.00", "250.00")).checked("nov.ledes")
    assert repo.import_invoices(first, name="nov.ledes", apply=True).added == ("INV-900",)
    with firm.system.db.read() as s:
        invoice = s.scalar(select(Invoice).where(Invoice.number == "INV-900"))
        assert invoice is not None and invoice.total_cents == 50000
        invoice_id = invoice.id
    repo.share(ItemKind.INVOICE, invoice_id, confirmed=True)
    same = repo.import_invoices(first, name="nov.ledes", apply=True)
    assert (same.changed, same.unchanged) == ((), 1)
    with firm.system.db.read() as s:
        publishes = s.scalar(
            select(func.count()).where(
                OutboxEntry.op == OutboxOp.PUBLISH, OutboxEntry.item_id == invoice_id
            )
        )
    fixed = read_ledes(_ledes("600.00", "300.00")).checked("nov.ledes")
    assert repo.import_invoices(fixed, name="nov.ledes", apply=True).changed == ("INV-900",)
    with firm.system.db.read() as s:
        invoice = s.get(Invoice, invoice_id, options=[selectinload(Invoice.lines)])
        assert invoice is not None and invoice.total_cents == 60000
        assert [(ln.quantity_milli, ln.rate_cents) for ln in invoice.lines] == [(2000, 30000)]
        again = s.scalar(
            select(func.count()).where(
                OutboxEntry.op == OutboxOp.PUBLISH, OutboxEntry.item_id == invoice_id
            )
        )
    assert again == (publishes or 0) + 1


def test_an_invoice_csv_and_an_ics_calendar(firm: Firm) -> None:
    repo = firm.admin
    csv = 'Invoice Number,Matter,Date,Total,Status\nINV-7,2026-0001,2026-11-01,"1,250.50",Paid\n'
    assert repo.import_invoices(read_invoices(csv).checked("i"), name="i", apply=True).added == (
        "INV-7",
    )
    with firm.system.db.read() as s:
        inv = s.scalar(select(Invoice).where(Invoice.number == "INV-7"))
        assert inv is not None and (inv.total_cents, inv.paid_cents) == (125050, 125050)
    ics = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//EN\nBEGIN:VEVENT\nUID:h-1@x\nSUMMARY:Hearing\n"
        "DTSTART:20261214T093000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    events = read_calendar(ics, UTC).checked("c.ics")
    assert repo.import_events("2026-0001", events, name="c.ics", apply=True).added == ("h-1@x",)
    assert repo.import_events("2026-0001", events, name="c.ics", apply=True).unchanged == 1
    with firm.system.db.read() as s:
        event = s.scalar(select(CalendarEvent).where(CalendarEvent.uid == "h-1@x"))
        assert event is not None and event.starts_at == datetime(2026, 12, 14, 9, 30, tzinfo=UTC)
    with pytest.raises(FileRefused, match="matter 2026-9999 is not in the firm"):
        repo.import_events("2026-9999", events, name="c.ics", apply=True)


def test_r1_billing_and_read_only_staff_do_not_import(firm: Firm) -> None:
    records = read_clients(CLIENTS).checked("c")
    for role in (StaffRole.BILLING, StaffRole.READ_ONLY):
        with pytest.raises(Refused):
            firm.as_(role).import_clients(records, name="c", apply=True)


def test_what_a_file_leaves_blank_or_lacks_is_left_as_the_firm_has_it(firm: Firm) -> None:
    repo = firm.admin
    repo.import_clients(read_clients(CLIENTS).checked("c"), name="c", apply=True)
    repo.import_matters(read_matters(MATTERS).checked("m"), name="m", apply=True)
    # Another export of the same clients without emails, and of the matters without status.
    no_emails = read_clients("Client ID,Name\nC-1,Anna Łukasiewicz\n").checked("c2")
    assert repo.import_clients(no_emails, name="c2", apply=True).unchanged == 1
    no_status = read_matters("Matter Number,Matter Name,Client ID\nM-2,Purchase,C-2\n").checked(
        "m2"
    )
    assert repo.import_matters(no_status, name="m2", apply=True).unchanged == 1
    with firm.system.db.read() as s:
        anna = s.scalar(select(Client).where(Client.ref == "C-1"))
        assert anna is not None and anna.primary_email == "anna@example.test"
        m2 = s.scalar(select(Matter).where(Matter.number == "M-2"))
        assert m2 is not None and m2.status.value == "closed"

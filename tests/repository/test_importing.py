"""Bringing in a firm's own files (docs/importing.md), on SQLite and PostgreSQL: a dry run
writes nothing and reports what --apply does; a file is one transaction, matched on the
firm's own ids, so a second import changes nothing; a changed row updates its item and a
shared one is published again; a row the firm cannot take refuses the whole file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal_tui.domain import ItemKind, OutboxOp, StaffRole
from portal_tui.domain.decision import Refused
from portal_tui.imports.calendar import read_calendar
from portal_tui.imports.files import read_file, read_folder
from portal_tui.imports.ledes import FIELDS, read_ledes
from portal_tui.imports.records import FileRefused
from portal_tui.imports.tabular import read_clients, read_contacts, read_invoices, read_matters
from portal_tui.store.models import (
    AuditEntry,
    CalendarEvent,
    Client,
    Document,
    Folder,
    Invoice,
    Matter,
    OutboxEntry,
    PortalContact,
)

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


ALL_DAY = (
    "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//EN\n"
    "BEGIN:VEVENT\nUID:holiday@x\nSUMMARY:Court closed\nDTSTART;VALUE=DATE:20261224\n"
    "DTEND;VALUE=DATE:20261227\nEND:VEVENT\n"
    "BEGIN:VEVENT\nUID:filing@x\nSUMMARY:Filing day\nDTSTART;VALUE=DATE:20261214\n"
    "END:VEVENT\nEND:VCALENDAR\n"
)


def _days(firm: Firm, uid: str) -> tuple[bool, date | None, date | None]:
    with firm.system.db.read() as s:
        event = s.scalar(select(CalendarEvent).where(CalendarEvent.uid == uid))
        assert event is not None
        return event.all_day, event.first_day, event.last_day


def test_an_all_day_event_keeps_its_days_and_a_changed_one_is_published_again(
    firm: Firm,
) -> None:
    repo = firm.admin
    # Read in a zone far from the machine's: the days must not move with it.
    events = read_calendar(ALL_DAY, ZoneInfo("Pacific/Kiritimati")).checked("closed.ics")
    done = repo.import_events("2026-0001", events, name="closed.ics", apply=True)
    assert set(done.added) == {"holiday@x", "filing@x"}
    # DTEND is the day after the last (RFC 5545): 24 to 26 December; no DTEND is one day.
    assert _days(firm, "holiday@x") == (True, date(2026, 12, 24), date(2026, 12, 26))
    assert _days(firm, "filing@x") == (True, date(2026, 12, 14), date(2026, 12, 14))
    (row,) = repo.list_items(ItemKind.EVENT, text="Court closed").rows
    assert (row.all_day, row.first_day, row.last_day) == (
        True,
        date(2026, 12, 24),
        date(2026, 12, 26),
    )
    repo.share(ItemKind.EVENT, row.id)
    same = repo.import_events("2026-0001", events, name="closed.ics", apply=True)
    assert (same.added, same.changed, same.unchanged) == ((), (), 2)

    moved = ALL_DAY.replace("DTEND;VALUE=DATE:20261227", "DTEND;VALUE=DATE:20261229")
    records = read_calendar(moved, UTC).checked("closed.ics")
    assert repo.import_events("2026-0001", records, name="closed.ics", apply=True).changed == (
        "holiday@x",
    )
    assert _days(firm, "holiday@x") == (True, date(2026, 12, 24), date(2026, 12, 28))
    with firm.system.db.read() as s:
        last = s.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.op == OutboxOp.PUBLISH, OutboxEntry.item_id == row.id)
            .order_by(OutboxEntry.id.desc())
        ).first()
        assert last is not None
        data = last.payload["data"]
    assert (data["all_day"], data["first_day"], data["last_day"]) == (
        True,
        "2026-12-24",
        "2026-12-28",
    )

    # The firm's diary makes it a timed event after all: its days go.
    timed = ALL_DAY.replace("DTSTART;VALUE=DATE:20261224", "DTSTART:20261224T090000Z").replace(
        "DTEND;VALUE=DATE:20261227", "DTEND:20261224T100000Z"
    )
    records = read_calendar(timed, UTC).checked("closed.ics")
    repo.import_events("2026-0001", records, name="closed.ics", apply=True)
    assert _days(firm, "holiday@x") == (False, None, None)


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


# Contacts ------------------------------------------------------------------------------------

CONTACTS = (
    "Client ID,Name,Email,Matter\n"
    "C-1,Anna Łukasiewicz,anna@example.test,M-1\n"
    "C-2,Eve Byrne,eve@example.test,\n"
)


def _contact_firm(firm: Firm) -> dict[str, int]:
    """Clients C-1 and C-2 with matters M-1 (C-1), M-2 and M-3 (C-2), every portal ON but
    M-4's (C-2's too)."""
    repo = firm.admin
    repo.import_clients(read_clients(CLIENTS).checked("c"), name="c", apply=True)
    matters = MATTERS + "M-3,Sale,C-2,Open\nM-4,Quiet,C-2,Open\n"
    repo.import_matters(read_matters(matters).checked("m"), name="m", apply=True)
    with firm.system.db.read() as s:
        ids = {n: i for n, i in s.execute(select(Matter.number, Matter.id))}
    for number in ("M-1", "M-2", "M-3"):
        repo.set_matter_portal(ids[number], True)
    return {str(k): int(v) for k, v in ids.items()}


def _contacts(firm: Firm) -> list[tuple[int, str, str, str]]:
    with firm.system.db.read() as s:
        rows = s.execute(
            select(PortalContact.matter_id, PortalContact.name, PortalContact.email,
                   PortalContact.status).order_by(PortalContact.matter_id)
        )  # fmt: skip
        return [(m, n, e, st.value) for m, n, e, st in rows]


def _contact_outbox(firm: Firm) -> list[dict[str, object]]:
    with firm.system.db.read() as s:
        return [
            e.payload
            for e in s.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.op == OutboxOp.CONTACT)
                .order_by(OutboxEntry.id)
            )
        ]


def test_c1_contacts_are_invited_on_their_matter_or_every_portal_matter_once(firm: Firm) -> None:
    ids = _contact_firm(firm)
    repo = firm.admin
    records = read_contacts(CONTACTS).checked("contacts.csv")
    dry = repo.import_contacts(records, name="contacts.csv", apply=False)
    assert dry.added == (
        "anna@example.test on M-1",
        "eve@example.test on M-2",
        "eve@example.test on M-3",
    )
    assert _contacts(firm) == []
    done = repo.import_contacts(records, name="contacts.csv", apply=True)
    assert done.added == dry.added and done.applied
    # M-4's portal is OFF: Eve is not invited there (M1).
    assert _contacts(firm) == [
        (ids["M-1"], "Anna Łukasiewicz", "anna@example.test", "invited"),
        (ids["M-2"], "Eve Byrne", "eve@example.test", "invited"),
        (ids["M-3"], "Eve Byrne", "eve@example.test", "invited"),
    ]
    # The invitation is the one Invite Contact sends: through the outbox, to the portal (C1).
    sent = _contact_outbox(firm)
    assert [(p["email"], p["action"]) for p in sent] == [
        ("anna@example.test", "invite"),
        ("eve@example.test", "invite"),
        ("eve@example.test", "invite"),
    ]
    with firm.system.db.read() as s:
        eve = s.scalar(select(Client).where(Client.ref == "C-2"))
        assert eve is not None and eve.primary_email == "eve@example.test"  # C1: had none
    again = repo.import_contacts(records, name="contacts.csv", apply=True)
    assert (again.added, again.changed, again.unchanged) == ((), (), 3)
    assert len(_contact_outbox(firm)) == 3  # nobody invited twice


def test_c1_a_renamed_contact_is_updated_audited_and_told_to_the_portal(firm: Firm) -> None:
    _contact_firm(firm)
    repo = firm.admin
    repo.import_contacts(read_contacts(CONTACTS).checked("c"), name="c", apply=True)
    renamed = CONTACTS.replace("Anna Łukasiewicz,anna@", "Anna Nowak,ANNA@")
    report = repo.import_contacts(read_contacts(renamed).checked("c"), name="c", apply=True)
    assert (report.changed, report.unchanged) == (("ANNA@example.test on M-1",), 2)
    assert _contacts(firm)[0][1:] == ("Anna Nowak", "anna@example.test", "invited")
    last = _contact_outbox(firm)[-1]
    # As the contact stands: no second invitation, the new name.
    assert (last["name"], last["action"], last["status"]) == ("Anna Nowak", "enable", "invited")
    with firm.system.db.read() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "contact.import"))
        assert entry is not None and entry.after == {"name": "Anna Nowak"}


def test_m1_three_bad_contact_rows_refuse_the_whole_file(firm: Firm) -> None:
    _contact_firm(firm)
    bad = CONTACTS + (
        "C-9,Nobody,nobody@example.test,\n"  # line 4: no such client
        "C-1,Anna Łukasiewicz,anna@example.test,M-2\n"  # line 5: Eve's matter
        "C-2,Eve Byrne,eve@example.test,M-4\n"  # line 6: its portal is OFF
    )
    with pytest.raises(FileRefused) as refused:
        firm.admin.import_contacts(read_contacts(bad).checked("c.csv"), name="c.csv", apply=True)
    assert [r.line for r in refused.value.refusals] == [4, 5, 6]
    reasons = [r.reason for r in refused.value.refusals]
    assert reasons[0] == "client C-9 is not in the firm: import the clients first"
    assert reasons[1] == "matter M-2 is another client's, not C-1's"
    assert reasons[2].startswith("matter M-4: ") and "portal" in reasons[2]
    assert _contacts(firm) == [] and _contact_outbox(firm) == []
    lonely = "Client ID,Name,Email\nC-1,Anna Łukasiewicz,anna@example.test\n"
    firm.admin.set_matter_portal(_contact_firm_ids(firm)["M-1"], False, confirmed=True)
    with pytest.raises(FileRefused, match="no matter whose client portal is ON"):
        firm.admin.import_contacts(read_contacts(lonely).checked("c"), name="c", apply=True)


def _contact_firm_ids(firm: Firm) -> dict[str, int]:
    with firm.system.db.read() as s:
        return {n: i for n, i in s.execute(select(Matter.number, Matter.id))}


def test_r1_billing_staff_do_not_import_contacts(firm: Firm) -> None:
    _contact_firm(firm)
    with pytest.raises(Refused):
        firm.as_(StaffRole.BILLING).import_contacts(
            read_contacts(CONTACTS).checked("c"), name="c", apply=True
        )


# Documents -----------------------------------------------------------------------------------

LIMIT = 1024


def _documents(firm: Firm) -> list[tuple[str, str, str | None, str]]:
    with firm.system.db.read() as s:
        rows = s.execute(
            select(Folder.name, Document.name, Document.linked_name, Document.source)
            .join(Folder, Folder.id == Document.folder_id)
            .where(Document.matter_id == firm.matter_id)
            .order_by(Document.id)
        )
        return [(f, n, ln, src.value) for f, n, ln, src in rows]


def test_s3_a_file_is_stored_and_a_folder_linked_once(firm: Firm, tmp_path: Path) -> None:
    repo = firm.admin
    letter = tmp_path / "Engagement letter.pdf"
    letter.write_bytes(b"%PDF-1.4 engagement")
    records = read_file(letter, LIMIT).checked(letter.name)
    assert repo.import_documents("2026-0001", records, name="l", apply=True).added == (
        "Engagement letter.pdf",
    )
    case = tmp_path / "Case files"
    (case / "Exhibits").mkdir(parents=True)
    (case / "Chronology.txt").write_text("1. The contract.\n")
    (case / "Exhibits" / "A.pdf").write_bytes(b"%PDF exhibit A")
    (case / ".DS_Store").write_bytes(b"junk")
    (case / "outside.txt").symlink_to(letter)
    parsed = read_folder(case, LIMIT)
    assert parsed.skipped == [
        ".DS_Store: a hidden file",
        "outside.txt: a link leading outside the folder",
    ]
    linked = repo.import_documents(
        "2026-0001", parsed.checked("case"), name="case", apply=True, linked_path=case
    )
    assert linked.added == ("Chronology.txt", "Exhibits/A.pdf")
    assert _documents(firm) == [
        ("Documents", "Engagement letter.pdf", None, "stored"),
        ("Case files", "Chronology.txt", "Chronology.txt", "linked"),
        ("Case files", "A.pdf", "Exhibits/A.pdf", "linked"),
    ]
    with firm.system.db.read() as s:
        folder = s.scalar(select(Folder).where(Folder.name == "Case files"))
        assert folder is not None and folder.linked_path == str(case.resolve())
        doc = s.scalar(select(Document).where(Document.linked_name == "Exhibits/A.pdf"))
        assert doc is not None and doc.size == 14 and doc.content_type == "application/pdf"
    # The same file and folder again: nothing changes.
    same = repo.import_documents("2026-0001", records, name="l", apply=True)
    assert (same.added, same.changed, same.unchanged) == ((), (), 1)
    again = repo.import_documents(
        "2026-0001", read_folder(case, LIMIT).checked("case"), name="case", apply=True,
        linked_path=case,
    )  # fmt: skip
    assert (again.added, again.changed, again.unchanged) == ((), (), 2)
    assert len(_documents(firm)) == 3


def test_s3_three_bad_files_refuse_the_whole_folder(firm: Firm, tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    (case / "fine.txt").write_text("fine")
    (case / "big.pdf").write_bytes(b"x" * (LIMIT + 1))
    (case / "huge.pdf").write_bytes(b"x" * (LIMIT * 3))
    (case / "gone.txt").symlink_to(case / "nowhere.txt")  # inside, but nothing there
    with pytest.raises(FileRefused) as refused:
        firm.admin.import_documents(
            "2026-0001", read_folder(case, LIMIT).checked("case"), name="case", apply=True,
            linked_path=case,
        )  # fmt: skip
    places = [r.where for r in refused.value.refusals]
    root = case.resolve()
    assert places == [str(root / "big.pdf"), str(root / "gone.txt"), str(root / "huge.pdf")]
    assert "over the portal's limit" in refused.value.refusals[0].reason
    assert refused.value.refusals[1].reason.startswith("cannot be read")
    assert str(refused.value).startswith("case: nothing was imported; 3 file(s)")
    assert _documents(firm) == []


def test_s3_a_changed_shared_linked_document_is_published_again(firm: Firm, tmp_path: Path) -> None:
    repo = firm.admin
    case = tmp_path / "case"
    case.mkdir()
    (case / "deed.pdf").write_bytes(b"%PDF the deed")
    records = read_folder(case, LIMIT).checked("case")
    repo.import_documents("2026-0001", records, name="case", apply=True, linked_path=case)
    with firm.system.db.read() as s:
        doc_id = s.scalar(select(Document.id).where(Document.linked_name == "deed.pdf"))
    assert doc_id is not None
    repo.share(ItemKind.DOCUMENT, doc_id, confirmed=True)

    def publishes() -> int:
        with firm.system.db.read() as s:
            return int(
                s.scalar(
                    select(func.count()).where(
                        OutboxEntry.op == OutboxOp.PUBLISH, OutboxEntry.item_id == doc_id
                    )
                )
                or 0
            )

    before = publishes()
    (case / "deed.pdf").write_bytes(b"%PDF the deed, signed")
    changed = repo.import_documents(
        "2026-0001", read_folder(case, LIMIT).checked("case"), name="case", apply=True,
        linked_path=case,
    )  # fmt: skip
    assert changed.changed == ("deed.pdf",)
    assert publishes() == before + 1
    with firm.system.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.size == len(b"%PDF the deed, signed")
    with pytest.raises(FileRefused, match="matter 2026-9999 is not in the firm"):
        repo.import_documents("2026-9999", records, name="case", apply=True, linked_path=case)


# Matters' responsible staff, progress, speed -------------------------------------------------


def test_a_matters_responsible_staff_by_login_email_or_name(firm: Firm) -> None:
    repo = firm.admin
    repo.import_clients(read_clients(CLIENTS).checked("c"), name="c", apply=True)
    text = (
        "Matter Number,Matter Name,Client ID,Responsible Attorney\n"
        "M-1,Estate,C-1,normal\n"  # a login
        "M-2,Purchase,C-2,BILLING@firm.test\n"  # an email, case aside
        "M-3,Sale,C-2,admin user\n"  # a name, case aside
    )
    repo.import_matters(read_matters(text).checked("m"), name="m", apply=True)

    def responsible() -> dict[str, int | None]:
        with firm.system.db.read() as s:
            rows = s.execute(select(Matter.number, Matter.responsible_id))
            return {str(n): r for n, r in rows if str(n).startswith("M-")}

    staff = firm.staff
    assert responsible() == {
        "M-1": staff[StaffRole.NORMAL],
        "M-2": staff[StaffRole.BILLING],
        "M-3": staff[StaffRole.ADMIN],
    }
    blank = text.replace(",normal\n", ",\n").replace("BILLING@firm.test", "")
    report = repo.import_matters(read_matters(blank).checked("m"), name="m", apply=True)
    assert report.unchanged == 3 and responsible()["M-1"] == staff[StaffRole.NORMAL]
    unknown = text.replace("admin user", "Atticus Finch")
    with pytest.raises(FileRefused) as refused:
        repo.import_matters(read_matters(unknown).checked("m"), name="m", apply=True)
    assert [(r.line, r.reason.split(" is ")[0]) for r in refused.value.refusals] == [
        (4, "responsible staff 'Atticus Finch'")
    ]


def test_progress_is_told_in_rising_counts_to_the_end(firm: Firm) -> None:
    rows = "".join(f"C-{n},Client {n},\n" for n in range(2_000))
    records = read_clients("Client ID,Name,Email\n" + rows).checked("c")
    heard: list[tuple[int, int]] = []
    report = firm.admin.import_clients(
        records, name="c", apply=True, progress=lambda done, total: heard.append((done, total))
    )
    assert len(report.added) == 2_000
    assert len(heard) >= 2 and heard[-1] == (2_000, 2_000)
    assert [d for d, _ in heard] == sorted({d for d, _ in heard})  # rising, never twice


def test_a_big_file_is_written_whole_with_its_audit_entries(firm: Firm) -> None:
    """More rows than one chunk: every one is there, with its own audit entry naming it."""
    repo = firm.admin
    rows = "".join(f"C-{n},Client {n},c{n}@example.test\n" for n in range(2_500))
    repo.import_clients(
        read_clients("Client ID,Name,Email\n" + rows).checked("c"), name="c", apply=True
    )
    matters = "".join(f"M-{n},Matter {n},C-{n % 2_500}\n" for n in range(2_500))
    repo.import_matters(
        read_matters("Matter Number,Matter Name,Client ID\n" + matters).checked("m"),
        name="m",
        apply=True,
    )
    invoices = "".join(f"I-{n},M-{n},2026-11-01,10.00\n" for n in range(2_500))
    repo.import_invoices(
        read_invoices("Invoice Number,Matter,Date,Total\n" + invoices).checked("i"),
        name="i",
        apply=True,
    )
    with firm.system.db.read() as s:
        audited = dict(
            s.execute(
                select(AuditEntry.action, func.count(func.distinct(AuditEntry.item_id)))
                .where(AuditEntry.action.like("%.import"))
                .group_by(AuditEntry.action)
            ).all()
        )
        assert audited == {"client.import": 2_500, "matter.import": 2_500, "invoice.import": 2_500}
        last = s.scalar(
            select(Invoice).where(Invoice.number == "I-2499").options(selectinload(Invoice.lines))
        )
        assert last is not None and [ln.amount_cents for ln in last.lines] == [1000]
        entry = s.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "matter.import",
                AuditEntry.item_id
                == select(Matter.id).where(Matter.number == "M-7").scalar_subquery(),
            )
        )
        assert entry is not None and entry.matter_id == entry.item_id

"""An invoice's own PDF, on SQLite and PostgreSQL: `import invoices --pdf` (one file, or a
folder of <INVOICE_NUMBER>.pdf) and `invoice pdf NUMBER FILE|--remove` keep the firm's PDF on
the invoice, which the client then downloads (P2) instead of the one made from the lines; a
PDF that cannot go refuses the whole import, nothing written; the same PDF again changes
nothing, another one publishes a shared invoice again (S1), and only who may share invoices
attaches one (R1)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from portal_tui.domain import ItemKind, OutboxOp, StaffRole
from portal_tui.domain.decision import Invalid, NotFound, Refused
from portal_tui.imports.pdfs import PdfFile, Pdfs, PdfsRefused
from portal_tui.imports.tabular import read_invoices
from portal_tui.store.models import AuditEntry, Invoice, OutboxEntry

from .conftest import Firm

LIMIT = 64 * 1024
ONE = "Invoice Number,Matter,Date,Total,Status\nINV-7,2026-0001,2026-11-01,250.00,Final\n"
THREE = (
    "Invoice Number,Matter,Date,Total,Status\n"
    "INV-1,2026-0001,2026-11-01,100.00,Final\n"
    "INV-2,2026-0001,2026-11-02,200.00,Final\n"
    "INV-3,2026-0001,2026-11-03,300.00,Final\n"
)


def pdf(text: str) -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"


def pdfs(*files: PdfFile, limit: int = LIMIT) -> Pdfs:
    return Pdfs(files, limit)


def held(firm: Firm, number: str) -> tuple[bytes | None, str | None, int]:
    """The invoice's PDF, its fingerprint, and how many times it was published."""
    with firm.system.db.read() as s:
        invoice = s.scalar(select(Invoice).where(Invoice.number == number))
        assert invoice is not None
        publishes = s.scalar(
            select(func.count()).where(
                OutboxEntry.op == OutboxOp.PUBLISH,
                OutboxEntry.kind == "invoice",
                OutboxEntry.item_id == invoice.id,
            )
        )
        return invoice.pdf, invoice.pdf_sha256, int(publishes or 0)


def count(firm: Firm, model: type) -> int:
    with firm.system.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_p2_one_pdf_goes_with_a_file_of_one_invoice_and_the_same_again_changes_nothing(
    firm: Firm,
) -> None:
    repo = firm.admin
    records = read_invoices(ONE).checked("one.csv")
    own = PdfFile("Harbor invoice 7.pdf", pdf("seven"))
    before = count(firm, Invoice), count(firm, AuditEntry)
    dry = repo.import_invoices(records, name="one.csv", apply=False, pdfs=pdfs(own))
    assert (dry.added, dry.pdfs, dry.applied) == (("INV-7",), ("INV-7",), False)
    assert (count(firm, Invoice), count(firm, AuditEntry)) == before
    done = repo.import_invoices(records, name="one.csv", apply=True, pdfs=pdfs(own))
    assert done.pdfs == ("INV-7",)
    content, digest, _ = held(firm, "INV-7")
    assert content == own.content and digest == hashlib.sha256(own.content).hexdigest()

    trail = count(firm, AuditEntry)
    again = repo.import_invoices(records, name="one.csv", apply=True, pdfs=pdfs(own))
    assert (again.added, again.changed, again.pdfs, again.unchanged) == ((), (), (), 1)
    assert count(firm, AuditEntry) == trail


def test_p2_a_folder_of_pdfs_goes_by_invoice_number_whatever_its_case(firm: Firm) -> None:
    repo = firm.admin
    records = read_invoices(THREE).checked("nov.csv")
    repo.import_invoices(records, name="nov.csv", apply=True)
    kept = pdf("three, attached by hand")
    repo.set_invoice_pdf("INV-3", PdfFile("three.pdf", kept), limit_bytes=LIMIT)
    folder = pdfs(
        PdfFile("inv-1.PDF", pdf("one"), "inv-1"), PdfFile("INV-2.pdf", pdf("two"), "INV-2")
    )
    report = repo.import_invoices(records, name="nov.csv", apply=True, pdfs=folder)
    assert (report.changed, report.pdfs) == (("INV-1", "INV-2"), ("INV-1", "INV-2"))
    assert held(firm, "INV-1")[0] == pdf("one") and held(firm, "INV-2")[0] == pdf("two")
    # An invoice the folder has no PDF for keeps what it has.
    assert held(firm, "INV-3")[0] == kept
    with firm.system.db.read() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "invoice.import.pdf")
        ).all()
    assert len(actions) == 2


def test_p2_pdfs_that_cannot_go_refuse_the_whole_import_naming_each(firm: Firm) -> None:
    repo = firm.admin
    records = read_invoices(THREE).checked("nov.csv")
    before = count(firm, Invoice), count(firm, AuditEntry)
    folder = pdfs(
        PdfFile("INV-1.pdf", b"<html>not a pdf</html>", "INV-1"),
        PdfFile("INV-2.pdf", pdf("x" * 200), "INV-2"),
        PdfFile("INV-9.pdf", pdf("nine"), "INV-9"),
        PdfFile("inv-3.pdf", pdf("three"), "inv-3"),
        PdfFile("INV-3.PDF", pdf("three again"), "INV-3"),
        limit=100,
    )
    with pytest.raises(PdfsRefused) as refused:
        repo.import_invoices(records, name="nov.csv", apply=True, pdfs=folder)
    said = str(refused.value)
    assert "nov.csv: nothing was imported; 4 PDFs cannot be attached" in said
    assert "INV-1.pdf: not a PDF (a PDF file starts with %PDF-)" in said
    assert "INV-2.pdf: 218 bytes is over the portal's limit of 100 bytes" in said
    assert "INV-9.pdf: names no invoice of nov.csv" in said
    assert "INV-3.PDF: invoice INV-3 has a PDF already: inv-3.pdf" in said
    assert (count(firm, Invoice), count(firm, AuditEntry)) == before

    lone = pdfs(PdfFile("one.pdf", pdf("one")))
    with pytest.raises(PdfsRefused, match="one PDF goes with a file of one invoice"):
        repo.import_invoices(records, name="nov.csv", apply=True, pdfs=lone)
    assert count(firm, Invoice) == before[0]


def test_s1_another_pdf_of_a_shared_invoice_publishes_it_again_the_same_one_does_not(
    firm: Firm,
) -> None:
    repo = firm.admin
    records = read_invoices(ONE).checked("one.csv")
    first = PdfFile("7.pdf", pdf("first"))
    repo.import_invoices(records, name="one.csv", apply=True, pdfs=pdfs(first))
    with firm.system.db.read() as s:
        invoice_id = s.scalar(select(Invoice.id).where(Invoice.number == "INV-7"))
    assert invoice_id is not None
    repo.share(ItemKind.INVOICE, invoice_id, confirmed=True)
    _, _, shared = held(firm, "INV-7")
    repo.import_invoices(records, name="one.csv", apply=True, pdfs=pdfs(first))
    assert held(firm, "INV-7")[2] == shared
    second = PdfFile("7.pdf", pdf("second"))
    report = repo.import_invoices(records, name="one.csv", apply=True, pdfs=pdfs(second))
    assert report.changed == ("INV-7",) and report.pdfs == ("INV-7",)
    assert held(firm, "INV-7")[2] == shared + 1
    with firm.system.db.read() as s:
        last = s.scalars(
            select(OutboxEntry.payload)
            .where(OutboxEntry.op == OutboxOp.PUBLISH, OutboxEntry.item_id == invoice_id)
            .order_by(OutboxEntry.id.desc())
        ).first()
    # The copy names the PDF by its fingerprint; its bytes are not in the outbox row.
    assert last is not None
    assert last["data"]["pdf_sha256"] == hashlib.sha256(second.content).hexdigest()
    assert "second" not in str(last)


def test_s1_invoice_pdf_attaches_replaces_removes_and_a_shared_invoice_goes_again(
    firm: Firm,
) -> None:
    repo = firm.as_(StaffRole.BILLING)  # who shares invoices may give them their own PDF
    invoice_id = firm.item(ItemKind.INVOICE)
    with firm.system.db.read() as s:
        number = s.scalar(select(Invoice.number).where(Invoice.id == invoice_id))
    assert number is not None
    repo.share(ItemKind.INVOICE, invoice_id, confirmed=True)
    _, _, shared = held(firm, number)

    attached = repo.set_invoice_pdf(number, PdfFile("a.pdf", pdf("a")), limit_bytes=LIMIT)
    assert attached.changed and attached.republished
    assert held(firm, number)[0] == pdf("a") and held(firm, number)[2] == shared + 1
    same = repo.set_invoice_pdf(number, PdfFile("a-again.pdf", pdf("a")), limit_bytes=LIMIT)
    assert not same.changed and held(firm, number)[2] == shared + 1
    replaced = repo.set_invoice_pdf(number, PdfFile("b.pdf", pdf("b")), limit_bytes=LIMIT)
    assert replaced.changed and held(firm, number)[0] == pdf("b")
    removed = repo.set_invoice_pdf(number, None, limit_bytes=LIMIT)
    assert removed.changed and removed.pdf_sha256 is None
    assert held(firm, number)[:2] == (None, None) and held(firm, number)[2] == shared + 3
    assert not repo.set_invoice_pdf(number, None, limit_bytes=LIMIT).changed
    with firm.system.db.read() as s:
        trail = s.scalars(
            select(AuditEntry.after)
            .where(AuditEntry.action == "invoice.pdf", AuditEntry.item_id == invoice_id)
            .order_by(AuditEntry.id)
        ).all()
    assert [entry["pdf_sha256"] is None for entry in trail] == [False, False, True]


def test_r1_read_only_staff_attach_no_pdf_and_bad_pdfs_change_nothing(firm: Firm) -> None:
    invoice_id = firm.item(ItemKind.INVOICE)
    with firm.system.db.read() as s:
        number = s.scalar(select(Invoice.number).where(Invoice.id == invoice_id))
    assert number is not None
    trail = count(firm, AuditEntry)
    with pytest.raises(Invalid, match=r"notes\.txt: not a PDF"):
        firm.admin.set_invoice_pdf(number, PdfFile("notes.txt", b"hello"), limit_bytes=LIMIT)
    with pytest.raises(Invalid, match=r"big\.pdf: .* over the portal's limit"):
        firm.admin.set_invoice_pdf(number, PdfFile("big.pdf", pdf("x" * 99)), limit_bytes=50)
    with pytest.raises(NotFound, match="No invoice numbered 'INV-404'"):
        firm.admin.set_invoice_pdf("INV-404", PdfFile("a.pdf", pdf("a")), limit_bytes=LIMIT)
    # R1: Read-only staff share nothing, so they attach nothing.
    with pytest.raises(Refused):
        firm.as_(StaffRole.READ_ONLY).set_invoice_pdf(
            number, PdfFile("a.pdf", pdf("a")), limit_bytes=LIMIT
        )
    assert count(firm, AuditEntry) == trail and held(firm, number)[:2] == (None, None)

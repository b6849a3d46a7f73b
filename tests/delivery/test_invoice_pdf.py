"""End to end with `portal-tui serve`: an invoice the firm gave its own PDF is what the client
downloads from the portal (P2), byte for byte, and only that client (P3); a replaced PDF is
downloaded as soon as it is delivered, a republish that keeps the PDF sends no bytes again,
a removed PDF brings back the one made from the lines, and once unshared (S7) the portal
holds none of the firm's PDF of it. The replaced PDF goes out through `portal-tui sync`, as
cron runs it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.domain import ItemKind
from portal_tui.imports.pdfs import PdfFile
from portal_tui.repository.portal_client import PortalClient
from portal_tui.service.models import InvoicePdf

from .support import Browser, Firm, Service, activate_clients, deliver_all, portal_tui

LIMIT = 25 * 1024 * 1024
# Big enough that sending it again would show, small enough for a quick test.
FIRST = b"%PDF-1.4\n% the firm's own invoice INV-2026-81\n" + b"0" * 200_000 + b"\n%%EOF\n"
SECOND = b"%PDF-1.7\n% INV-2026-81, corrected\n%%EOF\n"


@pytest.fixture
def browser(service: Service) -> Iterator[Browser]:
    opened = Browser(service.base)
    try:
        yield opened
    finally:
        opened.close()


def held_pdfs(service: Service, invoice_id: int) -> list[tuple[int, str]]:
    """What the portal's own database holds of the invoice's PDF: (version, sha256) rows."""
    db = Database(service.database_url)
    try:
        with db.read() as s:
            rows = s.execute(
                select(InvoicePdf.version, InvoicePdf.sha256).where(
                    InvoicePdf.item_id == invoice_id
                )
            )
            return [(version, sha) for version, sha in rows]
    finally:
        db.dispose()


def test_p2_the_client_downloads_the_firms_own_pdf_of_a_shared_invoice(
    service: Service,
    firm: Firm,
    portal: PortalClient,
    browser: Browser,
    env: dict[str, str],
    firm_url: str,
) -> None:
    repo = firm.repo
    activate_clients(firm, service, portal)
    client, other = firm.clients
    m = client.matters[0]
    invoice = repo.add_invoice(
        m, number="INV-2026-81", issued_on=date(2026, 11, 2), lines=[("Advice", "3", 20000)]
    )
    repo.set_invoice_pdf("INV-2026-81", PdfFile("81.pdf", FIRST), limit_bytes=LIMIT)
    repo.share(ItemKind.INVOICE, invoice, confirmed=True)
    deliver_all(repo, portal)

    browser.log_in(client.email)
    url = f"/m/{m}/invoices/{invoice}.pdf"
    page = browser.get(f"/m/{m}/invoices/{invoice}")
    assert page.status_code == 200 and f"{invoice}.pdf" in page.text  # the same link as ever
    download = browser.get(url)
    assert (download.status_code, download.content) == (200, FIRST)
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "INV-2026-81" in disposition
    # P3: another client of the firm gets nothing of it.
    stranger = Browser(service.base)
    try:
        stranger.log_in(other.email)
        assert stranger.get(url).status_code == 404
        assert stranger.get(f"/m/{other.matters[0]}/invoices/{invoice}.pdf").status_code == 404
    finally:
        stranger.close()

    # A change of the invoice that keeps its PDF: the copy goes again, the bytes do not.
    (kept,) = held_pdfs(service, invoice)
    repo.edit_item(ItemKind.INVOICE, invoice, memo="Thank you for your instructions.")
    deliver_all(repo, portal)
    assert held_pdfs(service, invoice) == [kept]
    assert browser.get(url).content == FIRST

    # Replaced: the new bytes, once `portal-tui sync` has delivered them.
    repo.set_invoice_pdf("INV-2026-81", PdfFile("81-corrected.pdf", SECOND), limit_bytes=LIMIT)
    settings = {
        "PORTAL_TUI_DATABASE_URL": firm_url,
        "PORTAL_TUI_PORTAL_URL": service.base,
        "PORTAL_TUI_PORTAL_TOKEN": service.token,
    }
    synced = portal_tui({**env, **settings}, "sync")
    assert synced.returncode == 0, synced.stderr
    assert repo.pending_deliveries() == 0
    replaced = browser.get(url)
    assert (replaced.status_code, replaced.content) == (200, SECOND)
    assert len(held_pdfs(service, invoice)) == 1

    # Removed: the client downloads the PDF made from the lines again.
    repo.set_invoice_pdf("INV-2026-81", None, limit_bytes=LIMIT)
    deliver_all(repo, portal)
    made = browser.get(url)
    assert made.status_code == 200 and made.content.startswith(b"%PDF-")
    assert made.content != SECOND and held_pdfs(service, invoice) == []

    # Unshared with a PDF of its own: gone from the client and from the portal's database.
    repo.set_invoice_pdf("INV-2026-81", PdfFile("81.pdf", FIRST), limit_bytes=LIMIT)
    deliver_all(repo, portal)
    assert browser.get(url).content == FIRST
    repo.unshare(ItemKind.INVOICE, invoice)
    deliver_all(repo, portal)
    assert browser.get(url).status_code == 404
    assert held_pdfs(service, invoice) == []

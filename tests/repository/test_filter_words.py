"""The filter matches what a row shows and a user would type (DESIGN.md: `/` filters as you
type): status words (Draft, Final, Paid, Open, Done), the share state (shared, pending, failed,
not shared), client names, matter numbers, dates as shown — several words narrowing (AND) —
with one table of queries giving the same rows on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from portal_tui.domain import ItemKind, ShareState
from portal_tui.domain.states import InvoiceStatus
from portal_tui.store.models import ShareMark

from .conftest import Firm

LINES = [("Advice", "2", 25000)]  # $500.00


def _invoices(firm: Firm) -> dict[str, int]:
    repo, m, other = firm.system, firm.matter_id, firm.other_matter_id
    made = {
        "draft": repo.add_invoice(m, number="INV-101", issued_on=date(2026, 2, 5), lines=LINES),
        "final": repo.add_invoice(
            m, number="INV-102", issued_on=date(2026, 3, 9), lines=LINES,
            status=InvoiceStatus.FINAL,
        ),
        "paid": repo.add_invoice(
            m, number="INV-103", issued_on=date(2026, 3, 20), lines=LINES,
            status=InvoiceStatus.FINAL, paid_cents=50000,
        ),
        "other": repo.add_invoice(
            other, number="INV-104", issued_on=date(2025, 12, 1), lines=LINES
        ),
        "refused": repo.add_invoice(
            m, number="INV-105", issued_on=date(2026, 1, 15), lines=LINES,
            status=InvoiceStatus.FINAL,
        ),
    }  # fmt: skip
    repo.share(ItemKind.INVOICE, made["final"], confirmed=True)  # pending: not delivered
    repo.share(ItemKind.INVOICE, made["paid"], confirmed=True)
    with repo.db.write() as s:  # as a delivery would leave them: one done, one refused
        s.execute(
            update(ShareMark)
            .where(ShareMark.kind == ItemKind.INVOICE, ShareMark.item_id == made["paid"])
            .values(state=ShareState.SHARED)
        )
    repo.share(ItemKind.INVOICE, made["refused"], confirmed=True)
    with repo.db.write() as s:
        s.execute(
            update(ShareMark)
            .where(ShareMark.kind == ItemKind.INVOICE, ShareMark.item_id == made["refused"])
            .values(state=ShareState.FAILED, last_error="refused")
        )
    return made


# typed -> the invoices it shows (by the names above), on either engine
INVOICE_QUERIES: list[tuple[str, set[str]]] = [
    ("Draft", {"draft", "other"}),
    ("draft", {"draft", "other"}),
    ("Dr", {"draft", "other"}),  # typed a key at a time
    ("Final", {"final", "paid", "refused"}),
    ("Paid", {"paid"}),
    ("shared", {"paid"}),
    ("pending", {"final"}),
    ("waiting", {"final"}),
    ("failed", {"refused"}),
    ("not shared", {"draft", "other"}),
    ("unshared", {"draft", "other"}),
    ("not shared 2026-02", {"draft"}),
    ("Final shared", {"paid"}),  # several words narrow
    ("final pending", {"final"}),
    ("Draft 2026-0002", {"other"}),  # a status and a matter number
    ("Ada Final", {"final", "paid", "refused"}),  # the client's name
    ("INV-102", {"final"}),
    ("2026-03", {"final", "paid"}),  # a date as shown
    ("2026-02-05", {"draft"}),
    ("2025", {"other"}),
    ("Final 2026-03-20", {"paid"}),
    ("nothing-like-this", set()),
    ("Draft Final", set()),
]


def test_the_invoice_filter_matches_what_the_rows_show_on_both_engines(firm: Firm) -> None:
    made = _invoices(firm)
    names = {item_id: name for name, item_id in made.items()}
    repo = firm.admin
    wrong = []
    for typed, wanted in INVOICE_QUERIES:
        shown = {names[row.id] for row in repo.list_items(ItemKind.INVOICE, text=typed).rows}
        if shown != wanted:
            wrong.append(f"{typed!r}: {sorted(shown)}, expected {sorted(wanted)}")
    assert not wrong, "\n".join(wrong)
    # In a matter's own list too.
    in_matter = repo.list_items(ItemKind.INVOICE, matter_id=firm.matter_id, text="draft").rows
    assert [row.id for row in in_matter] == [made["draft"]]


def test_tasks_answer_to_open_and_done(firm: Firm) -> None:
    repo = firm.system
    open_task = repo.add_task(firm.matter_id, title="Sign the inventory", due_on=date(2026, 5, 1))
    done_task = repo.add_task(firm.matter_id, title="File the will", due_on=date(2026, 4, 2))
    repo.edit_item(ItemKind.TASK, done_task, done=True)
    admin = firm.admin

    def shown(typed: str) -> set[int]:
        return {row.id for row in admin.list_items(ItemKind.TASK, text=typed).rows}

    assert shown("Open") == {open_task}
    assert shown("done") == {done_task}
    assert shown("done 2026-04") == {done_task}
    assert shown("open will") == set()
    assert shown("not shared") == {open_task, done_task}

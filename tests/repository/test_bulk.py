"""Bulk share and unshare in chunks (the rows marked with Space): one batch across the chunks, held
until the last, so the batch's clients get one email listing every item; refusals reported per item
with the rule's message; reads in a few queries, not a few per item."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from portal_tui.domain import InvoiceStatus, ItemKind, OutboxOp, OutboxState, ShareState, texts
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome
from portal_tui.repository.share_rows import HOLD
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .conftest import Firm


class Portal:
    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    def deliver(self, message: OutboxMessage) -> Outcome:
        self.sent.append(message)
        return Delivered()


def _rows(firm: Firm) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _drain(firm: Firm) -> Portal:
    portal = Portal()
    while firm.system.deliver_pending(portal).delivered:
        pass
    return portal


def _in_chunks(
    firm: Firm, items: list[tuple[ItemKind, int]], size: int, *, share: bool = True
) -> tuple[int, list[tuple[ItemKind, int, str]], list[int]]:
    """As the app does it: one batch, every chunk but the last held. Returns what was done,
    what was refused, and how many rows the portal was sent between chunks."""
    repo = firm.admin
    batch = repo.new_batch()
    done, refused, between = 0, [], []
    for start in range(0, len(items), size):
        last = start + size >= len(items)
        n, r = repo.share_many(
            items[start : start + size], share=share, batch=batch, hold=share and not last
        )
        done += n
        refused += r
        if not last:
            between.append(len(_drain(firm).sent))
    return done, refused, between


def test_s0_a_chunked_bulk_is_one_batch_held_until_its_last_chunk(firm: Firm) -> None:
    _drain(firm)
    notes = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(5)]
    done, refused, between = _in_chunks(firm, notes, 2)
    assert (done, refused) == (5, [])
    assert between == [0, 0]  # the delivery worker ran between chunks: nothing went yet
    publishes = [r for r in _rows(firm) if r.op is OutboxOp.PUBLISH]
    assert len({r.batch for r in publishes}) == 1

    sent = _drain(firm).sent
    assert [m.op for m in sent] == [OutboxOp.PUBLISH] * 5 + [OutboxOp.NOTIFY]
    # One NOTIFY for the batch: the portal sends one email per client for all five.
    notices = [r for r in _rows(firm) if r.op is OutboxOp.NOTIFY]
    assert len(notices) == 1 and notices[0].batch == publishes[0].batch
    assert notices[0].state is OutboxState.DELIVERED
    assert all(firm.admin.share_state(k, i).state is ShareState.SHARED for k, i in notes)


def test_s0_rows_held_by_a_bulk_that_never_finished_still_go_out(firm: Firm) -> None:
    _drain(firm)
    note = firm.item(ItemKind.NOTE)
    firm.admin.share_many([(ItemKind.NOTE, note)], share=True, hold=True)
    assert _drain(firm).sent == []
    portal = Portal()
    firm.system.deliver_pending(portal, now=utcnow() + HOLD + timedelta(seconds=1))
    assert [m.op for m in portal.sent] == [OutboxOp.PUBLISH]


def test_m1_a_bulk_across_matters_refuses_the_off_matter_items_and_shares_the_rest(
    firm: Firm,
) -> None:
    on = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(3)]
    off = (ItemKind.NOTE, firm.item(ItemKind.NOTE, firm.other_matter_id))
    done, refused, _ = _in_chunks(firm, [on[0], off, *on[1:]], 2)
    assert done == 3
    assert refused == [(*off, texts.MATTER_PORTAL_OFF)]
    assert not firm.admin.share_state(*off).wanted


def test_s0_an_item_deleted_meanwhile_is_refused_not_the_whole_chunk(firm: Firm) -> None:
    notes = [firm.item(ItemKind.NOTE) for _ in range(3)]
    firm.admin.delete_item(ItemKind.NOTE, notes[1])
    done, refused = firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    assert done == 2
    assert [(k, i) for k, i, _ in refused] == [(ItemKind.NOTE, notes[1])]


def test_s0_the_same_item_twice_is_shared_once(firm: Firm) -> None:
    note = firm.item(ItemKind.NOTE)
    done, refused = firm.admin.share_many([(ItemKind.NOTE, note)] * 2, share=True)
    assert done == 1
    assert refused == [(ItemKind.NOTE, note, texts.ALREADY_SHARED.format(label="note"))]


def test_s1_a_bulk_counts_its_unfinal_invoices_and_finalises_them(firm: Firm) -> None:
    drafts = [firm.item(ItemKind.INVOICE) for _ in range(2)]
    final = firm.item(ItemKind.INVOICE)
    firm.admin.share(ItemKind.INVOICE, final, confirmed=True)
    firm.admin.unshare(ItemKind.INVOICE, final)
    assert firm.admin.unfinal_invoices([*drafts, final]) == 2
    assert firm.admin.unfinal_invoices([]) == 0
    items = [(ItemKind.INVOICE, i) for i in [*drafts, final]]
    assert _in_chunks(firm, items, 2)[:2] == (3, [])
    rows = [firm.admin.item_row(ItemKind.INVOICE, i) for i in drafts]
    assert {r.status for r in rows} == {InvoiceStatus.FINAL}


def test_s7_bulk_unshare_in_chunks(firm: Firm) -> None:
    notes = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(4)]
    firm.admin.share_many(notes, share=True)
    _drain(firm)
    not_shared = (ItemKind.NOTE, firm.item(ItemKind.NOTE))
    done, refused, between = _in_chunks(firm, [*notes, not_shared], 2, share=False)
    assert done == 4
    assert refused == [(*not_shared, texts.NOT_SHARED_YET.format(label="note"))]
    # Unsharing is never held: the client loses the items as each chunk lands.
    assert between == [2, 2]
    assert not any(firm.admin.share_state(k, i).wanted for k, i in notes)


@contextmanager
def _statements(firm: Firm) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = firm.system.db.writer

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_bulk_reads_in_a_few_queries_not_a_few_per_item(firm: Firm) -> None:
    """10,000 marked items must be enqueued quickly: what a bulk reads does not grow with the
    number of items, and each item costs at most one write per table (mark, outbox, audit;
    PostgreSQL batches even those)."""
    few = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(5)]
    many = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(50)]
    with _statements(firm) as small:
        firm.admin.share_many(few, share=True)
    with _statements(firm) as large:
        firm.admin.share_many(many, share=True)

    def reads(statements: list[str]) -> int:
        return sum(1 for st in statements if st.lstrip().upper().startswith("SELECT"))

    assert reads(large) == reads(small) <= 6
    assert len(large) - reads(large) <= 3 * len(many) + 3

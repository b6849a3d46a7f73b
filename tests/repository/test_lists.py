"""Lists: keyset windows (never OFFSET), filtering and sorting in SQL, on both backends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from portal_tui.domain import ItemKind, StaffRole

from .conftest import Firm


@pytest.fixture
def many(firm: Firm) -> Firm:
    repo = firm.system
    rnd = random.Random(7)
    for i in range(57):
        # Repeated dates, so paging must break ties by id.
        repo.add_invoice(
            firm.matter_id if i % 3 else firm.other_matter_id,
            number=f"B-{i:03d}",
            issued_on=date(2026, 1, 1) + timedelta(days=rnd.randrange(10)),
            lines=[("Work", "1", 1000 + i)],
        )
        repo.add_task(
            firm.matter_id,
            title=f"Task {i:03d}",
            due_on=None if i % 5 == 0 else date(2026, 2, 1) + timedelta(days=rnd.randrange(5)),
        )
    return firm


def _walk_forward(repo, kind: ItemKind, size: int, **kw):  # type: ignore[no-untyped-def]
    rows, after = [], None
    while True:
        page = repo.list_items(kind, after=after, limit=size, **kw)
        rows.extend(page.rows)
        if not page.more_after:
            return rows
        after = page.rows[-1].key


def _walk_backward(repo, kind: ItemKind, size: int, last_key):  # type: ignore[no-untyped-def]
    rows, before = [], last_key
    while True:
        page = repo.list_items(kind, before=before, limit=size)
        rows[:0] = page.rows
        if not page.more_before:
            return rows
        before = page.rows[0].key


@pytest.mark.parametrize("size", [1, 7, 50, 200])
def test_invoice_pages_walk_the_whole_list_in_order(many: Firm, size: int) -> None:
    repo = many.admin
    rows = _walk_forward(repo, ItemKind.INVOICE, size)
    assert len(rows) == 57
    assert len({r.id for r in rows}) == 57
    keys = [(r.issued_on, r.id) for r in rows]
    assert keys == sorted(keys, reverse=True)  # newest first
    # Walking back from just past the end gives the same rows.
    back = _walk_backward(repo, ItemKind.INVOICE, size, (date(1900, 1, 1), 0))
    assert [r.id for r in back] == [r.id for r in rows]


def test_tasks_without_a_due_date_come_last(many: Firm) -> None:
    rows = _walk_forward(many.admin, ItemKind.TASK, 10)
    dues = [r.due_on for r in rows]
    assert dues[-12:] == [None] * 12
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated)


def test_filter_matches_number_matter_or_client_and_takes_wildcards_literally(
    many: Firm,
) -> None:
    repo = many.admin
    found = {r.number for r in _walk_forward(repo, ItemKind.INVOICE, 100, text="b-01")}
    assert found == {f"B-{i:03d}" for i in range(10, 20)}
    by_matter = _walk_forward(repo, ItemKind.INVOICE, 100, text="2026-0002")
    assert len(by_matter) == 19
    assert repo.list_invoices(text="%").rows == ()
    assert repo.list_invoices(text="B_0").rows == ()
    by_client = _walk_forward(repo, ItemKind.INVOICE, 100, text="ada byrne")
    assert len(by_client) == 57


def test_matter_filter_and_share_icons_in_list(many: Firm) -> None:
    repo = many.admin
    on_matter = _walk_forward(repo, ItemKind.INVOICE, 25, matter_id=many.matter_id)
    assert len(on_matter) == 38
    assert {r.matter_id for r in on_matter} == {many.matter_id}
    target = on_matter[5]
    repo.share(ItemKind.INVOICE, target.id, confirmed=True)
    shown = {r.id: r.share.wanted for r in _walk_forward(repo, ItemKind.INVOICE, 25)}
    assert shown[target.id] is True
    assert sum(shown.values()) == 1
    assert [r.id for r in repo.list_invoices(shared_only=True).rows] == [target.id]


def test_lists_read_by_keyset_not_offset(many: Firm) -> None:
    """The SQL sent for a deep page has no OFFSET: it seeks by (sort value, id)."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, *args):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    engine = many.system.db.reader
    event.listen(engine, "before_cursor_execute", record)
    try:
        first = many.admin.list_invoices(limit=10)
        many.admin.list_invoices(after=first.rows[-1].key, limit=10)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    selects = [(s, p) for s, p in seen if "FROM invoices" in s]
    assert len(selects) == 2
    for statement, params in selects:
        # SQLite's dialect writes "LIMIT ? OFFSET ?" with the offset bound to 0.
        assert "OFFSET" not in statement.upper() or list(params)[-1] == 0  # type: ignore[call-overload]
    assert "(invoices.issued_on, invoices.id) <" in selects[-1][0]


def test_matters_list_pages_and_filters(firm: Firm) -> None:
    repo = firm.system
    for i in range(30):
        c = repo.add_client(f"Client {i:02d} [Deceased]" if i == 3 else f"Client {i:02d}")
        repo.add_matter(c, number=f"2025-{i:04d}", name=f"Matter {i}")
    page = repo.list_matters(limit=10)
    assert [r.number for r in page.rows][:2] == ["2026-0002", "2026-0001"]
    assert page.more_after
    assert not page.more_before
    nxt = repo.list_matters(after=page.rows[-1].key, limit=10)
    assert nxt.rows[0].number < page.rows[-1].number
    assert [r.client_name for r in repo.list_matters(text="[Deceased]").rows] == [
        "Client 03 [Deceased]"
    ]


def test_events_list_across_matters_in_time_order(firm: Firm) -> None:
    repo = firm.system
    base = datetime(2026, 12, 1, 9, tzinfo=UTC)
    for i in range(5):
        repo.add_event(firm.matter_id, title=f"E{i}", starts_at=base - timedelta(hours=i))
    rows = repo.list_events().rows
    assert [r.title for r in rows] == ["E4", "E3", "E2", "E1", "E0"]
    assert all(r.starts_at.tzinfo is not None for r in rows)


def test_read_only_staff_can_read_lists(many: Firm) -> None:
    assert len(many.as_(StaffRole.READ_ONLY).list_invoices(limit=5).rows) == 5

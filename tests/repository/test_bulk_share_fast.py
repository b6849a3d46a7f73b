"""The set-based bulk share (10,000 items enqueued within a second) against the
one-by-one path it replaced: for a mix of items every rule refuses, items already shared,
shared before, failed, deleted or named twice, it must refuse with the same texts and leave
the same share marks, outbox rows and audit entries, row by row (the delivery relay reads
them), on SQLite and PostgreSQL.

The reference is share_many as it was: each item through the ORM with
`SharingService.share_locked`/`unshare_locked`, which `share` and `unshare` still use. It runs
in a transaction that is rolled back, then the real call runs on the same data; the clock is
stopped for both so timestamps compare too."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal_tui.domain import (
    Category,
    FormRule,
    InvoiceStatus,
    ItemKind,
    NeedsConfirmation,
    NotFound,
    OutboxState,
    PartyAccess,
    Refused,
    ShareState,
    StaffRole,
    texts,
)
from portal_tui.repository import Repository, bulk_share, sharing
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome, Rejected
from portal_tui.repository.share_rows import HOLD, item_of
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import AuditEntry, Invoice, OutboxEntry, ShareMark

from .conftest import Firm

Item = tuple[ItemKind, int]
FROZEN = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
MISSING = 987_654


class Portal:
    """Answers every delivery the same way."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def deliver(self, message: OutboxMessage) -> Outcome:
        return self.outcome


def _drain(firm: Firm, outcome: Outcome | None = None) -> None:
    portal = Portal(outcome or Delivered())
    while firm.system.deliver_pending(portal).delivered:
        pass


def _scenario(firm: Firm) -> list[Item]:
    """Every case a bulk meets, each named once or more."""
    repo = firm.system
    third = repo.add_matter(firm.client_id, number="2026-0003", name="Lease of 3 Mill Lane")
    repo.set_matter_portal(third, True)
    repo.set_matter_permissions(
        third, [c for c in Category if c not in (Category.NOTES, Category.FORMS)]
    )
    repo.set_party_access(third, firm.staff[StaffRole.NORMAL], PartyAccess.RESTRICTED)

    def note(matter: int | None = None) -> Item:
        return (ItemKind.NOTE, firm.item(ItemKind.NOTE, matter))

    # Marks in every state: delivered shared, delivered unshared, failed, pending both ways.
    delivered, unshared_delivered = note(), note()
    invoice_was_shared = (ItemKind.INVOICE, firm.item(ItemKind.INVOICE))
    for kind, item_id in (delivered, unshared_delivered, invoice_was_shared):
        repo.share(kind, item_id, confirmed=True)
    repo.unshare(*unshared_delivered)
    repo.unshare(*invoice_was_shared)  # Final now, and its mark no longer wanted
    _drain(firm)
    failed = note()
    repo.share(*failed)
    _drain(firm, Rejected("422 the portal refused it"))
    assert repo.share_state(*failed).state is ShareState.FAILED
    assert repo.share_state(*delivered).state is ShareState.SHARED
    pending, unshared_pending = note(), note()
    invoice_pending = (ItemKind.INVOICE, firm.item(ItemKind.INVOICE))
    repo.share(*pending)
    repo.share(*invoice_pending, confirmed=True)
    repo.share(*unshared_pending)
    repo.unshare(*unshared_pending)

    fresh = [(kind, firm.item(kind)) for kind in ItemKind]  # a Draft invoice among them
    task = next(item for item in fresh if item[0] is ItemKind.TASK)
    deleted = note()
    create_rule = (
        ItemKind.FORM,
        repo.add_form("New client", fields=[], rule=FormRule.CREATE, matter_id=None),
    )
    no_matter = (ItemKind.FORM, firm.item(ItemKind.FORM))
    repo.edit_item(*no_matter, matter_id=None)
    on_third = [(kind, firm.item(kind, third)) for kind in ItemKind]  # Notes, Forms refused
    off = note(firm.other_matter_id)
    # Not the newest note, whose id SQLite would give the next one.
    repo.delete_item(*deleted)
    items = [
        *fresh,
        delivered,
        unshared_delivered,
        invoice_was_shared,
        failed,
        pending,
        invoice_pending,
        unshared_pending,
        off,  # portal OFF (M1)
        *on_third,
        create_rule,
        no_matter,
        deleted,
        (ItemKind.TASK, MISSING),
        task,  # twice
        pending,
    ]
    return items


def _dump(s: Session, since: tuple[int, int]) -> dict[str, Any]:
    """Everything a bulk writes, without what two runs cannot share (row ids, the random
    idempotency keys, which must be unique and well formed)."""

    def values(row: object, *skip: str) -> dict[str, Any]:
        table = type(row).__table__  # type: ignore[attr-defined]
        return {c.key: getattr(row, c.key) for c in table.columns if c.key not in ("id", *skip)}

    outbox = list(s.scalars(select(OutboxEntry).where(OutboxEntry.id > since[0])))
    keys = [r.idempotency_key for r in outbox]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys)
    return {
        "marks": {
            (m.kind, m.item_id): values(m)
            for m in s.scalars(select(ShareMark).order_by(ShareMark.kind, ShareMark.item_id))
        },
        "outbox": [values(r, "idempotency_key") for r in sorted(outbox, key=lambda r: r.id)],
        "audit": [
            values(a)
            for a in s.scalars(
                select(AuditEntry).where(AuditEntry.id > since[1]).order_by(AuditEntry.id)
            )
        ],
        "invoices": {i: status for i, status in s.execute(select(Invoice.id, Invoice.status))},
    }


def _high_water(repo: Repository) -> tuple[int, int]:
    with repo.db.read() as s:
        return (
            s.scalar(select(func.max(OutboxEntry.id))) or 0,
            s.scalar(select(func.max(AuditEntry.id))) or 0,
        )


Call = tuple[list[Item], bool, bool, bool]  # items, share, confirmed, hold


def _one_by_one(
    repo: Repository, calls: list[Call], batch: str, since: tuple[int, int]
) -> list[tuple[int, list[tuple[ItemKind, int, str]], dict[str, Any]]]:
    """share_many as it was before it was set-based (one item at a time through the ORM), for
    each call in turn, all rolled back at the end.
    Returns each call's outcome and what the database then held."""
    results = []
    with Session(repo.db.writer) as s:
        for items, share, confirmed, hold in calls:
            done, refused = 0, []
            for kind, item_id in items:
                try:
                    obj = item_of(s, kind, item_id)
                    if share:
                        repo.sharing.share_locked(s, kind, obj, confirmed=confirmed, batch=batch)
                    else:
                        repo.sharing.unshare_locked(s, kind, obj, batch=batch)
                    done += 1
                except (Refused, NeedsConfirmation, NotFound) as exc:
                    refused.append((kind, item_id, str(exc)))
            s.flush()
            now = sharing.utcnow()
            waiting = (
                update(OutboxEntry)
                .where(OutboxEntry.batch == batch, OutboxEntry.state == OutboxState.PENDING)
                .where(OutboxEntry.attempts == 0)
            )
            if hold:
                s.execute(waiting.values(next_attempt_at=now + HOLD))
            else:
                s.execute(
                    waiting.where(OutboxEntry.next_attempt_at > now).values(next_attempt_at=now)
                )
            s.flush()
            results.append((done, refused, _dump(s, since)))
        s.rollback()
    return results


def _compare(repo: Repository, calls: list[Call], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run `calls` one by one (rolled back), then set-based; assert the same outcome and the
    same rows after each call. Returns how many each call did."""
    batch = repo.new_batch()
    since = _high_water(repo)
    # Both paths read the clock through these modules; stopped, the timestamps compare too.
    for module in (sharing, bulk_share):
        monkeypatch.setattr(module, "utcnow", lambda: FROZEN)
    expected = _one_by_one(repo, calls, batch, since)
    done_each = []
    for (items, share, confirmed, hold), (done, refused, rows) in zip(calls, expected, strict=True):
        got = repo.share_many(items, share=share, confirmed=confirmed, batch=batch, hold=hold)
        assert got == (done, refused)
        with repo.db.read() as s:
            assert _dump(s, since) == rows
        done_each.append(done)
    return done_each


ROLES = [StaffRole.ADMIN, StaffRole.NORMAL, StaffRole.BILLING, StaffRole.READ_ONLY]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("share", "confirmed"),
    [(True, True), (True, False), (False, True)],
    ids=["share", "share-unconfirmed", "unshare"],
)
def test_s0_s7_a_bulk_refuses_and_writes_exactly_as_one_by_one(
    firm: Firm, monkeypatch: pytest.MonkeyPatch, role: StaffRole, share: bool, confirmed: bool
) -> None:
    items = _scenario(firm)
    done = _compare(firm.as_(role), [(items, share, confirmed, False)], monkeypatch)
    if role is StaffRole.READ_ONLY:
        assert done == [0]
    else:
        assert done[0] > 0


def test_s0_every_refusal_text_is_the_rules_own(firm: Firm) -> None:
    """The comparison above holds only if the cases are really there: name them."""
    items = _scenario(firm)
    normal = firm.as_(StaffRole.NORMAL)
    _, refused = normal.share_many(items, share=True, confirmed=False)
    reasons = {reason for _, _, reason in refused}
    assert {
        texts.ALREADY_SHARED.format(label="note"),
        texts.ALREADY_SHARED.format(label="task"),  # the same task twice
        texts.MATTER_PORTAL_OFF,
        texts.CATEGORY_NOT_PERMITTED_MATTER.format(category="Notes"),
        texts.FORM_NEEDS_ASSOCIATE_RULE,
        texts.FORM_NEEDS_PERMISSION,
        texts.MESSAGES_RESTRICTED,
        texts.UNFINAL_INVOICE_CONFIRM,
        f"No task with id {MISSING}.",
    } <= reasons
    assert any(reason.startswith("No note with id ") for reason in reasons)
    billing = firm.as_(StaffRole.BILLING)
    _, refused = billing.share_many(items, share=False)
    assert texts.ROLE_CANNOT_SHARE.format(role="Billing", plural="notes") in {
        reason for _, _, reason in refused
    }


def test_r1_an_unknown_staff_login_refuses_each_item_as_one_by_one(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _scenario(firm)
    ghost = Repository(firm.system.db, "ghost")
    assert _compare(ghost, [(items, True, True, False)], monkeypatch) == [0]
    _, refused = ghost.share_many(items[:1], share=True)
    assert "No active staff user with login 'ghost'" in refused[0][2]


@pytest.mark.parametrize(
    "settings",
    [
        {"enabled": False, "confirmed": True},
        {"permissions": [c for c in Category if c is not Category.TASKS]},
        {"notify_new_items": False},
    ],
    ids=["f2-firm-off", "s6-firm-permissions", "f5-no-email"],
)
def test_f2_f5_s6_firm_settings_apply_to_a_bulk_as_one_by_one(
    firm: Firm, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any]
) -> None:
    items = _scenario(firm)
    firm.system.set_firm_portal(**settings)
    _compare(firm.admin, [(items, True, True, False)], monkeypatch)


def test_s0_a_bulk_in_held_chunks_writes_as_one_by_one(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of one batch, held but the last; then an unshare of some of them, also held
    and released by an empty call (as the app does when a bulk stops half-way)."""
    items = _scenario(firm)
    half = len(items) // 2
    calls: list[Call] = [
        (items[:half], True, True, True),
        (items[half:], True, True, False),
        (items[:5], False, True, True),
        ([], True, True, False),
    ]
    assert sum(_compare(firm.admin, calls, monkeypatch)) > 0


def _rows_since(firm: Firm, since: tuple[int, int]) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(
            s.scalars(select(OutboxEntry).where(OutboxEntry.id > since[0]).order_by(OutboxEntry.id))
        )


def test_s0_held_rows_wait_for_hold_and_the_last_chunk_releases_them(firm: Firm) -> None:
    """On the real clock: held rows are due HOLD after the call; the last call makes them due
    at once; a row's created_at, its audit entry and its mark's shared_at are one instant."""
    notes = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(4)]
    repo = firm.admin
    since = _high_water(repo)
    batch = repo.new_batch()
    before = utcnow()
    assert repo.share_many(notes[:2], share=True, batch=batch, hold=True) == (2, [])
    after = utcnow()
    held = _rows_since(firm, since)
    assert len(held) == 2
    for row in held:
        assert before <= row.created_at <= after
        assert before + HOLD <= row.next_attempt_at <= after + HOLD
        assert row.state is OutboxState.PENDING and row.batch == batch and row.attempts == 0
    with repo.db.read() as s:
        marks = {m.item_id: m for m in s.scalars(select(ShareMark))}
        audit = {
            a.item_id: a for a in s.scalars(select(AuditEntry).where(AuditEntry.id > since[1]))
        }
    for row in held:
        assert row.item_id is not None
        assert marks[row.item_id].shared_at == row.created_at == audit[row.item_id].at
        assert marks[row.item_id].state is ShareState.PENDING

    assert repo.share_many(notes[2:], share=True, batch=batch) == (2, [])
    released = utcnow()
    rows = _rows_since(firm, since)
    assert len(rows) == 4 and {r.batch for r in rows} == {batch}
    assert all(r.next_attempt_at <= released for r in rows)


def test_s1_a_bulk_marks_drafts_final_once_and_sends_them_final(firm: Firm) -> None:
    drafts = [(ItemKind.INVOICE, firm.item(ItemKind.INVOICE)) for _ in range(3)]
    since = _high_water(firm.admin)
    assert firm.admin.share_many(drafts, share=True) == (3, [])
    payloads = [r.payload for r in _rows_since(firm, since)]
    assert [p["data"]["status"] for p in payloads] == ["final"] * 3
    assert payloads[0]["data"]["lines"] == [
        {"description": "Advice", "quantity": "2", "rate_cents": 25000, "amount_cents": 50000}
    ]
    with firm.system.db.read() as s:
        statuses = s.scalars(select(Invoice.status).where(Invoice.id.in_([i for _, i in drafts])))
        assert set(statuses) == {InvoiceStatus.FINAL}
        actions = list(
            s.scalars(
                select(AuditEntry.action).where(AuditEntry.id > since[1]).order_by(AuditEntry.id)
            )
        )
    assert actions == ["invoice.finalise", "share"] * 3


def test_a_bulk_larger_than_one_in_list_reads_every_item(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are read in chunks: items past the first chunk (and their marks) count too."""
    monkeypatch.setattr(bulk_share, "IN_CHUNK", 3)
    notes = [(ItemKind.NOTE, firm.item(ItemKind.NOTE)) for _ in range(8)]
    firm.admin.share(*notes[6])
    done, refused = firm.admin.share_many([*notes, (ItemKind.NOTE, MISSING)], share=True)
    assert done == 7
    assert [(i, r) for _, i, r in refused] == [
        (notes[6][1], texts.ALREADY_SHARED.format(label="note")),
        (MISSING, f"No note with id {MISSING}."),
    ]
    assert all(firm.admin.share_state(*n).wanted for n in notes)


def test_s0_an_empty_bulk_changes_nothing(firm: Firm) -> None:
    since = _high_water(firm.admin)
    assert firm.admin.share_many([], share=True) == (0, [])
    assert firm.admin.share_many([], share=False) == (0, [])
    assert _high_water(firm.admin) == since


def test_s0_rows_of_a_bulk_go_out_and_settle_their_marks(firm: Firm) -> None:
    """The relay reads what a bulk wrote: everything delivered, every mark shared, one notice."""
    _drain(firm)
    items = [(kind, firm.item(kind)) for kind in ItemKind for _ in range(2)]
    assert firm.admin.share_many(items, share=True) == (len(items), [])
    sent: list[OutboxMessage] = []

    class Recorder:
        def deliver(self, message: OutboxMessage) -> Outcome:
            sent.append(message)
            return Delivered()

    while firm.system.deliver_pending(Recorder()).delivered:
        pass
    assert [(m.kind, m.item_id) for m in sent[:-1]] == [(k.value, i) for k, i in items]
    assert sent[-1].op.value == "notify"
    assert all(firm.admin.share_state(k, i).state is ShareState.SHARED for k, i in items)
    assert firm.admin.share_many(items, share=False) == (len(items), [])
    while firm.system.deliver_pending(Recorder()).delivered:
        pass
    assert all(firm.admin.share_state(k, i).state is ShareState.NOT_SHARED for k, i in items)

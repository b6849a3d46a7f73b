"""A firm that keeps itself tidy: delivered outbox rows older than `keep_outbox_days` give up
their copy of the item (or go, when the share history does not show them); pending and failed
rows, the audit trail, share marks and the share history are never pruned. Both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal_tui.domain import ItemKind, OutboxOp, OutboxState
from portal_tui.repository import pruning
from portal_tui.repository.worker import Housekeeping
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import AuditEntry, OutboxEntry, ShareMark

from .conftest import Firm
from .test_history import deliver

KEEP = 30


def _age(firm: Firm, days: float) -> None:
    """Date every delivered row `days` back, as if delivered then."""
    with firm.system.db.write() as s:
        s.execute(
            update(OutboxEntry)
            .where(OutboxEntry.state == OutboxState.DELIVERED)
            .values(delivered_at=utcnow() - timedelta(days=days))
        )


def _rows(firm: Firm) -> dict[int, tuple[OutboxOp, OutboxState, dict[str, object]]]:
    with firm.system.db.read() as s:
        return {r.id: (r.op, r.state, dict(r.payload)) for r in s.scalars(select(OutboxEntry))}


def _count(firm: Firm, model: type) -> int:
    with firm.system.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _whats(firm: Firm, kind: ItemKind, item_id: int) -> list[tuple[str, str | None]]:
    return [(e.what, e.detail) for e in firm.admin.share_history(kind, item_id).entries]


@pytest.mark.parametrize("chunk", [5_000, 2], ids=["one window", "windows of 2 ids"])
def test_retention_keeps_the_young_prunes_the_old_and_the_history_reads_the_same(
    firm: Firm, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pruning, "_CHUNK", chunk)
    note, task = firm.item(ItemKind.NOTE), firm.item(ItemKind.TASK)
    firm.admin.share(ItemKind.NOTE, note)
    firm.admin.share(ItemKind.TASK, task)
    firm.admin.unshare(ItemKind.TASK, task)
    firm.admin.set_firm_portal(notify_new_items=False)
    quiet = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, quiet)
    deliver(firm)
    shared = [(ItemKind.NOTE, note), (ItemKind.TASK, task), (ItemKind.NOTE, quiet)]
    before = _rows(firm)
    audit, marks = _count(firm, AuditEntry), _count(firm, ShareMark)

    # Younger than retention: nothing changes.
    _age(firm, KEEP - 1)
    assert firm.system.prune_outbox(KEEP).deleted == 0
    assert _rows(firm) == before

    _age(firm, KEEP + 1)
    histories = {k: _whats(firm, *k) for k in shared}
    pruned = firm.system.prune_outbox(KEEP)
    after = _rows(firm)
    newest = max(before)
    history_ops = {OutboxOp.PUBLISH, OutboxOp.REVOKE, OutboxOp.NOTIFY}
    for row_id, (op, state, payload) in before.items():
        if row_id == newest:
            assert after[row_id] == (op, state, payload), "the newest row is never pruned"
        elif op in history_ops:
            assert after[row_id][2] in ({}, {"notify": False}), (op, after[row_id])
        else:
            assert row_id not in after, (op, payload)
    assert pruned.deleted == len(before) - len(after)
    assert pruned.emptied >= 3
    # The item copies are gone; what the history shows is not.
    assert {k: _whats(firm, *k) for k in histories} == histories
    assert (_count(firm, AuditEntry), _count(firm, ShareMark)) == (audit, marks)
    # A second prune has nothing left to do.
    assert firm.system.prune_outbox(KEEP) == type(pruned)(deleted=0, emptied=0)


def test_pending_and_failed_rows_are_never_pruned(firm: Firm) -> None:
    failed, pending = firm.item(ItemKind.NOTE), firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, failed)
    deliver(firm, "422: data.subject too long")
    firm.admin.share(ItemKind.NOTE, pending)
    with firm.system.db.write() as s:  # old, as far as any date says
        s.execute(update(OutboxEntry).values(created_at=utcnow() - timedelta(days=400)))
    before = _rows(firm)
    assert firm.system.prune_outbox(KEEP, now=utcnow() + timedelta(days=400)).deleted == 0
    assert _rows(firm) == before
    assert {state for _, state, _ in before.values()} >= {OutboxState.FAILED, OutboxState.PENDING}


def test_housekeeping_prunes_at_the_first_pass_then_hourly(firm: Firm) -> None:
    calls: list[int] = []

    class Repo:
        def prune_outbox(self, keep_days: int) -> None:
            calls.append(keep_days)

    now = [1000.0]
    keeper = Housekeeping(Repo(), 12, clock=lambda: now[0])  # type: ignore[arg-type]
    keeper.run_if_due()
    now[0] += 3599
    keeper.run_if_due()
    assert calls == [12]
    now[0] += 2
    keeper.run_if_due()
    assert calls == [12, 12]

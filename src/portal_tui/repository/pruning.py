"""Housekeeping of the firm's outbox (docs/housekeeping.md): a row delivered longer ago than
`keep_outbox_days` has done its work. What the share history shows of it stays — that a share
or an unshare was delivered and when, and what became of the clients' email — while the copy
of the item it carried, the bulk of the row, goes. Rows that asked for anything else (a
matter's or the firm's settings, a contact, a reset) are deleted outright.

Never pruned: pending or failed rows, the audit trail, share marks, and the outbox's newest
row (on SQLite a deleted newest id would be handed out again, and an outbox id is the version
of a firm or matter setting on the wire). Safe to run in several processes at once: each step
is one statement on settled rows nothing else writes, decided by its WHERE clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Delete,
    String,
    Update,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from portal_tui.domain.states import OutboxOp, OutboxState
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .base import Service

# The rows the share history reads (history.py): kept, emptied of the item's copy.
_HISTORY_OPS = (OutboxOp.PUBLISH, OutboxOp.REVOKE, OutboxOp.NOTIFY)
# What an emptied row keeps: only whether the share asked for no email (the history says so).
_EMPTIED: tuple[dict[str, bool], ...] = ({}, {"notify": False})
_CHUNK = 5_000  # ids per transaction


@dataclass(frozen=True, slots=True)
class OutboxPruned:
    deleted: int = 0
    emptied: int = 0


class PruningService(Service):
    """Outbox housekeeping: delivered rows emptied or deleted once old."""

    staff_commands = False  # works for whoever runs it: the relay, sync, housekeeping

    def prune_outbox(self, keep_days: int, now: datetime | None = None) -> OutboxPruned:
        """Prune outbox rows delivered more than `keep_days` before `now`: in windows of
        `_CHUNK` ids, each its own short transaction, so that a first prune of a large firm
        never holds SQLite's write lock long enough to stall a staff member's share
        (keystroke to screen <= 100 ms)."""
        before = (now or utcnow()) - timedelta(days=keep_days)
        with self.db.read() as s:
            low, newest = s.execute(
                select(func.min(OutboxEntry.id), func.max(OutboxEntry.id))
            ).one()
        deleted = emptied = 0
        for start in range(low or 0, newest or 0, _CHUNK):
            with self.db.write() as s:
                window = (
                    OutboxEntry.id >= start,
                    OutboxEntry.id < min(start + _CHUNK, newest),
                    OutboxEntry.state == OutboxState.DELIVERED,
                    OutboxEntry.delivered_at < before,
                )
                deleted += _count(
                    s, delete(OutboxEntry).where(*window, OutboxEntry.op.not_in(_HISTORY_OPS))
                )
                for payload in _EMPTIED:
                    # json has no equality on PostgreSQL; its text is what SQLAlchemy wrote.
                    kept = cast(OutboxEntry.payload, String)
                    emptied += _count(
                        s,
                        update(OutboxEntry)
                        .where(
                            *window,
                            OutboxEntry.op.in_(_HISTORY_OPS),
                            kept.not_in(["{}", '{"notify": false}']),
                            _asked_no_email(payload),
                        )
                        .values(payload=payload)
                        .execution_options(synchronize_session=False),
                    )
        return OutboxPruned(deleted=deleted, emptied=emptied)


def _asked_no_email(payload: dict[str, bool]) -> ColumnElement[bool]:
    """Rows to be emptied to `payload`: a publish that asked for no email keeps saying so."""
    quiet: ColumnElement[bool] = OutboxEntry.payload["notify"].as_boolean().is_(False)
    no_email = (OutboxEntry.op == OutboxOp.PUBLISH) & quiet
    return no_email if payload else ~no_email


def _count(s: Session, statement: Delete | Update) -> int:
    result = s.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)

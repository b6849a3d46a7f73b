"""Housekeeping of the portal's own tables: what is done with is deleted once retention says
it has been kept long enough (docs/housekeeping.md). Run hourly by the app's lifespan, in one
process only (worker 0, like the mail sender), and safe to run in several at once: each step
is one DELETE of rows that nothing writes any more, decided by the WHERE clause alone.

Never pruned: published items, documents and uploads, accounts and contacts, staff tokens, the
binding to the firm, and changes the firm has not read yet.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, Delete, delete, or_, select
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from .config import ServiceConfig
from .models import (
    Change,
    ClientSession,
    IdempotencyRecord,
    LoginFailure,
    MailMessage,
    PortalBinding,
)

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60 * 60  # retention is counted in days: an hour late is nothing


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind one prune deleted."""

    feed: int = 0
    idempotency: int = 0
    mail: int = 0
    sessions: int = 0
    login_failures: int = 0

    @property
    def total(self) -> int:
        return self.feed + self.idempotency + self.mail + self.sessions + self.login_failures


def prune(db: Database, config: ServiceConfig, now: datetime | None = None) -> Pruned:
    """Delete what retention no longer keeps, as of `now`; one transaction."""
    now = now or utcnow()
    keep = config.retention
    with db.write() as s:
        return Pruned(
            feed=_deleted(s, _read_changes(s, now - timedelta(days=keep.feed_days))),
            idempotency=_deleted(
                s,
                delete(IdempotencyRecord).where(
                    # A key still being answered (no status yet) is never taken from under it.
                    IdempotencyRecord.status_code.is_not(None),
                    IdempotencyRecord.created_at < now - timedelta(days=keep.idempotency_days),
                ),
            ),
            mail=_deleted(
                s,
                delete(MailMessage).where(
                    or_(
                        MailMessage.sent_at < now - timedelta(days=keep.mail_days),
                        MailMessage.dropped_at < now - timedelta(days=keep.mail_days),
                    )
                ),
            ),
            sessions=_deleted(s, _ended_sessions(config, now - timedelta(days=keep.sessions_days))),
            login_failures=_deleted(
                s,
                delete(LoginFailure).where(
                    # Never inside the window the login limit counts, whatever retention says.
                    LoginFailure.at
                    < now
                    - max(
                        timedelta(days=keep.login_failures_days),
                        timedelta(seconds=config.login_window_seconds),
                    )
                ),
            ),
        )


def _read_changes(s: Session, before: datetime) -> Delete:
    """Changes older than `before` that the firm has read: its cursor has moved past them
    (`portal_binding.feed_consumed_seq`). Without a bound firm nothing is known read."""
    consumed = s.scalar(select(PortalBinding.feed_consumed_seq).where(PortalBinding.id == 1))
    return delete(Change).where(Change.seq <= (consumed or 0), Change.at < before)


def _ended_sessions(config: ServiceConfig, before: datetime) -> Delete:
    """Sessions that ended (idle or too old) before `before`."""
    idle = timedelta(seconds=config.session_idle_seconds)
    absolute = timedelta(seconds=config.session_absolute_seconds)
    return delete(ClientSession).where(
        or_(
            ClientSession.last_seen_at < before - idle, ClientSession.created_at < before - absolute
        )
    )


def _deleted(s: Session, statement: Delete) -> int:
    result = s.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


async def run_pruner(db: Database, config: ServiceConfig, *, every: float = PRUNE_EVERY_S) -> None:
    """Prune at start-up and then every `every` seconds, until cancelled. A failure (the
    database away) is logged and tried again next time: nothing depends on it being prompt."""
    while True:
        try:
            pruned = await asyncio.to_thread(prune, db, config)
            if pruned.total:
                log.info("pruned %s", pruned)
        except Exception:
            log.exception("pruning failed; trying again in an hour")
        await asyncio.sleep(every)

"""Delivering the mail outbox: claim a due email, send it, mark it sent; retry what failed.

At least once, never knowingly twice: a row is claimed (its attempt counted and a lease set)
in one transaction, sent outside any transaction, and marked sent in another. A crash (or a
lost database connection) between "sent" and "marked sent" leaves the row claimed; when the
lease lapses it is sent again with the same Message-ID, which lets a receiving server or mail
client drop the copy. In .eml mode the copy overwrites the same file, so no duplicate
appears. Several senders (several uvicorn workers) may run at once: a claim succeeds for one
of them only.

Between the claim and the send, each email is checked against what is true now (recheck): a
"new items" or digest email is composed again from what its recipient may see, and one with
nothing left to say (or an invitation whose link is dead) is dropped for good, unsent. Only
that one email is composed, in a read transaction; write transactions stay a single UPDATE of
the row (claim, fresh content, sent, failed or dropped) and SMTP runs outside any transaction.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, select, update

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..models import MailMessage
from .compose import build_message
from .digest import queue_daily_digest
from .recheck import recheck
from .transport import MessageRefused, Transport, TransportDown, open_transport

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# How long a claimed row is left alone: longer than any one SMTP conversation can take, so
# only a sender that died gives it back.
CLAIM_LEASE = timedelta(minutes=10)
# When the transport itself is down, the loop waits longer between rounds, up to this.
IDLE_CAP_SECONDS = 300.0
ERROR_MAX = 2000

_T = TypeVar("_T")


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait after the `attempts`-th failed try: doubling from BACKOFF_BASE, capped at
    BACKOFF_CAP, with jitter so that emails that failed together do not retry together. It
    is never less than half the doubled value, so a failed email does not come straight back.
    """
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (1 << max(0, min(attempts - 1, 20))))
    factor = 0.5 + (rng or random).random() / 2
    return ceiling * factor


@dataclass(frozen=True, slots=True)
class Round:
    sent: int = 0
    failed: int = 0
    transport_down: bool = False
    dropped: int = 0  # given up unsent: nothing left for the recipient to be told


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _due_ids(db: Database, now: datetime, limit: int) -> list[int]:
    with db.read() as s:
        return list(
            s.scalars(
                select(MailMessage.id)
                .where(
                    MailMessage.sent_at.is_(None),
                    MailMessage.dropped_at.is_(None),
                    MailMessage.next_attempt_at <= now,
                )
                .order_by(MailMessage.next_attempt_at, MailMessage.id)
                .limit(limit)
            )
        )


def _due(row_id: int, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        MailMessage.id == row_id,
        MailMessage.sent_at.is_(None),
        MailMessage.dropped_at.is_(None),
        MailMessage.next_attempt_at <= now,
    )


def _claim(db: Database, row_id: int, now: datetime) -> MailMessage | None:
    """Take one due row for this sender; None when another sender took it (or sent it).

    The UPDATE's condition decides (it is checked again under the row lock, so of two senders
    one counts the attempt and the other changes nothing). On PostgreSQL the row is first
    locked SKIP LOCKED: a row another sender is claiming this moment is passed over at once
    instead of waited for."""
    with db.write() as s:
        locked = select(MailMessage.id).where(*_due(row_id, now))
        if not db.is_sqlite and s.scalar(locked.with_for_update(skip_locked=True)) is None:
            return None
        result = s.execute(
            update(MailMessage)
            .where(*_due(row_id, now))
            .values(attempts=MailMessage.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) == 0:
            return None
        # expire_on_commit is off: the row stays readable once the claim is committed.
        return s.get(MailMessage, row_id, populate_existing=True)


def _held(row: MailMessage) -> tuple[ColumnElement[bool], ...]:
    """The row while this sender's claim still holds it: a claim whose lease ran out may
    have been taken over (its attempt counted again), and then the new holder decides. A
    failure written by the old one would cut the new one's lease short, and a third sender
    would send the email again while it is being sent."""
    return (
        MailMessage.id == row.id,
        MailMessage.sent_at.is_(None),
        MailMessage.attempts == row.attempts,
    )


def _recheck(
    db: Database, config: ServiceConfig, row: MailMessage, now: datetime
) -> MailMessage | None:
    """The claimed row as it must go out now, its content composed again from what its
    recipient may see (see recheck); None when it must not go: it is then marked dropped,
    with the reason in last_error, and never tried again.

    Composing reads (a read transaction: on SQLite it never holds the write lock that the
    staff API's publishes wait for); only the verdict is written, in a short transaction of
    its own, and only when there is something to write.
    """
    with db.read() as s:
        verdict = recheck(s, config, row, now)
    if verdict.dropped is not None:
        with db.write() as s:
            s.execute(
                update(MailMessage)
                .where(*_held(row))
                .values(dropped_at=utcnow(), last_error=verdict.dropped[:ERROR_MAX])
                .execution_options(synchronize_session=False)
            )
        log.info("mail %s to %s dropped unsent: %s", row.message_id, row.to_addr, verdict.dropped)
        return None
    if verdict.changes:
        # Committed before sending: a resend after a crash is this very email.
        with db.write() as s:
            s.execute(
                update(MailMessage)
                .where(*_held(row))
                .values(**verdict.changes)
                .execution_options(synchronize_session=False)
            )
        for column, value in verdict.changes.items():
            setattr(row, column, value)
    return row


def _mark_sent(db: Database, row_id: int) -> None:
    # Sent is a fact, whoever holds the claim now; a sender that marked it first keeps its time.
    with db.write() as s:
        s.execute(
            update(MailMessage)
            .where(MailMessage.id == row_id, MailMessage.sent_at.is_(None))
            .values(sent_at=utcnow(), last_error=None)
            .execution_options(synchronize_session=False)
        )


def _mark_failed(db: Database, row: MailMessage, now: datetime, error: str) -> datetime:
    retry_at = now + backoff(row.attempts)
    with db.write() as s:
        s.execute(
            update(MailMessage)
            .where(*_held(row))
            .values(last_error=error[:ERROR_MAX], next_attempt_at=retry_at)
            .execution_options(synchronize_session=False)
        )
    return retry_at


def send_round(
    db: Database,
    config: ServiceConfig,
    *,
    now: datetime | None = None,
    limit: int = 100,
    stop: threading.Event | None = None,
    transport: Transport | None = None,
) -> Round:
    """One pass over the due emails; see send_due. Also says whether the transport is down,
    so the loop can wait longer before the next pass."""
    now = now or utcnow()
    ids = _due_ids(db, now, limit)
    if not ids:
        return Round()
    own_transport = transport is None
    out = transport or open_transport(config)
    sent = failed = dropped = 0
    down = False
    try:
        for row_id in ids:
            if stop is not None and stop.is_set():
                break
            row = _claim(db, row_id, now)
            if row is None:
                continue
            try:
                fresh = _recheck(db, config, row, now)
                if fresh is None:
                    dropped += 1
                    continue
                out.send(build_message(fresh, config))
            except TransportDown as exc:
                retry_at = _mark_failed(db, row, now, str(exc))
                log.warning(
                    "mail transport failed (%s); %s retried at %s, the rest next round",
                    exc,
                    row.message_id,
                    f"{retry_at:%H:%M:%S}",
                )
                failed += 1
                down = True
                # The others are not claimed, so they stay due and keep their attempt count.
                break
            except MessageRefused as exc:
                _mark_failed(db, row, now, str(exc))
                log.warning("mail %s to %s refused: %s", row.message_id, row.to_addr, exc)
                failed += 1
                continue
            except Exception as exc:
                # A message that cannot even be composed again or built (bad address, bad
                # header) must not stop the others; it is retried like any failure and its
                # error is kept on the row.
                _mark_failed(db, row, now, f"{type(exc).__name__}: {exc}")
                log.exception("mail %s could not be sent", row.message_id)
                failed += 1
                continue
            _mark_sent(db, row.id)
            sent += 1
    finally:
        if own_transport:
            out.close()
    return Round(sent, failed, down, dropped)


def send_due(
    db: Database,
    config: ServiceConfig,
    *,
    now: datetime | None = None,
    limit: int = 100,
    stop: threading.Event | None = None,
) -> int:
    """Send up to `limit` due emails (not sent, next_attempt_at <= now), oldest due first.

    Each is claimed, checked again (recheck), sent and marked sent on its own; one left with
    nothing to say is dropped instead. A failure counts the attempt, keeps the error in
    last_error and schedules the next try with backoff(). When the transport itself is down
    the round ends at the first failure. `stop` ends the round between two emails. Blocking:
    call it from a thread in async code. Returns how many were sent.
    """
    return send_round(db, config, now=now, limit=limit, stop=stop).sent


def queue_digest_if_due(
    db: Database, config: ServiceConfig, done: date | None, *, now: datetime | None = None
) -> date:
    """Queue the previous UTC day's digest unless `done` says this sender already did.

    Runs at start-up too, so a service that was down at midnight still sends it; queueing
    is idempotent per day and recipient, so restarts and several workers send one digest.
    """
    day = (now or utcnow()).date() - timedelta(days=1)
    if done == day:
        return day
    with db.write() as s:
        queued = queue_daily_digest(s, config, day)
    if queued:
        log.info("queued %d daily digest email(s) for %s", queued, day)
    return day


async def _in_thread(stop: threading.Event, fn: Callable[..., _T], *args: Any) -> _T:
    """Run blocking work in a thread; on cancellation, let it finish the email in flight.

    Abandoning the thread would leave an email sent but not marked sent (it would be sent
    again when its claim lapses), and the app would close the database under it.
    """
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.warning("mail sender stopped with an error: %s", task.exception())
        raise


def _pause(poll_seconds: float, failures: int) -> float:
    if failures == 0:
        return poll_seconds
    return float(min(IDLE_CAP_SECONDS, poll_seconds * 2 ** min(failures, 10)))


async def run_sender(
    db: Database, config: ServiceConfig, *, poll_seconds: float = POLL_SECONDS
) -> None:
    """The app's background mailer: every `poll_seconds` sends what is due, and once a day
    (at start-up, then after each midnight UTC) queues the previous day's digest.

    Never ends on its own: a failing transport or database is logged and retried, waiting
    longer while it keeps failing. Cancel it to stop; the email in flight is finished first.
    """
    stop = threading.Event()
    digest_done: date | None = None
    failures = 0
    try:
        while True:
            if digest_done != utcnow().date() - timedelta(days=1):
                # Apart from sending, so that a digest that cannot be queued (and is tried
                # again next round) never holds back the other emails.
                try:
                    digest_done = await _in_thread(
                        stop, queue_digest_if_due, db, config, digest_done
                    )
                except Exception:
                    log.exception("daily digest could not be queued; trying again")
            try:
                result = await _in_thread(stop, lambda: send_round(db, config, stop=stop))
                failures = failures + 1 if result.transport_down else 0
            except Exception:
                failures += 1
                log.exception("mail sender round failed; trying again")
            await asyncio.sleep(_pause(poll_seconds, failures))
    finally:
        stop.set()

"""The outbox relay: hands each outbox row to the portal, exactly once in effect.

Rows are claimed with a short lease (so two relays, or a relay that died, never leave a row
stuck), sent in id order with the idempotency key minted with the row, and settled by the
answer: delivered (the share mark turns shared or not shared), retried later with exponential
backoff and jitter (transport errors, 408, 429, 5xx; Retry-After honoured), or failed for good
with the reason kept on the row and the share mark (a 4xx a retry will not change). A portal
that cannot be used at all (wrong token, garbage, an unknown API version) stops the pass and
leaves a lasting problem message; nothing is lost, the rows stay pending. So does a portal that
stops answering: a few requests in a row lost on the wire end the pass the same way, rather than
each remaining row waiting out its own timeout.

A transport that can (BatchTransport: the portal's POST /items/batch) gets consecutive rows it
can batch — item publishes and revokes, up to BATCH_SIZE — in one request, each row with its
own outcome, and the batch is settled in one transaction; a portal without batches gets one
request per row as before. A batch whose answer was lost is sent again as the very same rows,
so its key finds the portal's stored answer.
"""

from __future__ import annotations

import math
import os
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import OutboxOp, OutboxState, ShareState
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry, ShareMark, SyncState

from .base import RepositoryBase

LEASE_ENV = "PORTAL_TUI_DELIVERY_LEASE_S"
DEFAULT_LEASE_S = 60.0
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 300.0
PROBLEM_KEY = "delivery.problem"
# Requests lost on the wire in a row (no answer, or none in time) before a pass gives up.
MAX_LOST_IN_A_ROW = 3
# Rows in one batch request: big enough that a bulk share is a few dozen requests, small
# enough that one answers well within the client's timeout.
BATCH_SIZE = 200
# Lost batches a relay remembers, to send each again as the same rows.
LOST_BATCHES_KEPT = 32


def _lease() -> timedelta:
    """How long claimed rows are left alone: longer than a pass takes, so only a relay that died
    gives them back. The environment may shorten it (tests that kill a relay mid-pass, say); a
    value that is not a positive number of seconds is ignored."""
    try:
        seconds = float(os.environ.get(LEASE_ENV) or DEFAULT_LEASE_S)
    except ValueError:
        seconds = DEFAULT_LEASE_S
    return timedelta(seconds=seconds if math.isfinite(seconds) and seconds > 0 else DEFAULT_LEASE_S)


LEASE = _lease()


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One outbox row as the transport sees it."""

    id: int
    op: OutboxOp
    kind: str | None
    item_id: int | None
    matter_id: int | None
    version: int
    payload: dict[str, Any]
    idempotency_key: str
    batch: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class RetryLater:
    reason: str
    after_seconds: float | None = None  # the portal's Retry-After, when it gave one
    # No answer came back (the connection broke, or the portal did not answer in time): the
    # request may or may not have been applied; its idempotency key makes the retry safe.
    lost: bool = False


@dataclass(frozen=True, slots=True)
class Rejected:
    """A 4xx that a retry will not change: the row fails for good, with this reason."""

    reason: str


@dataclass(frozen=True, slots=True)
class Broken:
    """The portal cannot be used at all; stop, keep everything pending, tell the user."""

    reason: str


Outcome = Delivered | RetryLater | Rejected | Broken


class Transport(Protocol):
    def deliver(self, message: OutboxMessage) -> Outcome: ...


class BatchTransport(Transport, Protocol):
    """A transport that can also deliver several rows in one request."""

    def batchable(self, message: OutboxMessage) -> bool:
        """Whether this row may go in a batch (now: a portal without batches says no)."""
        ...

    def deliver_many(self, messages: Sequence[OutboxMessage]) -> list[Outcome] | None:
        """One outcome per message, in order; None when these should go one by one."""
        ...


def _batching(transport: Transport) -> BatchTransport | None:
    if callable(getattr(transport, "deliver_many", None)) and callable(
        getattr(transport, "batchable", None)
    ):
        return transport  # type: ignore[return-value]  # checked just above
    return None


def _lost(outcome: Outcome) -> bool:
    return isinstance(outcome, RetryLater) and outcome.lost


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    problem: str | None = None
    failures: list[tuple[int, str]] = field(default_factory=list)


def backoff_seconds(attempts: int, rnd: Callable[[], float] = random.random) -> float:
    """Exponential backoff, capped at about five minutes, with jitter so that many clients
    retrying at once do not arrive at the same instant."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** max(0, attempts - 1))
    return float(ceiling * (0.5 + 0.5 * rnd()))


def _message(row: OutboxEntry) -> OutboxMessage:
    return OutboxMessage(
        row.id,
        row.op,
        row.kind,
        row.item_id,
        row.matter_id,
        row.version,
        dict(row.payload),
        row.idempotency_key,
        row.batch,
        row.attempts,
    )


def _reason(outcome: Outcome) -> str:
    return outcome.reason if not isinstance(outcome, Delivered) else "delivered"


class DeliveryMixin(RepositoryBase):
    def deliver_pending(
        self, transport: Transport, *, limit: int = 500, now: datetime | None = None
    ) -> DeliveryReport:
        """One pass over the due outbox rows, oldest first."""
        report = DeliveryReport()
        claimed = self._claim(limit, now or utcnow())
        many = _batching(transport)
        queue = deque(self._units(claimed, many))
        sent: set[int] = set()
        lost = 0
        while queue:
            unit = queue.popleft()
            if len(unit) > 1 and many is not None:
                try:
                    answers = many.deliver_many(unit)
                except Exception as exc:  # a transport bug must not lose the rows: retry them
                    answers = [RetryLater(f"{type(exc).__name__}: {exc}")] * len(unit)
                if answers is None:
                    # Not as a batch (a portal without batches, say): one request each.
                    queue.extendleft([message] for message in reversed(unit))
                    continue
                if len(answers) != len(unit):
                    answers = [RetryLater("the transport lost count of a batch")] * len(unit)
                outcomes = answers
                self._settle_many(unit, outcomes, report)
                self._remember_lost(unit, all(_lost(outcome) for outcome in outcomes))
            else:
                (message,) = unit
                try:
                    outcome = transport.deliver(message)
                except Exception as exc:  # a transport bug must not lose the row: retry it
                    outcome = RetryLater(f"{type(exc).__name__}: {exc}")
                self._settle(message, outcome, report)
                outcomes = [outcome]
            sent.update(message.id for message in unit)
            if not all(_lost(outcome) for outcome in outcomes):
                lost = 0
            elif (lost := lost + 1) >= MAX_LOST_IN_A_ROW:
                # A portal that has stopped answering would otherwise hold the pass for one
                # timeout per remaining request, and their leases would run out meanwhile.
                report.problem = (
                    f"The portal service stopped answering ({_reason(outcomes[-1])}); shares "
                    "stay pending and go out when it answers again."
                )
                self._set_problem(report.problem)
            if any(isinstance(o, Broken) for o in outcomes) or report.problem is not None:
                # The rest were not tried: hand them back at once, not after the lease.
                self._release([m.id for m in claimed if m.id not in sent])
                break
        if report.problem is None and (report.delivered or report.failed):
            self._set_problem(None)
        return report

    def _units(
        self, claimed: list[OutboxMessage], many: BatchTransport | None
    ) -> list[list[OutboxMessage]]:
        """The requests of a pass, in order: runs of rows the transport can batch, in batches
        (a lost one again as it was), and every other row on its own."""
        units: list[list[OutboxMessage]] = []
        run: list[OutboxMessage] = []
        for message in claimed:
            if many is not None and many.batchable(message):
                run.append(message)
                continue
            units.extend(self._batches_of(run))
            run = []
            units.append([message])
        units.extend(self._batches_of(run))
        return units

    def _batches_of(self, run: list[OutboxMessage]) -> list[list[OutboxMessage]]:
        if len(run) < 2:
            return [[message] for message in run]
        waiting = {message.id: message for message in run}
        batches: list[list[OutboxMessage]] = []
        for ids in self._lost_batches():
            if all(i in waiting for i in ids):
                batches.append([waiting.pop(i) for i in ids])
        rest = [message for message in run if message.id in waiting]
        batches.extend(rest[i : i + BATCH_SIZE] for i in range(0, len(rest), BATCH_SIZE))
        return batches

    def _lost_batches(self) -> list[tuple[int, ...]]:
        kept: list[tuple[int, ...]] = self.__dict__.setdefault("_relay_lost_batches", [])
        return kept

    def _remember_lost(self, unit: list[OutboxMessage], lost: bool) -> None:
        """A batch whose answer was lost is sent again as the same rows, so as the same
        request: the portal may have applied it, and then answers with what it answered."""
        kept = self._lost_batches()
        ids = tuple(message.id for message in unit)
        if ids in kept:
            kept.remove(ids)
        if lost:
            kept.append(ids)
            del kept[:-LOST_BATCHES_KEPT]

    def _claim(self, limit: int, now: datetime) -> list[OutboxMessage]:
        """Take due rows under a lease; rows of a batch's notice wait for the batch."""
        with self.db.write() as s:
            stmt = (
                select(OutboxEntry)
                .where(OutboxEntry.state == OutboxState.PENDING, OutboxEntry.next_attempt_at <= now)
                .order_by(OutboxEntry.id)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(s.scalars(stmt))
            claimed = []
            for row in rows:
                row.next_attempt_at = now + LEASE
                claimed.append(_message(row))
            return claimed

    def _release(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.db.write() as s:
            for row in s.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(ids))):
                if row.state is OutboxState.PENDING:
                    row.next_attempt_at = utcnow()

    def _settle(self, message: OutboxMessage, outcome: Outcome, report: DeliveryReport) -> None:
        now = utcnow()
        with self.db.write() as s:
            row = s.get(OutboxEntry, message.id)
            if row is None or row.state is not OutboxState.PENDING:
                return
            self._record_outcome(s, row, self._mark_for(s, row), outcome, report, now)
            if row.op is OutboxOp.PUBLISH and isinstance(outcome, Delivered | Rejected):
                # A rejected item's batch still gets its email when this one was its last.
                self._notify_when_batch_done(s, row)

    def _settle_many(
        self, messages: list[OutboxMessage], outcomes: list[Outcome], report: DeliveryReport
    ) -> None:
        """A batch's outcomes in one transaction; each bulk it finished gets its notice once."""
        now = utcnow()
        with self.db.write() as s:
            ids = [message.id for message in messages]
            rows = {r.id: r for r in s.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(ids)))}
            marks = self._marks_for(s, list(rows.values()))
            # Per bulk, the row that stands for it (a delivered one if there is one).
            settled: dict[str, tuple[OutboxEntry, bool]] = {}
            for message, outcome in zip(messages, outcomes, strict=True):
                row = rows.get(message.id)
                if row is None or row.state is not OutboxState.PENDING:
                    continue
                mark = None
                if row.kind is not None and row.item_id is not None:
                    mark = marks.get((row.kind, row.item_id))
                self._record_outcome(s, row, mark, outcome, report, now)
                if (
                    row.op is OutboxOp.PUBLISH
                    and isinstance(outcome, Delivered | Rejected)
                    and row.payload.get("notify", True)
                ):
                    delivered = isinstance(outcome, Delivered)
                    kept = settled.get(row.batch)
                    if kept is None or (delivered and not kept[1]):
                        settled[row.batch] = (row, delivered)
            for row, _ in settled.values():
                self._notify_when_batch_done(s, row)

    def _record_outcome(
        self,
        s: Session,
        row: OutboxEntry,
        mark: ShareMark | None,
        outcome: Outcome,
        report: DeliveryReport,
        now: datetime,
    ) -> None:
        if isinstance(outcome, Delivered):
            row.state, row.delivered_at, row.last_error = OutboxState.DELIVERED, now, None
            row.attempts += 1
            if mark is not None and mark.version == row.version:
                mark.state = ShareState.SHARED if mark.wanted else ShareState.NOT_SHARED
                mark.last_error = None
            report.delivered += 1
        elif isinstance(outcome, Rejected):
            row.state, row.last_error = OutboxState.FAILED, outcome.reason
            row.attempts += 1
            if mark is not None and mark.version == row.version:
                mark.state, mark.last_error = ShareState.FAILED, outcome.reason
            report.failed += 1
            report.failures.append((row.id, outcome.reason))
        elif isinstance(outcome, Broken):
            # Not this row's fault: it stays due; the worker backs off as a whole.
            row.next_attempt_at = now
            row.last_error = outcome.reason
            report.retried += 1
            report.problem = outcome.reason
            self._store_problem(s, outcome.reason)
        else:
            row.attempts += 1
            wait = backoff_seconds(row.attempts)
            if outcome.after_seconds is not None:
                wait = min(max(outcome.after_seconds, 0.0), BACKOFF_CAP_S * 4)
            row.next_attempt_at = now + timedelta(seconds=wait)
            row.last_error = outcome.reason
            report.retried += 1

    @staticmethod
    def _marks_for(s: Session, rows: list[OutboxEntry]) -> dict[tuple[str, int], ShareMark]:
        """The share marks of these rows' items, in one query."""
        wanted = {
            (row.kind, row.item_id)
            for row in rows
            if row.op in (OutboxOp.PUBLISH, OutboxOp.REVOKE)
            and row.kind is not None
            and row.item_id is not None
        }
        if not wanted:
            return {}
        item_ids = sorted({item_id for _, item_id in wanted})
        found = s.scalars(select(ShareMark).where(ShareMark.item_id.in_(item_ids)))
        return {
            (mark.kind.value, mark.item_id): mark
            for mark in found
            if (mark.kind.value, mark.item_id) in wanted
        }

    @staticmethod
    def _mark_for(s: Session, row: OutboxEntry) -> ShareMark | None:
        if row.op not in (OutboxOp.PUBLISH, OutboxOp.REVOKE) or row.kind is None:
            return None
        kind = ItemKind(row.kind)
        return s.scalar(
            select(ShareMark).where(ShareMark.kind == kind, ShareMark.item_id == row.item_id)
        )

    def _notify_when_batch_done(self, s: Session, row: OutboxEntry) -> None:
        """When the last item of a batch is settled, queue the batch's one email per client
        (if any of its items reached the portal)."""
        if not row.payload.get("notify", True):
            return
        delivered = row.state is OutboxState.DELIVERED or s.scalar(
            select(OutboxEntry.id).where(
                OutboxEntry.batch == row.batch,
                OutboxEntry.op == OutboxOp.PUBLISH,
                OutboxEntry.state == OutboxState.DELIVERED,
            )
        )
        if not delivered:
            return
        pending = s.scalar(
            select(OutboxEntry.id).where(
                OutboxEntry.batch == row.batch,
                OutboxEntry.op == OutboxOp.PUBLISH,
                OutboxEntry.state == OutboxState.PENDING,
                OutboxEntry.id != row.id,
            )
        )
        key = f"notify-{row.batch}"
        if pending is not None or s.scalar(
            select(OutboxEntry.id).where(OutboxEntry.idempotency_key == key)
        ):
            return
        s.add(
            OutboxEntry(
                op=OutboxOp.NOTIFY,
                payload={"batch": row.batch},
                idempotency_key=key,
                batch=row.batch,
                created_at=utcnow(),
                next_attempt_at=utcnow(),
            )
        )

    # The lasting problem message ------------------------------------------------------------

    def delivery_problem(self) -> str | None:
        """Why delivery is stuck, until a pass gets through again."""
        with self.db.read() as s:
            row = s.get(SyncState, PROBLEM_KEY)
            return row.value if row is not None else None

    def note_problem(self, problem: str | None) -> None:
        """Keep (or clear) the lasting message about why delivery or sync is stuck."""
        self._set_problem(problem)

    def _set_problem(self, problem: str | None) -> None:
        with self.db.write() as s:
            self._store_problem(s, problem)

    @staticmethod
    def _store_problem(s: Session, problem: str | None) -> None:
        row = s.get(SyncState, PROBLEM_KEY)
        if problem is None:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(SyncState(key=PROBLEM_KEY, value=problem))
        else:
            row.value = problem

    def pending_deliveries(self) -> int:
        with self.db.read() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.state == OutboxState.PENDING)
                )
                or 0
            )

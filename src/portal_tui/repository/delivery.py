"""The outbox relay: hands each outbox row to the portal, exactly once in effect.

Rows are claimed with a short lease under a claim of their own (`claimed_by`: on PostgreSQL
with FOR UPDATE SKIP LOCKED, so any number of relays at once take disjoint rows), the lease
renewed by a heartbeat while the claim's requests are in flight and handed back at once when
the pass stops for any reason (a portal that cannot be used, SIGTERM, Ctrl-C); a relay killed
outright leaves rows that the next relay takes once their lease has run out (within about
LEASE). Only the claim that holds a row settles it: a relay whose lease ran out finds the row
taken over and leaves it to the new holder, which sends the same idempotency key and so gets
the portal's first answer. Rows are sent in id order with the idempotency key minted with the
row, and settled by the answer: delivered (the share mark turns shared or not shared), retried
later with exponential backoff and jitter (transport errors, 408, 429, 5xx; Retry-After
honoured), or failed for good with the reason kept on the row and the share mark (a 4xx a
retry will not change). A portal that cannot be used at all (wrong token, garbage, an unknown
API version) stops the pass and leaves a lasting problem message; nothing is lost, the rows
stay pending. So does a portal that stops answering: a few requests in a row lost on the wire
end the pass the same way, rather than each remaining row waiting out its own timeout.

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
import threading
import uuid
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, case, func, or_, select, text, update
from sqlalchemy.orm import Session

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import OutboxOp, OutboxState, ShareState
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import AuditEntry, OutboxEntry, ShareMark, SyncState

from .base import Context, Service, first_insert

LEASE_ENV = "PORTAL_TUI_DELIVERY_LEASE_S"
# A SIGKILLed relay's rows must be retried within 15 s: its lease runs out within this, and
# another relay polls every couple of seconds. The heartbeat keeps a live claim's lease long.
DEFAULT_LEASE_S = 10.0
# Renewals per lease: two may be missed (a database hiccup) before the lease runs out.
BEATS_PER_LEASE = 3
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
    """How long claimed rows are left alone without a heartbeat: only a relay that died (or
    cannot reach the database) gives them back this way. The environment may change it (tests
    that kill a relay mid-pass, say); a value that is not a positive number of seconds is
    ignored."""
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
    # The batch notices this relay's settling queued (outbox ids): a pass bounded by a high-
    # water mark still sends them, as they finish what it delivered.
    notices: list[int] = field(default_factory=list)


class _Heartbeat:
    """Calls `beat` every `every` seconds in a thread of its own while the block runs."""

    def __init__(self, beat: Callable[[], None], every: float, *, enabled: bool) -> None:
        self._beat = beat
        self._every = every
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        if enabled:
            self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._every):
            try:
                self._beat()
            except Exception:  # a database hiccup: the next beat tries again
                continue


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


# The key space of pg_advisory_xact_lock(int, int) for "a batch's notice is being decided".
_NOTICE_LOCKS = 0x6E6F
_OUTBOX: Table = OutboxEntry.__table__  # type: ignore[assignment]
_MARKS: Table = ShareMark.__table__  # type: ignore[assignment]

# What a settled request writes, as set-based statements: the outbox rows by outcome, and the
# share marks of the items, each only where the mark is still at the row's version (a newer
# share or unshare since then decides the mark's state, not this answer). Counters are added
# to in SQL.
_DELIVERED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        state=OutboxState.DELIVERED,
        delivered_at=bindparam("b_at"),
        last_error=None,
        attempts=_OUTBOX.c.attempts + 1,
    )
)
_FAILED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        state=OutboxState.FAILED,
        last_error=bindparam("b_reason"),
        attempts=_OUTBOX.c.attempts + 1,
    )
)
_LATER = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        next_attempt_at=bindparam("b_at"),
        last_error=bindparam("b_reason"),
        attempts=_OUTBOX.c.attempts + bindparam("b_tried"),
        claimed_by=None,
    )
)
_MARK_AT_VERSION = (
    _MARKS.c.kind == bindparam("b_kind"),
    _MARKS.c.item_id == bindparam("b_item"),
    _MARKS.c.version == bindparam("b_version"),
)
_MARK_SETTLED = (
    update(_MARKS)
    .where(*_MARK_AT_VERSION)
    .values(
        state=case(
            (_MARKS.c.wanted.is_(True), ShareState.SHARED.value),
            else_=ShareState.NOT_SHARED.value,
        ),
        last_error=None,
    )
)
_MARK_FAILED = (
    update(_MARKS)
    .where(*_MARK_AT_VERSION)
    .values(state=ShareState.FAILED, last_error=bindparam("b_reason"))
)


class _Settled:
    """The rows one request settles, sorted by outcome, and written together."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        # One draw of jitter for the request's rows: a batch whose answer was lost comes due
        # again whole, and goes again as the same request (so its key finds the first answer).
        self._jitter = random.random()
        self.delivered: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []
        self.later: list[dict[str, Any]] = []
        self.marks_settled: list[dict[str, Any]] = []
        self.marks_failed: list[dict[str, Any]] = []
        self.batches: set[str] = set()
        self.problem: str | None = None

    def add(self, row: Any, outcome: Outcome, report: DeliveryReport) -> None:
        mark = None
        if row.op in (OutboxOp.PUBLISH, OutboxOp.REVOKE) and row.kind and row.item_id:
            mark = {"b_kind": ItemKind(row.kind), "b_item": row.item_id, "b_version": row.version}
        announced = row.op is OutboxOp.PUBLISH and (row.payload or {}).get("notify", True)
        if isinstance(outcome, Delivered):
            self.delivered.append({"b_id": row.id, "b_at": self.now})
            if mark is not None:
                self.marks_settled.append(mark)
            if announced:
                self.batches.add(row.batch)
            report.delivered += 1
        elif isinstance(outcome, Rejected):
            self.failed.append({"b_id": row.id, "b_reason": outcome.reason})
            if mark is not None:
                self.marks_failed.append({**mark, "b_reason": outcome.reason})
            if announced:
                # A rejected item's batch still gets its email when this one was its last.
                self.batches.add(row.batch)
            report.failed += 1
            report.failures.append((row.id, outcome.reason))
        elif isinstance(outcome, Broken):
            # Not this row's fault: it stays due; the worker backs off as a whole.
            self.later.append(
                {"b_id": row.id, "b_at": self.now, "b_reason": outcome.reason, "b_tried": 0}
            )
            self.problem = report.problem = outcome.reason
            report.retried += 1
        else:
            wait = backoff_seconds(row.attempts + 1, lambda: self._jitter)
            if outcome.after_seconds is not None:
                wait = min(max(outcome.after_seconds, 0.0), BACKOFF_CAP_S * 4)
            at = self.now + timedelta(seconds=wait)
            self.later.append(
                {"b_id": row.id, "b_at": at, "b_reason": outcome.reason, "b_tried": 1}
            )
            report.retried += 1

    def write(self, s: Session) -> None:
        # Marks in one order for every writer (kind, then item), as sharing locks them.
        def order(marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(marks, key=lambda m: (m["b_kind"].value, m["b_item"]))

        for statement, params in (
            (_DELIVERED, self.delivered),
            (_FAILED, self.failed),
            (_LATER, self.later),
            (_MARK_SETTLED, order(self.marks_settled)),
            (_MARK_FAILED, order(self.marks_failed)),
        ):
            if params:
                s.execute(statement, params, execution_options={"synchronize_session": False})


class DeliveryService(Service):
    """The outbox relay: claims due rows, sends them, settles what the portal answered."""

    staff_commands = False  # works for whoever runs it: the relay, sync, housekeeping

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # Batches whose answer was lost, to be sent again as the same rows (newest last).
        self._relay_lost_batches: list[tuple[int, ...]] = []

    def deliver_pending(
        self,
        transport: Transport,
        *,
        limit: int = 500,
        now: datetime | None = None,
        up_to: int | None = None,
        also: Collection[int] = (),
        stopping: Callable[[], bool] = lambda: False,
    ) -> DeliveryReport:
        """One pass over the due outbox rows, oldest first. `up_to` bounds it to rows that
        existed when a sync began (`outbox_high_water`), plus the rows named in `also`;
        `stopping` is asked between requests, and a pass told to stop hands back the rest."""
        report = DeliveryReport()
        claim = uuid.uuid4().hex
        claimed = self._claim(claim, limit, now or utcnow(), up_to, also)
        if not claimed:
            return report
        unsettled = {message.id for message in claimed}
        beat = LEASE.total_seconds() / BEATS_PER_LEASE
        try:
            # In-memory databases have a single connection, and no other relay to yield to.
            with _Heartbeat(lambda: self._renew(claim), beat, enabled=not self.db.is_memory):
                self._send(transport, claim, claimed, report, unsettled, stopping)
        finally:
            if unsettled:
                # The rest were not tried: hand them back at once, not after the lease.
                self._release(claim)
        if report.problem is None and (report.delivered or report.failed):
            self._set_problem(None)
        return report

    def _send(
        self,
        transport: Transport,
        claim: str,
        claimed: list[OutboxMessage],
        report: DeliveryReport,
        unsettled: set[int],
        stopping: Callable[[], bool],
    ) -> None:
        many = _batching(transport)
        queue = deque(self._units(claimed, many))
        lost = 0
        while queue and not stopping():
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
                self._remember_lost(unit, all(_lost(outcome) for outcome in outcomes))
            else:
                (message,) = unit
                try:
                    outcome = transport.deliver(message)
                except Exception as exc:  # a transport bug must not lose the row: retry it
                    outcome = RetryLater(f"{type(exc).__name__}: {exc}")
                outcomes = [outcome]
            self._settle(claim, unit, outcomes, report)
            unsettled.difference_update(message.id for message in unit)
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
                break

    def _units(
        self, claimed: list[OutboxMessage], many: BatchTransport | None
    ) -> list[list[OutboxMessage]]:
        """The requests of a pass, in order: runs of rows the transport can batch, in batches
        (a lost one again as it was), and every other row on its own. A batch's notice does
        not end a run: it goes after the run (its batch is delivered already), so that shares
        by many staff, each a batch with its notice, still go 200 to a request."""
        units: list[list[OutboxMessage]] = []
        run: list[OutboxMessage] = []
        notices: list[list[OutboxMessage]] = []
        for message in claimed:
            if many is not None and many.batchable(message):
                run.append(message)
                continue
            if message.op is OutboxOp.NOTIFY:
                notices.append([message])
                continue
            units.extend(self._batches_of(run))
            units.extend(notices)
            run, notices = [], []
            units.append([message])
        units.extend(self._batches_of(run))
        units.extend(notices)
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
        return self._relay_lost_batches

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

    # Claims and leases ------------------------------------------------------------------------

    def last_change(self) -> int:
        """The newest audit entry: every write by anyone is audited, so when this moves the
        firm's data changed (another staff user's edit, an import from the command line)."""
        with self.db.read() as s:
            return int(s.scalar(select(func.max(AuditEntry.id))) or 0)

    def outbox_high_water(self) -> int:
        """The newest outbox row now: a sync delivers what was pending when it began."""
        with self.db.read() as s:
            return int(s.scalar(select(func.max(OutboxEntry.id))) or 0)

    def _claim(
        self, claim: str, limit: int, now: datetime, up_to: int | None, also: Collection[int]
    ) -> list[OutboxMessage]:
        """Take due rows under a lease for `claim`. On PostgreSQL rows another relay is taking
        at this moment are skipped, not waited for (FOR UPDATE SKIP LOCKED); SQLite has one
        writer at a time."""
        with self.db.write() as s:
            # A row held for an Undo (undo.py) is not due before its deliver_after: compared
            # in the query, so a held row is never even locked by a relay.
            stmt = select(OutboxEntry).where(
                OutboxEntry.state == OutboxState.PENDING,
                OutboxEntry.next_attempt_at <= now,
                or_(OutboxEntry.deliver_after.is_(None), OutboxEntry.deliver_after <= now),
            )
            if up_to is not None:
                bound = OutboxEntry.id <= up_to
                if also:
                    bound = or_(bound, OutboxEntry.id.in_(sorted(also)))
                stmt = stmt.where(bound)
            stmt = stmt.order_by(OutboxEntry.id).limit(limit)
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            claimed = []
            for row in s.scalars(stmt):
                row.next_attempt_at = now + LEASE
                row.claimed_by = claim
                row.deliver_after = None  # claimed: from now on an Undo is too late
                claimed.append(_message(row))
            return claimed

    def _renew(self, claim: str) -> None:
        """The heartbeat: the claim's rows still waiting on their requests keep their lease."""
        with self.db.write() as s:
            s.execute(
                update(OutboxEntry)
                .where(OutboxEntry.claimed_by == claim, OutboxEntry.state == OutboxState.PENDING)
                .values(next_attempt_at=utcnow() + LEASE)
            )

    def _release(self, claim: str) -> None:
        """Hand the claim's unsettled rows back, due at once."""
        with self.db.write() as s:
            s.execute(
                update(OutboxEntry)
                .where(OutboxEntry.claimed_by == claim, OutboxEntry.state == OutboxState.PENDING)
                .values(next_attempt_at=utcnow(), claimed_by=None)
            )

    # Settling ---------------------------------------------------------------------------------

    def _settle(
        self,
        claim: str,
        messages: list[OutboxMessage],
        outcomes: list[Outcome],
        report: DeliveryReport,
    ) -> None:
        """The outcomes of one request, in one transaction, for the rows the claim still holds
        (read locked); each batch they finished gets its notice, once."""
        now = utcnow()
        with self.db.write() as s:
            found = select(
                OutboxEntry.id,
                OutboxEntry.op,
                OutboxEntry.kind,
                OutboxEntry.item_id,
                OutboxEntry.version,
                OutboxEntry.batch,
                OutboxEntry.payload,
                OutboxEntry.attempts,
            ).where(
                OutboxEntry.id.in_([message.id for message in messages]),
                OutboxEntry.claimed_by == claim,
                OutboxEntry.state == OutboxState.PENDING,
            )
            if not self.db.is_sqlite:
                found = found.with_for_update()
            ours = {row.id: row for row in s.execute(found.order_by(OutboxEntry.id))}
            rows = _Settled(now)
            for message, outcome in zip(messages, outcomes, strict=True):
                row = ours.get(message.id)
                if row is not None:  # else another relay's lease holds it, and it settles it
                    rows.add(row, outcome, report)
            rows.write(s)
            if rows.problem is not None:
                self._store_problem(s, rows.problem)
            for batch in sorted(rows.batches):
                notice = self._notify_when_batch_done(s, batch)
                if notice is not None:
                    report.notices.append(notice)

    def _notify_when_batch_done(self, s: Session, batch: str) -> int | None:
        """When the last item of a batch is settled, queue the batch's one email per client
        (if any of its items reached the portal); returns the notice's outbox id.

        Relays settling a batch's last rows at the same moment take their turn here (a lock
        per batch on PostgreSQL; SQLite has one writer at a time), so each sees the other's
        rows settled, and exactly one of them queues the notice."""
        if not self.db.is_sqlite:
            s.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:batch))"),
                {"space": _NOTICE_LOCKS, "batch": batch},
            )
        of_batch = select(OutboxEntry.id).where(
            OutboxEntry.batch == batch, OutboxEntry.op == OutboxOp.PUBLISH
        )
        delivered = of_batch.where(OutboxEntry.state == OutboxState.DELIVERED).limit(1)
        pending = of_batch.where(OutboxEntry.state == OutboxState.PENDING).limit(1)
        if s.scalar(delivered) is None or s.scalar(pending) is not None:
            return None
        key = f"notify-{batch}"
        if s.scalar(select(OutboxEntry.id).where(OutboxEntry.idempotency_key == key)):
            return None
        notice = OutboxEntry(
            op=OutboxOp.NOTIFY,
            payload={"batch": batch},
            idempotency_key=key,
            batch=batch,
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
        return notice.id if first_insert(s, notice) else None

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
        # Several relays say how delivery stands at once: the row is locked, and a first one
        # inserted by two at the same moment is kept once (the second then updates it).
        row = s.get(SyncState, PROBLEM_KEY, with_for_update=True, populate_existing=True)
        if problem is None:
            if row is not None:
                s.delete(row)
            return
        if row is None and first_insert(s, SyncState(key=PROBLEM_KEY, value=problem)):
            return
        row = row or s.get(SyncState, PROBLEM_KEY, with_for_update=True, populate_existing=True)
        if row is not None:
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

"""The delivery worker: passes of "send the outbox, then read the changes feed", in a thread of
its own, so no screen ever waits on the network. A share wakes it at once; otherwise it polls.
While the portal cannot be used it keeps the reason as a lasting problem and backs off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Protocol

from portal_tui.domain.decision import Conflict, Unavailable

from .delivery import BACKOFF_CAP_S, DeliveryReport, Transport, backoff_seconds
from .feed_sync import FeedSource, SyncReport
from .portal_client import PortalClient, PortalUnusable

POLL_S = 2.0
# While the firm database is away (a server restarting): how often to look for it again, so
# that delivery carries on within seconds of its return.
DATABASE_RETRY_S = 3.0
MAX_ROUNDS = 100  # delivery rounds in one pass, so one pass always ends
# Retention is counted in days (docs/housekeeping.md): pruning hourly is prompt enough, and a
# prune that could not run (the database away) is tried again after a minute.
PRUNE_EVERY_S = 60 * 60.0
PRUNE_RETRY_S = 60.0


@dataclass(frozen=True, slots=True)
class PassReport:
    delivered: int
    retried: int
    failed: int
    synced: int
    problem: str | None
    failures: tuple[tuple[int, str], ...] = ()
    # The problem is the firm database's (away, restarting, locked), not the portal's.
    database_away: bool = False
    # Someone (another staff user, an import) changed the firm's data since the last pass.
    changed: bool = False


class _Repo(Protocol):
    """The part of Repository the worker uses (named here to avoid an import cycle)."""

    def deliver_pending(
        self,
        transport: Transport,
        *,
        up_to: int | None = None,
        also: Collection[int] = (),
        stopping: Callable[[], bool] = ...,
    ) -> DeliveryReport: ...

    def outbox_high_water(self) -> int: ...

    def last_change(self) -> int: ...

    def sync_changes(self, source: FeedSource) -> SyncReport: ...

    def note_problem(self, problem: str | None) -> None: ...

    def resend_everything(self) -> int: ...

    def prune_outbox(self, keep_days: int) -> object: ...


class Housekeeping:
    """Prunes the outbox rows retention no longer keeps, from a relay's passes: at its first
    pass, then hourly. Every relay (the app's, each `sync --watch`) does so; running together
    is harmless (pruning.py)."""

    def __init__(
        self,
        repo: _Repo,
        keep_outbox_days: int,
        *,
        every: float = PRUNE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = repo
        self._keep = keep_outbox_days
        self._every = every
        self._clock = clock
        self._next = clock()

    def run_if_due(self) -> None:
        now = self._clock()
        if now < self._next:
            return
        try:
            self._repo.prune_outbox(self._keep)
        except (Unavailable, Conflict):  # tried again soon; nothing waits on it
            self._next = now + PRUNE_RETRY_S
        else:
            self._next = now + self._every


def run_pass(
    repo: _Repo,
    client: PortalClient,
    *,
    bounded: bool = False,
    stopping: Callable[[], bool] = lambda: False,
) -> PassReport:
    """Deliver everything due, then apply what clients did. Never raises for the portal.

    `bounded` (portal-tui sync): only what was in the outbox when the pass began, and the
    notices its own deliveries queue, so the pass ends in bounded time however busy the staff
    are meanwhile; their new rows are the next pass's (or the app's own relay's)."""
    total = DeliveryReport()
    up_to = repo.outbox_high_water() if bounded else None
    notices: set[int] = set()
    for _ in range(MAX_ROUNDS):
        if stopping():
            break
        report = repo.deliver_pending(client, up_to=up_to, also=notices, stopping=stopping)
        notices.update(report.notices)
        total.delivered += report.delivered
        total.retried += report.retried
        total.failed += report.failed
        total.failures.extend(report.failures)
        if report.problem:
            total.problem = report.problem
            break
        if not (report.delivered or report.failed):
            break
    synced = 0
    if total.problem is None and not stopping():
        try:
            sync = repo.sync_changes(client)
            synced = sync.applied
            if sync.portal_replaced:
                repo.resend_everything()
            repo.note_problem(None)
        except PortalUnusable as exc:
            total.problem = str(exc)
            repo.note_problem(total.problem)
    return PassReport(
        total.delivered,
        total.retried,
        total.failed,
        synced,
        total.problem,
        tuple(total.failures),
    )


class DeliveryWorker:
    """Runs passes in a daemon thread until stopped; `wake()` asks for one now."""

    def __init__(
        self,
        repo: _Repo,
        client: PortalClient,
        *,
        on_pass: Callable[[PassReport], None] | None = None,
        poll_seconds: float = POLL_S,
        housekeeping: Housekeeping | None = None,
    ) -> None:
        self._repo = repo
        self._housekeeping = housekeeping
        self._client = client
        self._on_pass = on_pass
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery", daemon=True)
        self.last: PassReport | None = None
        self._last_change: int | None = None

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        troubled = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = run_pass(self._repo, self._client, stopping=self._stop.is_set)
            except Unavailable as exc:  # the database is away: say so, and try again later
                report = PassReport(0, 0, 0, 0, exc.situation, database_away=True)
            except Exception as exc:  # a database hiccup: report it, keep the thread alive
                report = PassReport(0, 0, 0, 0, f"Delivery stopped: {exc}")
            if not report.database_away:
                report = self._with_changes(report)
            self.last = report
            if self._on_pass is not None:
                self._on_pass(report)
            if self._housekeeping is not None and not report.database_away:
                self._housekeeping.run_if_due()
            troubled = troubled + 1 if report.problem else 0
            wait = min(BACKOFF_CAP_S, backoff_seconds(troubled)) if troubled else self._poll
            if report.database_away:
                wait = min(wait, DATABASE_RETRY_S)
            self._wake.wait(wait)

    def _with_changes(self, report: PassReport) -> PassReport:
        """The report, saying whether the firm's data moved since the last pass: the app's
        lists show another staff user's changes and imports within a poll (POLL_S)."""
        try:
            now = self._repo.last_change()
        except Exception:  # the next pass says what is wrong with the database
            return report
        before, self._last_change = self._last_change, now
        if before is None or before == now:
            return report
        return replace(report, changed=True)

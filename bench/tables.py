"""Table sizes after many shares, with and without pruning (docs/housekeeping.md).

On one engine: a firm with enough items and a portal service of its own (its database on the
same engine), whose clients have accepted their invitations (so every share batch queues
their "new items" emails). `shares` share and unshare operations are done as fast as the
repository allows (`share_many`, CHUNK items a call, all the items shared, then all unshared,
and so on), the app's relay delivering meanwhile in this process, until nothing is pending
and the service has sent every email. Then the firm's `outbox` and the portal's
`idempotency_keys`, `changes` and `mail_outbox` are measured; pruned as if retention had
passed (the firm's `prune_outbox` and the portal's `prune`, each with `now` one day past the
longest default retention); and measured again.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import data, engines, small_firm
from .engines import Engine
from .results import INFO, Figure, kib, not_measured, secs
from .service import Relay, Service, activate, drain, running

CHUNK = 1_000  # items per share_many call
SHARES_PER_ITEM = 20  # the firm has shares / SHARES_PER_ITEM items (at least MIN_ITEMS)
MIN_ITEMS = 50
CLIENTS, MATTERS_PER_CLIENT = 10, 2
FIRM_TABLES = ("outbox",)
PORTAL_TABLES = ("idempotency_keys", "changes", "mail_outbox")
MAIL_TIMEOUT = 600.0


def title(label: str, shares: int) -> str:
    return f"{label}: {shares:,} shares, shared and delivered"


@dataclass(frozen=True, slots=True)
class Size:
    bytes: int
    rows: int

    def __str__(self) -> str:
        shown = f"{self.bytes / (1 << 20):.1f} MB" if self.bytes >= 1 << 20 else kib(self.bytes)
        return f"{shown}, {self.rows:,} rows"


def run(engine: Engine, shares: int, seed: int, log: data.Log) -> list[Figure]:
    from portal_tui.repository import Repository

    folder = data.DATA_ROOT / "staff" / f"tables-{engine.label.lower()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    items = max(MIN_ITEMS, shares // SHARES_PER_ITEM)
    started = time.perf_counter()
    with (
        engines.database(engine, folder, "firm") as firm_url,
        engines.database(engine, folder, "portal") as portal_url,
    ):
        log(f"tables: {engine.label}, a firm of {items:,} items")
        firm = small_firm.build(
            firm_url, staff=1, clients=CLIENTS, matters_per_client=MATTERS_PER_CLIENT, items=items
        )
        service = Service(folder, folder / "portal.db", workers=1, database_url=portal_url)
        with running(service):
            repo = Repository.open(firm_url, firm.logins[0])
            system = Repository(repo.db, None)
            relay = Relay(system, service.base, service.token, firm=system.firm_identity())
            try:
                drain(system, relay, timeout=300)  # the matters and their invitations
                cookies = activate(service, firm.emails)
                drain(system, relay, timeout=300)  # the activations, through the feed
                built = time.perf_counter() - started
                log(
                    f"  built in {built:.0f} s ({len(cookies)} of {len(firm.emails)} clients "
                    f"active); {shares:,} share and unshare operations"
                )
                began = time.perf_counter()
                done, refused = _share_and_unshare(repo, relay, firm.items, shares)
                enqueued = time.perf_counter() - began
                log(f"  enqueued in {enqueued:.1f} s; delivering")
                drain(system, relay, timeout=3600, log=log)
                delivered = time.perf_counter() - began
                log(f"  delivered {delivered:.1f} s after the first share")
                mails = _mail_sent(service.url, MAIL_TIMEOUT)
                # One more pass, so the portal knows the firm has read every change.
                seen = relay.count()
                relay.wake()
                relay.wait_pass(seen, 60)
                unpruned = _sizes(engine, firm_url, FIRM_TABLES) | _sizes(
                    engine, portal_url, PORTAL_TABLES
                )
                pruned_firm, pruned_portal = _prune(repo, service)
                pruned = _sizes(engine, firm_url, FIRM_TABLES) | _sizes(
                    engine, portal_url, PORTAL_TABLES
                )
            finally:
                relay.stop()
                repo.close()
    took = time.perf_counter() - started
    log(f"  took {took:.0f} s in all")
    if refused or done != shares:
        return [not_measured(title(engine.label, shares), "-", f"{refused} refused of {done}")]
    label = engine.label
    out = [
        Figure(
            title(label, shares),
            "-",
            measured=f"enqueued {secs(enqueued)}, delivered {secs(delivered)}",
            verdict=INFO,
            note=f"share_many of {CHUNK:,} items at a time over {len(firm.items):,} items on "
            f"{len(firm.matters)} matters, the relay delivering meanwhile; {mails}; "
            f"the whole benchmark on {label} took {took:.0f} s",
        )
    ]
    notes = {
        "outbox": f"firm: {pruned_firm.emptied:,} rows emptied, {pruned_firm.deleted:,} "
        "deleted (keep_outbox_days 30, now + 31 days)",
        "idempotency_keys": f"portal: {pruned_portal.idempotency:,} deleted "
        "(keep_idempotency_days 7)",
        "changes": f"portal: {pruned_portal.feed:,} deleted (keep_feed_days 30)",
        "mail_outbox": f"portal: {pruned_portal.mail:,} deleted (keep_mail_days 30)",
    }
    how = (
        "pg_total_relation_size after VACUUM (freed space is kept by the table for reuse)"
        if not engine.is_sqlite
        else "dbstat: the table's and its indexes' pages"
    )
    for table in (*FIRM_TABLES, *PORTAL_TABLES):
        after, before = pruned[table], unpruned[table]
        out.append(
            Figure(
                f"{label}: {table} after {shares:,} shares",
                "-",
                measured=str(after),
                baseline=str(before),
                ratio=f"{after.bytes / before.bytes:.2f}x" if before.bytes else "-",
                verdict=INFO,
                note=f"measured pruned, baseline not pruned; {notes[table]}; {how}",
            )
        )
    return out


def _share_and_unshare(
    repo: Any, relay: Relay, items: list[tuple[Any, int]], shares: int
) -> tuple[int, int]:
    """Every item shared, then every item unshared, … until `shares` operations are done."""
    done = refused = 0
    share = True
    while done < shares:
        for start in range(0, len(items), CHUNK):
            if done >= shares:
                break
            chunk = items[start : start + CHUNK][: shares - done]
            changed, refusals = repo.share_many(chunk, share=share)
            done += changed
            refused += len(refusals)
            relay.wake()
        share = not share
    return done, refused


def _mail_sent(url: str, timeout: float) -> str:
    """Wait until the service has sent (or given up) every email it queued; what it queued."""
    from sqlalchemy import func, select

    from portal_tui.database import Database
    from portal_tui.service.models import MailMessage

    db = Database(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with db.read() as s:
                total = s.scalar(select(func.count()).select_from(MailMessage)) or 0
                waiting = (
                    s.scalar(
                        select(func.count())
                        .select_from(MailMessage)
                        .where(MailMessage.sent_at.is_(None), MailMessage.dropped_at.is_(None))
                    )
                    or 0
                )
            if not waiting:
                return f"{total:,} emails queued and sent"
            if time.monotonic() > deadline:
                return f"{total:,} emails queued, {waiting:,} still unsent after {timeout:.0f} s"
            time.sleep(0.5)
    finally:
        db.dispose()


def _prune(repo: Any, service: Service) -> tuple[Any, Any]:
    """Prune both sides as if retention had passed: `now` a day past the longest default."""
    from portal_tui.config import DEFAULT_KEEP_DAYS
    from portal_tui.database import Database
    from portal_tui.service.config import ServiceConfig
    from portal_tui.service.pruning import prune
    from portal_tui.sqltypes import utcnow

    keep = DEFAULT_KEEP_DAYS["keep_outbox_days"]
    firm = repo.prune_outbox(keep, now=utcnow() + timedelta(days=keep + 1))
    config = ServiceConfig(database_url=service.url, data_dir=service.root / "data")
    days = max(
        config.retention.feed_days, config.retention.idempotency_days, config.retention.mail_days
    )
    db = Database(service.url)
    try:
        portal = prune(db, config, now=utcnow() + timedelta(days=days + 1))
    finally:
        db.dispose()
    return firm, portal


def _sizes(engine: Engine, url: str, tables: tuple[str, ...]) -> dict[str, Size]:
    """Bytes (the table with its indexes) and rows of each table."""
    from sqlalchemy import create_engine, text

    from portal_tui.database import normalise_url

    db = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with db.connect() as conn:
            out: dict[str, Size] = {}
            for table in tables:
                if engine.is_sqlite:
                    size = conn.scalar(
                        text(
                            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
                            "(SELECT name FROM sqlite_master WHERE tbl_name = :t)"
                        ),
                        {"t": table},
                    )
                else:
                    # What autovacuum would do by itself, so that dead rows are not counted
                    # on one side and not the other.
                    conn.execute(text(f'VACUUM "{table}"'))
                    size = conn.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": table})
                rows = conn.scalar(text(f'SELECT count(*) FROM "{table}"'))
                out[table] = Size(int(size or 0), int(rows or 0))
            return out
    finally:
        db.dispose()

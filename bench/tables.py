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

CHUNK = 200  # items per share_many call: one batch request of the relay
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
    used: int | None = None  # SQLite: bytes of those pages holding data (dbstat's unused out)

    def __str__(self) -> str:
        return f"{_mb(self.bytes)}, {self.rows:,} rows"


def run(engine: Engine, shares: int, log: data.Log) -> list[Figure]:
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
                done, refused, enqueued = _share_and_unshare(
                    repo, system, relay, firm.items, shares, log
                )
                drain(system, relay, timeout=600)
                delivered = time.perf_counter() - began
                log(f"  all delivered {delivered:.1f} s after the first share")
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
                files = _files(engine, {"firm": firm_url, "portal": portal_url})
                # PostgreSQL keeps a table's freed space for reuse; VACUUM FULL says how much
                # the rows left really take.
                compact = (
                    {}
                    if engine.is_sqlite
                    else _sizes(engine, firm_url, FIRM_TABLES, vacuum="VACUUM FULL")
                    | _sizes(engine, portal_url, PORTAL_TABLES, vacuum="VACUUM FULL")
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
            measured=f"{secs(delivered)} ({secs(enqueued)} in share_many)",
            verdict=INFO,
            note=f"share_many of {CHUNK:,} items at a time over {len(firm.items):,} items on "
            f"{len(firm.matters)} matters, each call delivered before the next; {mails}; "
            f"the whole benchmark on {label} took {took:.0f} s{files}",
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
    for table in (*FIRM_TABLES, *PORTAL_TABLES):
        after, before = pruned[table], unpruned[table]
        how = (
            "dbstat: the table's and its indexes' pages, holding "
            f"{_mb(after.used or 0)} of data pruned, {_mb(before.used or 0)} not pruned"
            if engine.is_sqlite
            else "pg_total_relation_size after VACUUM (the table keeps freed space for "
            f"reuse; after VACUUM FULL {compact[table].bytes / 1024:.0f} KiB)"
        )
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


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else kib(n)


def _share_and_unshare(
    repo: Any, system: Any, relay: Relay, items: list[tuple[Any, int]], shares: int, log: data.Log
) -> tuple[int, int, float]:
    """Every item shared, CHUNK at a time, then every item unshared, … until `shares`
    operations are done; each call delivered (its batch's notice included) before the next,
    as the app's relay does after a bulk share, so each share batch is announced to the
    clients while its items are still shared. How many changed and were refused, and the
    seconds spent in share_many itself."""
    done = refused = 0
    in_calls = 0.0
    share = True
    reported = time.monotonic()
    while done < shares:
        for start in range(0, len(items), CHUNK):
            if done >= shares:
                break
            chunk = items[start : start + CHUNK][: shares - done]
            began = time.perf_counter()
            changed, refusals = repo.share_many(chunk, share=share)
            in_calls += time.perf_counter() - began
            done += changed
            refused += len(refusals)
            drain(system, relay, timeout=600)
            if time.monotonic() - reported > 15:
                log(f"  {done:,} of {shares:,} done")
                reported = time.monotonic()
        share = not share
    return done, refused, in_calls


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


def _sizes(
    engine: Engine, url: str, tables: tuple[str, ...], *, vacuum: str = "VACUUM"
) -> dict[str, Size]:
    """Bytes (the table with its indexes) and rows of each table. SQLite: the pages of its
    b-trees (the dbstat table), or without dbstat the whole file (page_count x page_size).
    PostgreSQL: pg_total_relation_size after `vacuum` (plain VACUUM: what autovacuum would do
    by itself, so that dead rows are counted on neither side)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from portal_tui.database import normalise_url

    db = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with db.connect() as conn:
            out: dict[str, Size] = {}
            for table in tables:
                if engine.is_sqlite:
                    used: int | None = None
                    try:
                        size, used = conn.execute(
                            text(
                                "SELECT coalesce(sum(pgsize), 0), coalesce(sum(pgsize - unused), 0)"
                                " FROM dbstat WHERE name IN "
                                "(SELECT name FROM sqlite_master WHERE tbl_name = :t)"
                            ),
                            {"t": table},
                        ).one()
                    except OperationalError:  # an SQLite built without dbstat
                        size = _sqlite_file_bytes(conn)
                else:
                    used = None
                    conn.execute(text(f'{vacuum} "{table}"'))
                    size = conn.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": table})
                rows = conn.scalar(text(f'SELECT count(*) FROM "{table}"'))
                out[table] = Size(int(size or 0), int(rows or 0), used)
            return out
    finally:
        db.dispose()


def _sqlite_file_bytes(conn: Any) -> int:
    from sqlalchemy import text

    pages = int(conn.scalar(text("PRAGMA page_count")) or 0)
    return pages * int(conn.scalar(text("PRAGMA page_size")) or 0)


def _files(engine: Engine, urls: dict[str, str]) -> str:
    """SQLite: each database's file, and how much of it is free pages (pruning frees pages for
    reuse; the file only shrinks with VACUUM)."""
    if not engine.is_sqlite:
        return ""
    from sqlalchemy import create_engine, text

    from portal_tui.database import normalise_url

    parts = []
    for name, url in urls.items():
        db = create_engine(normalise_url(url))
        try:
            with db.connect() as conn:
                total = _sqlite_file_bytes(conn)
                free = int(conn.scalar(text("PRAGMA freelist_count")) or 0) * int(
                    conn.scalar(text("PRAGMA page_size")) or 0
                )
        finally:
            db.dispose()
        parts.append(f"{name} {total / (1 << 20):.1f} MB ({free / (1 << 20):.1f} MB free)")
    return "; files after pruning: " + ", ".join(parts)

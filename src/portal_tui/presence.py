"""Which portal-tui programs have a firm open: the staff app and `portal-tui sync` say so while
they run (`held`), and `portal-tui restore` refuses to replace a database under them and keeps
them out while it works (`alone`).

SQLite: a shared advisory lock (flock) on a file beside the database; PostgreSQL: a shared
advisory lock held by a connection of its own for as long as the program runs. The restore
takes the same lock exclusively, without waiting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, text

from portal_tui.database import Database, describe_location, sqlite_file
from portal_tui.migrating import DatabaseUnavailableError
from portal_tui.private import private_folder

try:
    import fcntl
except ImportError:  # Windows: no flock; a restore there trusts the user to have closed the app
    fcntl = None  # type: ignore[assignment]

# Spells "portaltp": the key every portal-tui process uses for "this firm is open".
_PG_KEY = 0x706F7274616C7470
BEING_RESTORED = "it is being restored right now (portal-tui restore); try again when that is done"
IN_USE = (
    "portal-tui is using it (the staff app, or a sync), so it cannot be restored now; close "
    "every app and stop every `portal-tui sync` of this firm, then try again"
)


def _lock_file(path: Path) -> int:
    return os.open(path.with_name(path.name + ".inuse"), os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def held(db: Database) -> Iterator[None]:
    """While the block runs, this program has the firm open; refused (one line) while the
    firm is being restored."""
    with _locked(db, exclusive=False, refusal=BEING_RESTORED):
        yield


@contextmanager
def alone(db: Database) -> Iterator[None]:
    """While the block runs, no other portal-tui program has the firm open, nor can open it;
    refused at once (one line) when one has."""
    with _locked(db, exclusive=True, refusal=IN_USE):
        yield


@contextmanager
def _locked(db: Database, *, exclusive: bool, refusal: str) -> Iterator[None]:
    place = describe_location(db.url)
    if db.is_memory:
        yield
        return
    if not db.is_sqlite:
        with _pg_locked(db, exclusive=exclusive, refusal=refusal, place=place):
            yield
        return
    path = sqlite_file(db.url)
    if path is None or fcntl is None:
        yield
        return
    private_folder(path.parent)
    fd = _lock_file(path)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseUnavailableError(place, refusal, label=db.label) from None
        yield
    finally:
        os.close(fd)


@contextmanager
def _pg_locked(db: Database, *, exclusive: bool, refusal: str, place: str) -> Iterator[None]:
    # A session lock, on a connection kept out of the pool for as long as the program runs.
    conn: Connection = db.writer.connect()
    try:
        take = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        got = conn.execute(text(f"SELECT {take}(:key)"), {"key": _PG_KEY}).scalar()
        conn.commit()
        if not got:
            raise DatabaseUnavailableError(place, refusal, label=db.label)
        yield
    finally:
        # Not back to the pool: the session must end, and its lock with it.
        conn.invalidate()
        conn.close()

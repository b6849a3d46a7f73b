"""Bring the firm database to the schema this build expects, once, before anything else runs.

`ensure_current(db)` is called on every start. Nearly always the database is already current,
so the first step is one plain SQL read of `alembic_version` compared with `HEAD_REVISION`;
Alembic (slow to import) and filelock are imported only when that check fails.

The slow path serialises concurrent starters (a file lock next to an SQLite file, a PostgreSQL
advisory lock otherwise), re-reads the revision under the lock, refuses a database written by a
newer build, backs up an SQLite file that already holds data, and runs the whole upgrade in one
transaction on the writer connection, so a failed upgrade leaves the database as it was.

New revisions: build a scratch database at head, then autogenerate against it::

    db = Database("sqlite:///scratch.db"); ensure_current(db)
    with db.writer.begin() as conn:
        command.revision(alembic_config(conn), "add x", autogenerate=True, rev_id="0002_add_x")

Review the file by hand, then move HEAD_REVISION to the new id (a test holds them equal).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from portal_tui.database import BUSY_TIMEOUT_MS, Database

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "LOCK_TIMEOUT_S",
    "MIGRATIONS_DIR",
    "DatabaseLockedError",
    "DatabaseMigrationError",
    "DatabaseNewerError",
    "DatabaseUnavailableError",
    "StoreError",
    "alembic_config",
    "database_revision",
    "describe_location",
    "ensure_current",
]

log = logging.getLogger(__name__)

# Must name the newest file in migrations/versions; tests/store checks the two agree.
HEAD_REVISION: str = "0001_initial"

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
LOCK_TIMEOUT_S = 60.0

# Every portal-tui process must use the same key; the bytes spell "portaltu" so that another
# application sharing the PostgreSQL server is unlikely to pick it.
_PG_LOCK_KEY = 0x706F7274616C7475


class StoreError(Exception):
    """The firm database cannot be used; `str()` is a one-line message fit for the user."""


class DatabaseNewerError(StoreError):
    def __init__(self, place: str, revision: str) -> None:
        self.place = place
        self.revision = revision
        super().__init__(
            f"The firm database at {place} was written by a newer version of portal-tui "
            f"(schema revision {revision}); upgrade portal-tui to open it."
        )


class DatabaseLockedError(StoreError):
    def __init__(self, place: str, waited_s: float) -> None:
        self.place = place
        self.waited_s = waited_s
        super().__init__(
            f"The firm database at {place} is locked by another program "
            f"(still busy after {waited_s:g} s); close other copies of portal-tui and try again."
        )


class DatabaseUnavailableError(StoreError):
    def __init__(self, place: str, reason: str) -> None:
        self.place = place
        self.reason = reason
        super().__init__(f"Cannot open the firm database at {place}: {reason}.")


class DatabaseMigrationError(StoreError):
    """The upgrade itself failed; its transaction was rolled back."""

    def __init__(self, place: str, reason: str, backup: Path | None) -> None:
        self.place = place
        self.reason = reason
        self.backup = backup
        kept = f" A copy from before the upgrade is at {backup}." if backup else ""
        super().__init__(
            f"Could not upgrade the firm database at {place} to schema revision "
            f"{HEAD_REVISION}: {reason}. The database was left as it was.{kept}"
        )


def describe_location(url: URL) -> str:
    """Where the database is, for messages: a file path, or a URL without password or query."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        return str(path) if path is not None else ":memory:"
    # The query may carry secrets too (password=, sslkey=), so it goes with the password.
    # (URL.set treats None as "keep", so the password has to be left out by building anew.)
    bare = URL.create(
        url.get_backend_name(),
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
    )
    return bare.render_as_string(hide_password=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for the packaged scripts, with no alembic.ini involved."""
    from alembic.config import Config

    cfg = Config()
    # ConfigParser interpolates '%', which a user's install path may well contain.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(rev)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def database_revision(db: Database) -> str | None:
    """The revision the database is at; None at base: never migrated, or stamped base."""
    place = describe_location(db.url)
    try:
        with db.reader.connect() as conn:
            revisions = _read_revisions(conn)
    except DBAPIError as exc:
        raise _access_error(exc, db, place, LOCK_TIMEOUT_S) from exc
    return revisions[0] if revisions else None


def ensure_current(db: Database, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Upgrade the database to HEAD_REVISION if it is behind; cheap when it is not.

    Raises a StoreError subclass, never a driver exception, for anything the user must act on.
    """
    place = describe_location(db.url)
    _make_parent_folder(db.url, place)
    try:
        with db.reader.connect() as conn:
            if _read_revisions(conn) == (HEAD_REVISION,):
                return
        _upgrade(db, place, lock_timeout)
    except DBAPIError as exc:
        raise _access_error(exc, db, place, lock_timeout) from exc


def _upgrade(db: Database, place: str, lock_timeout: float) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = alembic_config()
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    path = _sqlite_file(db.url) if db.is_sqlite else None
    with (
        _file_lock(path, place, lock_timeout),
        db.writer.connect() as conn,
        _sqlite_foreign_keys_off(conn) if db.is_sqlite else nullcontext(),
        conn.begin(),
    ):
        if not db.is_sqlite:
            _pg_lock(conn, lock_timeout)
        # Re-read under the lock: another process may have migrated while we waited.
        revisions = _read_revisions(conn) or ()
        unknown = [rev for rev in revisions if rev not in known]
        if unknown:
            raise DatabaseNewerError(place, unknown[0])
        if revisions == (HEAD_REVISION,):
            return
        old = revisions[0] if revisions else None
        backup = None
        if path is not None and _has_tables(conn):
            backup = _backup_sqlite(path, old, place)
        log.info(
            "Upgrading the firm database at %s from %s to %s", place, old or "base", HEAD_REVISION
        )
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
            broken = _foreign_key_violations(conn) if db.is_sqlite else []
        except DBAPIError as exc:
            if _is_lock_error(exc):
                raise
            raise DatabaseMigrationError(place, _reason(exc, db.url), backup) from exc
        if broken:
            reason = f"rows in {', '.join(broken)} refer to rows that do not exist"
            raise DatabaseMigrationError(place, reason, backup)


def _read_revisions(conn: Connection) -> tuple[str, ...] | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return tuple(sorted(str(row) for row in rows))


def _has_tables(conn: Connection) -> bool:
    """Whether an SQLite file holds anything worth backing up before DDL touches it."""
    count = conn.execute(
        text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != :version"
        ),
        {"version": VERSION_TABLE},
    ).scalar_one()
    return bool(count)


def _backup_sqlite(path: Path, old: str | None, place: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.backup-{old or 'base'}-{stamp}")
    partial = target.with_name(target.name + ".partial")
    # The online backup API copies a consistent snapshot even while our own write
    # transaction (which has changed nothing yet) holds the RESERVED lock.
    try:
        source = sqlite3.connect(path, timeout=30)
        try:
            dest = sqlite3.connect(partial)
            try:
                source.backup(dest)
            finally:
                dest.close()
        finally:
            source.close()
        # A half-written copy must never look like a usable backup.
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseUnavailableError(place, f"could not back it up to {target} ({exc})") from exc
    log.info("Backed up the firm database at %s to %s", place, target)
    return target


def _foreign_key_violations(conn: Connection) -> list[str]:
    """Tables with dangling references: enforcement is off during the upgrade, so check once."""
    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    return sorted({str(row[0]) for row in rows})


@contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite batch migrations drop and rebuild tables; with foreign keys enforced, dropping a
    parent table would cascade-delete or refuse. The pragma is ignored inside a transaction,
    so it goes on the raw connection before ours begins, and back on before it is pooled.
    """
    raw: Any = conn.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        try:
            raw.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error:
            # A connection without enforcement must never serve the app.
            conn.invalidate()


@contextmanager
def _file_lock(path: Path | None, place: str, timeout: float) -> Iterator[None]:
    if path is None:
        yield
        return
    from filelock import FileLock, Timeout

    lock = FileLock(path.with_name(path.name + ".migrate.lock"), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise DatabaseLockedError(place, timeout) from exc
    except OSError as exc:
        raise DatabaseUnavailableError(place, f"cannot create its lock file ({exc})") from exc
    try:
        yield
    finally:
        lock.release()


def _pg_lock(conn: Connection, timeout: float) -> None:
    # A transaction-level lock is released by COMMIT or ROLLBACK, so no path (error, dropped
    # connection) can leave it held on a pooled connection. lock_timeout bounds the wait for
    # this lock and for the table locks the DDL then needs.
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(timeout * 1000))}")
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _sqlite_file(url: URL) -> Path | None:
    """The file behind an SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        parsed = urlparse(database)
        if "mode=memory" in parsed.query or not parsed.path:
            return None
        database = parsed.path
    return Path(os.path.abspath(database))


def _make_parent_folder(url: URL, place: str) -> None:
    if url.get_backend_name() != "sqlite":
        return
    path = _sqlite_file(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseUnavailableError(
            place, f"cannot create the folder {path.parent} ({reason})"
        ) from exc


def _is_lock_error(exc: DBAPIError) -> bool:
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or (
            "database is locked" in str(orig)
        )
    # 55P03 lock_not_available: our lock_timeout ran out.
    return getattr(orig, "sqlstate", None) == "55P03"


def _reason(exc: DBAPIError, url: URL) -> str:
    """The driver's first line: the useful part, without SQL, traceback or password."""
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc.orig).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason.rstrip(".")


def _access_error(exc: DBAPIError, db: Database, place: str, timeout: float) -> StoreError:
    if _is_lock_error(exc):
        # SQLite gives up after its own busy timeout; PostgreSQL after our lock_timeout.
        waited = BUSY_TIMEOUT_MS / 1000 if db.is_sqlite else timeout
        return DatabaseLockedError(place, waited)
    return DatabaseUnavailableError(place, _reason(exc, db.url))

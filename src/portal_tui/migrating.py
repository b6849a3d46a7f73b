"""Bring a database to the schema this build expects, once, before anything else uses it.

The machinery is shared by the firm database (`portal_tui.store.migrate`) and the portal
service's database (`portal_tui.service.schema`); each describes its scripts with a `Schema`.
It lives outside both packages because the service must never import the firm store.

`ensure_current(db, schema)` is called on every start. Nearly always the database is already
current, so the first step is one plain SQL read of the version table compared with the
schema's head revision; Alembic (slow to import) and filelock are imported only when that check
fails.

The slow path serialises concurrent starters (a file lock next to an SQLite file, a PostgreSQL
advisory lock otherwise), re-reads the revision under the lock, refuses a database written by a
newer build, backs up an SQLite file that already holds data, and runs the whole upgrade in one
transaction on the writer connection, so a failed upgrade leaves the database as it was.

Every error the user must act on is a `StoreError` whose `str()` is one line naming the schema's
label ("firm database", "portal database") and where the database is.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from portal_tui.database import (
    BUSY_TIMEOUT_MS,
    Database,
    describe_location,
    driver_reason,
    is_lock_error,
    sqlite_file,
)
from portal_tui.private import private_folder

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "LOCK_TIMEOUT_S",
    "DatabaseLockedError",
    "DatabaseMigrationError",
    "DatabaseNewerError",
    "DatabaseUnavailableError",
    "Schema",
    "StoreError",
    "alembic_config",
    "database_revision",
    "describe_location",
    "ensure_current",
]

LOCK_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Schema:
    """One database's migrations and how to find out where a database stands.

    Two schemas may live in one PostgreSQL database, so each needs its own `version_table`
    and its own `pg_lock_key` (or one would wait on, or read, the other's bookkeeping).
    """

    label: str  # what the user calls it, in every message: "firm database"
    migrations_dir: Path  # holds env.py, script.py.mako and versions/
    head_revision: str  # the newest revision; a test per schema holds it equal to the scripts'
    version_table: str  # must match the version_table its env.py gives Alembic
    pg_lock_key: int  # a signed 64-bit key for pg_advisory_xact_lock
    logger: str = __name__  # log records carry the owner's name, so its log settings apply
    # The tables its models make (called only on the slow path: it imports them): an SQLite
    # file holding none of them, nor the version table, is another program's.
    tables: Callable[[], frozenset[str]] = frozenset


# --- errors -----------------------------------------------------------------------------------
# The label is keyword-only with a neutral default so that `Error(place, ...)`, as the firm
# store's callers have always built them, keeps working.


class StoreError(Exception):
    """A database cannot be used; `str()` is a one-line message fit for the user."""


class DatabaseNewerError(StoreError):
    def __init__(self, place: str, revision: str, *, label: str = "database") -> None:
        self.place = place
        self.revision = revision
        self.label = label
        super().__init__(
            f"The {label} at {place} was written by a newer version of portal-tui "
            f"(schema revision {revision}); upgrade portal-tui to open it."
        )


class DatabaseLockedError(StoreError):
    def __init__(self, place: str, waited_s: float, *, label: str = "database") -> None:
        self.place = place
        self.waited_s = waited_s
        self.label = label
        super().__init__(
            f"The {label} at {place} is locked by another program "
            f"(still busy after {waited_s:g} s); close other copies of portal-tui and try again."
        )


class DatabaseUnavailableError(StoreError):
    def __init__(self, place: str, reason: str, *, label: str = "database") -> None:
        self.place = place
        self.reason = reason
        self.label = label
        super().__init__(f"Cannot open the {label} at {place}: {reason}.")


class DatabaseMigrationError(StoreError):
    """The upgrade itself failed; its transaction was rolled back."""

    def __init__(
        self,
        place: str,
        reason: str,
        backup: Path | None,
        *,
        label: str = "database",
        target: str | None = None,
    ) -> None:
        self.place = place
        self.reason = reason
        self.backup = backup
        self.label = label
        self.target = target
        to = f" to schema revision {target}" if target else ""
        kept = f" A copy from before the upgrade is at {backup}." if backup else ""
        super().__init__(
            f"Could not upgrade the {label} at {place}{to}: {reason}. "
            f"The database was left as it was.{kept}"
        )


# --- public functions -------------------------------------------------------------------------


def alembic_config(schema: Schema, connection: Connection | None = None) -> Config:
    """An Alembic Config for the schema's packaged scripts, with no alembic.ini involved.

    With a connection, env.py runs on it (inside the caller's transaction) instead of opening
    its own; that is how both the app and developer tooling are meant to call Alembic.
    """
    from alembic.config import Config

    cfg = Config()
    # ConfigParser interpolates '%', which a user's install path may well contain.
    cfg.set_main_option("script_location", str(schema.migrations_dir).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(rev)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def database_revision(db: Database, schema: Schema) -> str | None:
    """The revision the database is at; None at base: never migrated, or stamped base."""
    place = describe_location(db.url)
    try:
        with db.reader.connect() as conn:
            revisions = _read_revisions(conn, schema)
    except DBAPIError as exc:
        raise _access_error(exc, db, schema, place, LOCK_TIMEOUT_S) from exc
    return revisions[0] if revisions else None


def ensure_current(db: Database, schema: Schema, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Upgrade the database to the schema's head revision if it is behind; cheap when it is not.

    Raises a StoreError subclass, never a driver exception, for anything the user must act on.
    """
    place = describe_location(db.url)
    _make_parent_folder(db.url, schema, place)
    try:
        path = sqlite_file(db.url) if db.is_sqlite else None
        # Connecting creates a file that is not there (and SQLite would take an empty one
        # for a new database): a new file is made under the migration lock only, so one
        # being made by another starter is never mistaken for one left empty.
        if path is not None and _sqlite_file_state(path, schema, place) != "database":
            _upgrade(db, schema, place, lock_timeout)
            return
        with db.reader.connect() as conn:
            if _read_revisions(conn, schema) == (schema.head_revision,):
                return
        _upgrade(db, schema, place, lock_timeout)
    except DBAPIError as exc:
        raise _access_error(exc, db, schema, place, lock_timeout) from exc


# --- the slow path ----------------------------------------------------------------------------


def _upgrade(db: Database, schema: Schema, place: str, lock_timeout: float) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = alembic_config(schema)
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    path = sqlite_file(db.url) if db.is_sqlite else None
    label = schema.label
    with (
        _file_lock(path, schema, place, lock_timeout),
        _sqlite_file_checked(path, schema, place),
        db.writer.connect() as conn,
        _sqlite_foreign_keys_off(conn) if db.is_sqlite else nullcontext(),
        conn.begin(),
    ):
        if not db.is_sqlite:
            _pg_lock(conn, schema, lock_timeout)
        # Re-read under the lock: another process may have migrated while we waited.
        revisions = _read_revisions(conn, schema) or ()
        unknown = [rev for rev in revisions if rev not in known]
        if unknown:
            raise DatabaseNewerError(place, unknown[0], label=label)
        if revisions == (schema.head_revision,):
            return
        old = revisions[0] if revisions else None
        backup = None
        if path is not None and _has_tables(conn, schema):
            backup = _backup_sqlite(path, old, schema, place)
        logging.getLogger(schema.logger).info(
            "Upgrading the %s at %s from %s to %s",
            label,
            place,
            old or "base",
            schema.head_revision,
        )
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
            broken = _foreign_key_violations(conn) if db.is_sqlite else []
        except DBAPIError as exc:
            if is_lock_error(exc):
                raise
            raise DatabaseMigrationError(
                place, driver_reason(exc, db.url), backup, label=label, target=schema.head_revision
            ) from exc
        if broken:
            reason = f"rows in {', '.join(broken)} refer to rows that do not exist"
            raise DatabaseMigrationError(
                place, reason, backup, label=label, target=schema.head_revision
            )


def _read_revisions(conn: Connection, schema: Schema) -> tuple[str, ...] | None:
    if not inspect(conn).has_table(schema.version_table):
        return None
    # The table name comes from our own Schema, never from input, so formatting it is safe.
    rows = conn.execute(text(f"SELECT version_num FROM {schema.version_table}")).scalars().all()
    return tuple(sorted(str(row) for row in rows))


def _has_tables(conn: Connection, schema: Schema) -> bool:
    """Whether an SQLite file holds anything worth backing up before DDL touches it."""
    count = conn.execute(
        text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != :version"
        ),
        {"version": schema.version_table},
    ).scalar_one()
    return bool(count)


def _backup_sqlite(path: Path, old: str | None, schema: Schema, place: str) -> Path:
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
        raise DatabaseUnavailableError(
            place, f"could not back it up to {target} ({exc})", label=schema.label
        ) from exc
    logging.getLogger(schema.logger).info(
        "Backed up the %s at %s to %s", schema.label, place, target
    )
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
def _file_lock(path: Path | None, schema: Schema, place: str, timeout: float) -> Iterator[None]:
    if path is None:
        yield
        return
    from filelock import FileLock, Timeout

    lock = FileLock(path.with_name(path.name + ".migrate.lock"), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise DatabaseLockedError(place, timeout, label=schema.label) from exc
    except OSError as exc:
        raise DatabaseUnavailableError(
            place, f"cannot create its lock file ({exc})", label=schema.label
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _pg_lock(conn: Connection, schema: Schema, timeout: float) -> None:
    # A transaction-level lock is released by COMMIT or ROLLBACK, so no path (error, dropped
    # connection) can leave it held on a pooled connection. lock_timeout bounds the wait for
    # this lock and for the table locks the DDL then needs.
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(timeout * 1000))}")
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": schema.pg_lock_key})


# The first 16 bytes of every SQLite database file.
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _sqlite_file_state(path: Path, schema: Schema, place: str) -> str:
    """ "missing", "empty" or "database" (one of SQLite's, and this schema's or new); any other
    file at the path is refused, untouched: only a path where nothing exists gets a new
    database, and a database of another program is not one to add tables to."""
    label = schema.label
    if not os.path.lexists(path):
        return "missing"
    try:
        with open(path, "rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except IsADirectoryError:
        raise DatabaseUnavailableError(place, "it is a folder, not a file", label=label) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseUnavailableError(place, f"cannot read it ({reason})", label=label) from exc
    if not head:
        return "empty"
    if head != _SQLITE_MAGIC:
        raise DatabaseUnavailableError(place, "file is not a database", label=label)
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            names = {
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            }
        finally:
            conn.close()
    except sqlite3.Error:
        return "database"  # locked, or damaged: the usual path meets it and says so itself
    if names and schema.version_table not in names and not names & schema.tables():
        raise DatabaseUnavailableError(
            place,
            "it is an SQLite database of another program (or another part of portal-tui), "
            f"not a {label}; point to the right file",
            label=label,
        )
    return "database"


@contextmanager
def _sqlite_file_checked(path: Path | None, schema: Schema, place: str) -> Iterator[None]:
    """Under the migration lock, before connecting: the file is missing (ours to create), or
    a database. An empty one now is no starter's half-made file (they make it under this
    lock): it is refused, and left as it is."""
    if path is not None and _sqlite_file_state(path, schema, place) == "empty":
        raise DatabaseUnavailableError(
            place,
            f"the file is empty, not a {schema.label}; move it away to start a new one there, "
            "or point to the right file",
            label=schema.label,
        )
    yield


def _make_parent_folder(url: URL, schema: Schema, place: str) -> None:
    if url.get_backend_name() != "sqlite":
        return
    path = sqlite_file(url)
    if path is None:
        return
    try:
        private_folder(path.parent)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DatabaseUnavailableError(
            place, f"cannot create the folder {path.parent} ({reason})", label=schema.label
        ) from exc


def _access_error(
    exc: DBAPIError, db: Database, schema: Schema, place: str, timeout: float
) -> StoreError:
    if is_lock_error(exc):
        # SQLite gives up after its own busy timeout; PostgreSQL after our lock_timeout.
        waited = BUSY_TIMEOUT_MS / 1000 if db.is_sqlite else timeout
        return DatabaseLockedError(place, waited, label=schema.label)
    return DatabaseUnavailableError(place, driver_reason(exc, db.url), label=schema.label)

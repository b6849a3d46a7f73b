"""Engines and sessions for SQLite and PostgreSQL, tuned per backend; used by the firm store and
the portal service alike.

SQLite: WAL so readers never wait for the writer, foreign keys on, a busy timeout, and every
writing transaction begun IMMEDIATE so two writers queue at BEGIN instead of failing with
"database is locked" half-way through. Reads use a second engine that begins deferred.

PostgreSQL: a pool that checks each connection before use (so a server that restarted is
reconnected to, not failed on), sized for an app's worker threads.

What the outside world does to a transaction (the server gone or restarting, the file locked
or the disk full, a deadlock or a lost race with another staff member) ends in the domain's
`Unavailable` or `Conflict`, one sentence the user can act on, with the transaction rolled
back; a unique-key clash stays the driver's IntegrityError, for the callers that expect one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from portal_tui.domain import texts
from portal_tui.domain.decision import Conflict, Unavailable
from portal_tui.private import private_file

BUSY_TIMEOUT_MS = 30_000
# How long an opening or a write may wait on a lock before the user is told it is waiting,
# and for what.
LOCK_NOTICE_S = 1.0
CONNECT_TIMEOUT_S = 10
# Connections an app keeps open to PostgreSQL: the screen's list readers, the delivery
# worker and its lease heartbeat, with room for a burst; a checkout waits this long at most.
POOL_SIZE = 5
POOL_OVERFLOW = 10
POOL_TIMEOUT_S = 10
# PostgreSQL's SQLSTATEs for "another transaction crossed this one": deadlock, serialization
# failure, a lock not had in time. Nothing was written; the same command may be tried again.
_CROSSED = frozenset({"40P01", "40001", "55P03"})
_DISK_FULL = frozenset({"53100"})


def normalise_url(url: str | URL) -> URL:
    """Plain postgresql:// means psycopg 3 here (psycopg2 is not a dependency)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def _ensure_wal(cursor: Any) -> None:
    """Switch a file to WAL once (it stays so). The switch needs the file to itself, and SQLite
    answers "locked" at once, without waiting, while another process holds it — as when several
    start on a fresh file together — so it is retried for as long as a busy wait would last."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() in ("wal", "memory"):
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_engine(
    url: URL, *, immediate: bool, echo: bool, label: str = "firm database"
) -> Engine:
    extra: dict[str, Any] = {}
    if _is_memory(url):
        # One connection for all: otherwise each pooled connection is its own empty database.
        extra["poolclass"] = StaticPool
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **extra,
    )

    path = sqlite_file(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if path is not None:
            # Before WAL is switched on: SQLite gives -wal and -shm the file's own mode.
            for private in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                private_file(private)
        # Take transaction control away from pysqlite, so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _ensure_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if not immediate or path is None:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @event.listens_for(engine, "begin")
    def _on_begin_writing(conn: Any) -> None:
        # A write waits at BEGIN for another program's lock. "A locked database says at once
        # that it is waiting": so the first second's wait is had on its own, and only if it
        # runs out are the listeners told before the full busy timeout is waited.
        raw = conn.connection.driver_connection
        raw.execute(f"PRAGMA busy_timeout={int(LOCK_NOTICE_S * 1000)}")
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                _tell_lock_wait(waiting_notice(url, label))
        finally:
            raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Again through SQLAlchemy, so that what ends it is its error, and ours in turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or (
        "database is locked" in str(exc)
    )


# Who hears that a write waits on another program's lock: the command line prints it, the
# app shows it; a process may have none.
_lock_wait_listeners: list[Callable[[str], None]] = []


def listen_for_lock_waits(listener: Callable[[str], None]) -> Callable[[], None]:
    """From now on `listener` hears (on the waiting thread) each notice that a write waits on
    a lock another program holds; returns what stops it."""
    _lock_wait_listeners.append(listener)
    return lambda: _lock_wait_listeners.remove(listener)


@contextmanager
def told_of_lock_waits(listener: Callable[[str], None]) -> Iterator[None]:
    """`listen_for_lock_waits` while the block runs."""
    stop = listen_for_lock_waits(listener)
    try:
        yield
    finally:
        stop()


def _tell_lock_wait(notice: str) -> None:
    for listener in list(_lock_wait_listeners):
        listener(notice)


def sqlite_file(url: URL) -> Path | None:
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


def describe_location(url: URL) -> str:
    """Where the database is, for messages: a file path, or a URL without password or query."""
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
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


def driver_reason(exc: DBAPIError, url: URL) -> str:
    """The driver's first line: the useful part, without SQL, traceback or password."""
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc.orig).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason.rstrip(".")


def is_lock_error(exc: DBAPIError) -> bool:
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return _is_busy(orig)
    # 55P03 lock_not_available: our lock_timeout ran out.
    return getattr(orig, "sqlstate", None) == "55P03"


def _pg_options(url: URL) -> str:
    """The server options of a PostgreSQL URL (a search_path, say), with a lock timeout: a row
    another staff member holds is waited for as long as SQLite waits for its file, then refused
    (55P03) — never a wait without end. An options= of the URL's own comes first and wins."""
    own = url.query.get("options", "")
    given = " ".join(own) if isinstance(own, tuple) else own
    return f"-c lock_timeout={BUSY_TIMEOUT_MS} {given}".strip()


class Database:
    """A database: `read()` and `write()` sessions, each one transaction. `label` is what the
    user calls it in messages ("firm database", "portal database")."""

    def __init__(self, url: str | URL, *, echo: bool = False, label: str = "firm database") -> None:
        self.url = normalise_url(url)
        self.label = label
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_memory = self.is_sqlite and _is_memory(self.url)
        if self.is_memory:
            # An in-memory database (tests, throwaway runs) lives in one connection, so reads
            # and writes share the one engine; its transactions still begin IMMEDIATE.
            self.writer = _sqlite_engine(self.url, immediate=True, echo=echo)
            self.reader = self.writer
        elif self.is_sqlite:
            self.writer = _sqlite_engine(self.url, immediate=True, echo=echo, label=label)
            self.reader = _sqlite_engine(self.url, immediate=False, echo=echo)
        else:
            self.writer = create_engine(
                self.url,
                echo=echo,
                pool_pre_ping=True,
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                pool_timeout=POOL_TIMEOUT_S,
                connect_args={
                    # A host that drops packets should fail in seconds, not at the OS's TCP
                    # timeout.
                    "connect_timeout": CONNECT_TIMEOUT_S,
                    "options": _pg_options(self.url),
                },
            )
            self.reader = self.writer
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        self._outer = threading.local()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One writing transaction: committed when the block ends, rolled back on error."""
        outer: Session | None = getattr(self._outer, "session", None)
        if outer is not None:
            with self.outside_errors(), outer.begin_nested():
                yield outer
            return
        with self.outside_errors(), self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        outer: Session | None = getattr(self._outer, "session", None)
        if outer is not None:
            with self.outside_errors():
                yield outer
            return
        with self.outside_errors(), self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """Every write() and read() of this thread inside the block is part of one
        transaction, committed at its end or, on any error (a full disk), rolled back whole:
        for work that must be all or nothing, such as seeding a firm."""
        assert getattr(self._outer, "session", None) is None, "one_transaction does not nest"
        with self.outside_errors(), self._write_sessions() as session, session.begin():
            self._outer.session = session
            try:
                yield
            finally:
                self._outer.session = None

    @contextmanager
    def outside_errors(self) -> Iterator[None]:
        """The driver's errors that come from outside the program, as the domain's."""
        try:
            yield
        except IntegrityError:
            raise
        except StaleDataError as exc:
            # A versioned UPDATE found the row changed since it was read (SQLAlchemy's
            # version counter): another transaction won.
            raise Conflict(texts.CROSSED_CHANGE) from exc
        except PoolTimeout as exc:
            raise self._unavailable(texts.DATABASE_LOCKED, texts.TRY_IN_A_MOMENT) from exc
        except DBAPIError as exc:
            translated = self.outside_error(_first_error(exc))
            if translated is None:
                raise
            raise translated from exc

    @property
    def place(self) -> str:
        return describe_location(self.url)

    def outside_error(self, exc: DBAPIError) -> Unavailable | Conflict | None:
        """What a driver error means for the user, or None for a bug of ours (bad SQL ...)."""
        orig = exc.orig
        reason = driver_reason(exc, self.url)
        if isinstance(orig, sqlite3.Error):
            name = getattr(orig, "sqlite_errorname", "")
            if is_lock_error(exc):
                return self._unavailable(texts.DATABASE_LOCKED, texts.TRY_IN_A_MOMENT)
            if name == "SQLITE_FULL" or "disk is full" in str(orig):
                return self._unavailable(texts.DATABASE_FULL, texts.FREE_SPACE)
            if isinstance(orig, sqlite3.OperationalError):
                return self._unavailable(texts.DATABASE_UNREACHABLE, texts.TRY_WHEN_BACK, reason)
            return None
        sqlstate = str(getattr(orig, "sqlstate", "") or "")
        if sqlstate in _CROSSED:
            return Conflict(texts.CROSSED_CHANGE)
        if sqlstate in _DISK_FULL:
            return self._unavailable(texts.DATABASE_FULL, texts.FREE_SPACE)
        # Class 08 (connection), 57P0x (the server shutting down or starting), or a connection
        # the pool found broken: the server went away.
        if (
            exc.connection_invalidated
            or sqlstate.startswith(("08", "57P"))
            or (not sqlstate and type(orig).__name__ in ("OperationalError", "InterfaceError"))
        ):
            return self._unavailable(texts.DATABASE_UNREACHABLE, texts.TRY_WHEN_BACK, reason)
        return None

    def _unavailable(self, situation: str, advice: str, reason: str = "") -> Unavailable:
        said = situation.format(label=self.label, place=self.place, reason=reason)
        message = texts.NOTHING_CHANGED.format(situation=said, advice=advice)
        return Unavailable(message[0].upper() + message[1:], said)

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def _first_error(exc: DBAPIError) -> DBAPIError:
    """The error that started it: SQLite rolls a whole transaction back by itself on some
    errors (a full disk), and the savepoint's own rollback then fails ("no such savepoint"),
    hiding the reason the user must hear."""
    context = exc.__context__
    if "no such savepoint" in str(exc.orig) and isinstance(context, DBAPIError):
        return context
    return exc


def locked_by_another(url: str) -> bool:
    """Whether another program holds the SQLite file at `url` so that a write must wait (a
    probe that waits for nothing). False for other databases, and when it cannot tell."""
    try:
        path = sqlite_file(make_url(url))
    except Exception:
        return False
    if path is None or not path.exists():
        return False
    try:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc) or "busy" in str(exc)
    finally:
        probe.close()


def waiting_notice(url: str | URL, label: str = "firm database") -> str:
    """What to say while an opening or a write waits on a lock held by another program."""
    parsed = make_url(url) if isinstance(url, str) else url
    return texts.DATABASE_WAITING.format(
        label=label, place=describe_location(parsed), seconds=BUSY_TIMEOUT_MS / 1000
    )

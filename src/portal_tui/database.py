"""Engines and sessions for SQLite and PostgreSQL, tuned per backend; used by the firm store and
the portal service alike.

SQLite: WAL so readers never wait for the writer, foreign keys on, a busy timeout, and every
writing transaction begun IMMEDIATE so two writers queue at BEGIN instead of failing with
"database is locked" half-way through. Reads use a second engine that begins deferred.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 10


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


def _sqlite_engine(url: URL, *, immediate: bool, echo: bool) -> Engine:
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

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite, so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _ensure_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """The firm database: `read()` and `write()` sessions, each one transaction."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and _is_memory(self.url):
            # An in-memory database (tests, throwaway runs) lives in one connection, so reads
            # and writes share the one engine; its transactions still begin IMMEDIATE.
            self.writer = _sqlite_engine(self.url, immediate=True, echo=echo)
            self.reader = self.writer
        elif self.is_sqlite:
            self.writer = _sqlite_engine(self.url, immediate=True, echo=echo)
            self.reader = _sqlite_engine(self.url, immediate=False, echo=echo)
        else:
            self.writer = create_engine(
                self.url,
                echo=echo,
                pool_pre_ping=True,
                # A host that drops packets should fail in seconds, not at the OS's TCP timeout.
                connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            )
            self.reader = self.writer
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One writing transaction: committed when the block ends, rolled back on error."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()

"""The firm database engines: SQLite settings really in force, and writers that queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from portal_tui.database import BUSY_TIMEOUT_MS, Database
from portal_tui.store.migrate import ensure_current


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    ensure_current(database)
    yield database
    database.dispose()


def test_sqlite_pragmas_are_in_force_on_writer_and_reader_sessions(sqlite_db: Database) -> None:
    for sessions in (sqlite_db.write, sqlite_db.read):
        with sessions() as session:
            in_force = {
                name: session.execute(text(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
        assert in_force == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": BUSY_TIMEOUT_MS,
        }


def test_sqlite_foreign_keys_are_enforced_after_migrating(sqlite_db: Database) -> None:
    """The migration turns enforcement off for its own connection; it must come back on."""
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="FOREIGN KEY"), sqlite_db.write() as session:
        session.execute(
            text(
                "INSERT INTO matters (number, name, client_id, status, portal_enabled, created_at)"
                " VALUES ('M-1', 'Orphan', 999, 'open', 0, '2025-01-01 00:00:00')"
            )
        )


def test_sqlite_second_writer_waits_for_the_first_instead_of_failing(sqlite_db: Database) -> None:
    """Write sessions BEGIN IMMEDIATE. With a deferred BEGIN the second writer would read
    first, then fail with "database is locked" when it tried to write on a stale snapshot;
    here it waits at BEGIN, and its read already sees the first writer's commit."""
    second_saw: list[int] = []
    second_failed: list[BaseException] = []

    def second_writer() -> None:
        try:
            with sqlite_db.write() as session:
                count = session.execute(text("SELECT count(*) FROM sync_state")).scalar_one()
                second_saw.append(count)
                session.execute(
                    text("INSERT INTO sync_state (key, value) VALUES ('second', :v)"),
                    {"v": str(count)},
                )
        except BaseException as exc:  # reported to the main thread's asserts
            second_failed.append(exc)

    with sqlite_db.write() as first:
        first.execute(text("SELECT count(*) FROM sync_state")).scalar_one()
        first.execute(text("INSERT INTO sync_state (key, value) VALUES ('first', '0')"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)
        # Still blocked at BEGIN IMMEDIATE: neither done nor failed.
        assert thread.is_alive()
        assert second_saw == []
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert second_failed == []
    assert second_saw == [1]
    with sqlite_db.read() as session:
        keys = session.execute(text("SELECT key FROM sync_state ORDER BY key")).scalars().all()
    assert keys == ["first", "second"]


def test_sqlite_readers_are_not_blocked_by_an_open_writer(sqlite_db: Database) -> None:
    """WAL: a read session opened while a write transaction is pending answers at once."""
    with sqlite_db.write() as writer:
        writer.execute(text("INSERT INTO sync_state (key, value) VALUES ('pending', 'x')"))
        started = time.monotonic()
        with sqlite_db.read() as reader:
            count = reader.execute(text("SELECT count(*) FROM sync_state")).scalar_one()
        assert time.monotonic() - started < 1
        assert count == 0


@pytest.mark.postgres
def test_postgres_waits_on_a_held_row_as_long_as_sqlite_waits_on_its_file(pg_url: str) -> None:
    """A row lock another staff member holds is never waited on without end."""
    database = Database(pg_url)
    try:
        with database.write() as session:
            in_force = session.execute(text("SHOW lock_timeout")).scalar_one()
    finally:
        database.dispose()
    assert in_force == f"{BUSY_TIMEOUT_MS // 1000}s"

"""Migrations applied on start: `portal_tui.store.migrate` and the revisions it runs."""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from portal_tui import migrating
from portal_tui.database import Database
from portal_tui.sqltypes import utcnow
from portal_tui.store import migrate
from portal_tui.store.migrate import (
    HEAD_REVISION,
    DatabaseLockedError,
    DatabaseMigrationError,
    DatabaseNewerError,
    DatabaseUnavailableError,
    StoreError,
    alembic_config,
    database_revision,
    describe_location,
    ensure_current,
)
from portal_tui.store.models import AuditEntry, Base, hand_made_table

SRC = Path(migrate.__file__).resolve().parents[2]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


def _sqlite_path(db: Database) -> Path:
    assert db.url.database
    return Path(db.url.database)


def _tables(db: Database) -> set[str]:
    with db.reader.connect() as conn:
        return set(inspect(conn).get_table_names())


def _set_revision(db: Database, revision: str) -> None:
    with db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def _snapshot(db: Database) -> dict[str, Any]:
    """Everything a migration could change: tables, their columns, the version rows."""
    with db.reader.connect() as conn:
        inspector = inspect(conn)
        tables = sorted(inspector.get_table_names())
        return {
            "columns": {t: [c["name"] for c in inspector.get_columns(t)] for t in tables},
            "version": conn.execute(text("SELECT version_num FROM alembic_version")).all(),
        }


def _run_python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- the scripts ---------------------------------------------------------------------------


def test_scripts_have_exactly_one_head_and_head_revision_names_it() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]


def test_scripts_are_found_inside_the_package_without_an_alembic_ini() -> None:
    location = Path(alembic_config().get_main_option("script_location") or "")
    assert location == Path(migrate.__file__).resolve().parent / "migrations"
    assert (location / "env.py").is_file()
    assert (location / "script.py.mako").is_file()


# --- upgrading -----------------------------------------------------------------------------


def test_upgrade_from_empty_creates_every_model_table(db: Database) -> None:
    assert database_revision(db) is None

    ensure_current(db)

    assert database_revision(db) == HEAD_REVISION
    tables = _tables(db)
    assert {t for t in tables if not hand_made_table(t)} == set(Base.metadata.tables) | {
        "alembic_version"
    }
    # SQLite also gets the trigram search indexes of the item lists (0004).
    assert ("search_invoices" in tables) is db.is_sqlite


def test_ensure_current_twice_is_a_noop_that_never_reaches_alembic(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_current(db)
    before = _snapshot(db)

    def _must_not_upgrade(*_args: object) -> None:
        raise AssertionError("a current database took the slow path")

    monkeypatch.setattr(migrating, "_upgrade", _must_not_upgrade)
    ensure_current(db)

    assert _snapshot(db) == before


def test_fast_path_of_a_current_database_does_not_import_alembic(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ensure_current(sqlite_db)
    code = (
        "import sys\n"
        "from portal_tui.database import Database\n"
        "from portal_tui.store.migrate import ensure_current\n"
        "ensure_current(Database(sys.argv[1]))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'filelock')))\n"
    )
    done = _run_python(code, str(sqlite_db.url), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_models_match_the_migrations(db: Database) -> None:
    """A model change without a revision (or the reverse) shows up here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ensure_current(db)
    with db.reader.connect() as conn:
        opts = {
            "compare_type": True,
            "include_name": lambda name, type_, _parents: (
                not (type_ == "table" and hand_made_table(name))
            ),
        }
        context = MigrationContext.configure(conn, opts=opts)
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_downgrade_to_base_removes_the_schema_and_upgrade_restores_it(db: Database) -> None:
    """Keeps downgrade() honest: it must undo everything, triggers and function included."""
    from alembic import command

    ensure_current(db)
    with db.writer.connect() as conn, conn.begin():
        command.downgrade(alembic_config(conn), "base")
    assert _tables(db) == {"alembic_version"}
    if not db.is_sqlite:
        with db.reader.connect() as conn:
            leftover = conn.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_trail_append_only'")
            ).scalar_one()
        assert leftover == 0

    ensure_current(db)
    assert database_revision(db) == HEAD_REVISION


def test_missing_parent_folder_of_an_sqlite_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "firm.db"
    database = Database(f"sqlite:///{path}")
    try:
        ensure_current(database)
    finally:
        database.dispose()
    assert path.is_file()


# --- refusing what it must not touch ---------------------------------------------------------


def test_database_at_an_unknown_revision_is_refused_and_left_unmodified(db: Database) -> None:
    ensure_current(db)
    _set_revision(db, "0999_from_the_future")
    before = _snapshot(db)
    sqlite_dump = list(sqlite3.connect(_sqlite_path(db)).iterdump()) if db.is_sqlite else []

    with pytest.raises(DatabaseNewerError) as caught:
        ensure_current(db)

    message = str(caught.value)
    assert "newer version of portal-tui" in message
    assert "0999_from_the_future" in message
    assert "upgrade portal-tui" in message
    assert "\n" not in message
    assert _snapshot(db) == before
    if db.is_sqlite:
        assert list(sqlite3.connect(_sqlite_path(db)).iterdump()) == sqlite_dump
        assert not list(_sqlite_path(db).parent.glob("*.backup-*"))


def test_file_that_is_not_an_sqlite_database_is_unavailable_and_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "firm.db"
    content = b"Dear client, please find attached... " * 200
    path.write_bytes(content)
    database = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            ensure_current(database)
    finally:
        database.dispose()

    message = str(caught.value)
    assert message == f"Cannot open the firm database at {path}: file is not a database."
    assert path.read_bytes() == content


def test_folder_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    database = Database(f"sqlite:///{blocker / 'sub' / 'firm.db'}")

    with pytest.raises(DatabaseUnavailableError, match=r"cannot create the folder .*a-file/sub"):
        ensure_current(database)


def test_unreachable_postgres_is_unavailable_and_the_message_hides_the_password() -> None:
    # Port 1 on loopback: nothing listens there, so the server "refuses" at once.
    database = Database("postgresql://clerk:hunter2-secret@127.0.0.1:1/firm?sslmode=disable")
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            ensure_current(database)
    finally:
        database.dispose()

    message = str(caught.value)
    assert message.startswith(
        "Cannot open the firm database at postgresql://clerk@127.0.0.1:1/firm:"
    )
    assert "hunter2" not in message
    assert "\n" not in message


def test_location_in_messages_never_shows_password_or_query() -> None:
    url = Database("postgresql://u:pw@db.example:5433/firm?password=pw&sslkey=k").url
    assert describe_location(url) == "postgresql://u@db.example:5433/firm"


# --- backups -------------------------------------------------------------------------------


def _older_sqlite_file(path: Path) -> None:
    """An SQLite file holding data at revision base: an alembic_version table with no row
    (what `alembic stamp base` leaves) and a table of data an upgrade must not lose."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO legacy_notes (body) VALUES ('keep me')")
    conn.close()


def test_sqlite_at_an_older_revision_is_backed_up_before_upgrading(sqlite_db: Database) -> None:
    path = _sqlite_path(sqlite_db)
    _older_sqlite_file(path)

    ensure_current(sqlite_db)

    backups = list(path.parent.glob(f"{path.name}.backup-*"))
    assert len(backups) == 1
    assert re.fullmatch(rf"{re.escape(path.name)}\.backup-base-\d{{8}}T\d{{6}}Z", backups[0].name)
    copy = sqlite3.connect(backups[0])
    try:
        # The copy is the database as it was before the upgrade: data, and no new tables.
        names = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
        assert names >= {"alembic_version", "legacy_notes"}
        assert "matters" not in names
        assert copy.execute("SELECT body FROM legacy_notes").fetchall() == [("keep me",)]
    finally:
        copy.close()
    assert database_revision(sqlite_db) == HEAD_REVISION
    assert "legacy_notes" in _tables(sqlite_db)


def test_fresh_sqlite_database_gets_no_backup(sqlite_db: Database) -> None:
    ensure_current(sqlite_db)
    path = _sqlite_path(sqlite_db)
    assert not list(path.parent.glob("*.backup-*"))


def test_failed_upgrade_changes_nothing_and_points_to_the_backup(sqlite_db: Database) -> None:
    path = _sqlite_path(sqlite_db)
    conn = sqlite3.connect(path)
    with conn:
        # A firm database at base (its version table, empty) holding a table the first
        # revision also creates: its CREATE TABLE fails half-way through.
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY)")
    conn.close()

    with pytest.raises(DatabaseMigrationError) as caught:
        ensure_current(sqlite_db)

    message = str(caught.value)
    assert "already exists" in message
    assert "left as it was" in message
    assert caught.value.backup is not None
    assert caught.value.backup.is_file()
    assert str(caught.value.backup) in message
    # One transaction: tables the revision created before failing were rolled back too.
    assert _tables(sqlite_db) == {"alembic_version", "outbox"}


# --- locks ---------------------------------------------------------------------------------


def test_sqlite_migration_lock_held_too_long_gives_locked_error(sqlite_db: Database) -> None:
    from filelock import FileLock

    path = _sqlite_path(sqlite_db)
    with FileLock(path.with_name(path.name + ".migrate.lock")):
        started = time.monotonic()
        with pytest.raises(DatabaseLockedError) as caught:
            ensure_current(sqlite_db, lock_timeout=0.3)
        assert time.monotonic() - started < 10
    assert "locked by another program" in str(caught.value)
    assert str(path) in str(caught.value)
    assert database_revision(sqlite_db) is None


@pytest.mark.postgres
def test_postgres_migration_lock_held_too_long_gives_locked_error(pg_url: str) -> None:
    database = Database(pg_url)
    holder = Database(pg_url)
    try:
        with holder.writer.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": migrate._PG_LOCK_KEY})
            with pytest.raises(DatabaseLockedError):
                ensure_current(database, lock_timeout=0.3)
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": migrate._PG_LOCK_KEY})
        # Once the other holder lets go, the same call succeeds.
        ensure_current(database, lock_timeout=5)
        assert database_revision(database) == HEAD_REVISION
    finally:
        holder.dispose()
        database.dispose()


_RACER = """
import logging, sys, time
from pathlib import Path
import alembic.command  # imported up front, so the race is over the lock, not imports
from portal_tui.database import Database
from portal_tui.store.migrate import ensure_current

url, go, ready, log_file = sys.argv[1:5]
logging.basicConfig(filename=log_file, level=logging.INFO, format="%(name)s %(message)s")
db = Database(url)
Path(ready).touch()
deadline = time.monotonic() + 30
while not Path(go).exists() and time.monotonic() < deadline:
    time.sleep(0.002)
ensure_current(db)
"""


def test_four_processes_starting_at_once_migrate_a_fresh_sqlite_file_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _RACER,
                sqlite_url,
                str(go),
                str(tmp_path / f"ready-{n}"),
                str(tmp_path / f"log-{n}"),
            ],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(list(tmp_path.glob("ready-*"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        results = [racer.communicate(timeout=60) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()

    for racer, (_out, err) in zip(racers, results, strict=True):
        assert racer.returncode == 0, err
    logs = "".join(p.read_text() for p in tmp_path.glob("log-*"))
    assert logs.count("Upgrading the firm database") == 1
    database = Database(sqlite_url)
    try:
        assert database_revision(database) == HEAD_REVISION
        modelled = {t for t in _tables(database) if not hand_made_table(t)}
        assert modelled == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        database.dispose()


# --- the audit trail -----------------------------------------------------------------------


def test_audit_trail_accepts_inserts_but_refuses_update_and_delete(db: Database) -> None:
    ensure_current(db)
    with db.write() as session:
        session.add(AuditEntry(at=utcnow(), actor="alice", action="share", kind="invoice"))

    with pytest.raises(IntegrityError, match="audit trail is append-only"), db.write() as s:
        s.execute(text("UPDATE audit_trail SET actor = 'mallory'"))
    with pytest.raises(IntegrityError, match="audit trail is append-only"), db.write() as s:
        s.execute(text("DELETE FROM audit_trail"))
    if not db.is_sqlite:
        with pytest.raises(IntegrityError, match="audit trail is append-only"), db.write() as s:
            s.execute(text("TRUNCATE audit_trail"))

    with db.read() as session:
        rows = session.execute(text("SELECT actor, action FROM audit_trail")).all()
    assert [tuple(row) for row in rows] == [("alice", "share")]


def test_store_errors_share_one_base_class() -> None:
    for error in (
        DatabaseNewerError,
        DatabaseLockedError,
        DatabaseUnavailableError,
        DatabaseMigrationError,
    ):
        assert issubclass(error, StoreError)


@pytest.mark.postgres
def test_four_concurrent_starts_on_a_fresh_postgres_database_migrate_it_once(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    databases = [Database(pg_url) for _ in range(4)]
    barrier = threading.Barrier(len(databases))
    failures: list[BaseException] = []

    def start(database: Database) -> None:
        try:
            barrier.wait(timeout=10)
            ensure_current(database)
        except BaseException as exc:  # reported to the main thread's asserts
            failures.append(exc)

    caplog.set_level(logging.INFO, logger=migrate.__name__)
    threads = [threading.Thread(target=start, args=(d,)) for d in databases]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        upgrades = [r for r in caplog.records if r.getMessage().startswith("Upgrading")]
        assert len(upgrades) == 1
        assert database_revision(databases[0]) == HEAD_REVISION
    finally:
        for database in databases:
            database.dispose()


def test_an_empty_file_at_the_path_is_refused_and_left_empty(tmp_path: Path) -> None:
    # Only a path where nothing exists gets a new firm: an empty file is not one to fill.
    path = tmp_path / "firm.db"
    path.write_bytes(b"")
    database = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            ensure_current(database)
    finally:
        database.dispose()
    assert str(caught.value) == (
        f"Cannot open the firm database at {path}: the file is empty, not a firm database; "
        "move it away to start a new one there, or point to the right file."
    )
    assert path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["firm.db"]


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "firm.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO recipes (name) VALUES ('bread')")
    conn.close()
    content = path.read_bytes()
    database = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseUnavailableError, match="another program"):
            ensure_current(database)
    finally:
        database.dispose()
    assert path.read_bytes() == content

"""The portal database's migrations: `portal_tui.service.schema` and the revisions it runs."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from portal_tui import migrating
from portal_tui.database import Database
from portal_tui.migrating import (
    DatabaseMigrationError,
    DatabaseNewerError,
    DatabaseUnavailableError,
    alembic_config,
    database_revision,
)
from portal_tui.service.models import Base
from portal_tui.service.schema import PORTAL_SCHEMA, SERVICE_HEAD_REVISION, ensure_service_schema

VERSION_TABLE = "portal_alembic_version"


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


def _tables(db: Database) -> set[str]:
    with db.reader.connect() as conn:
        return set(inspect(conn).get_table_names())


def _snapshot(db: Database) -> dict[str, Any]:
    with db.reader.connect() as conn:
        inspector = inspect(conn)
        tables = sorted(inspector.get_table_names())
        return {
            "columns": {t: [c["name"] for c in inspector.get_columns(t)] for t in tables},
            "version": conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all(),
        }


# --- the scripts ---------------------------------------------------------------------------


def test_scripts_have_exactly_one_head_and_the_constant_names_it() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(PORTAL_SCHEMA))
    assert script.get_heads() == [SERVICE_HEAD_REVISION]
    assert PORTAL_SCHEMA.head_revision == SERVICE_HEAD_REVISION


def test_scripts_live_in_the_service_package() -> None:
    import portal_tui.service

    location = Path(alembic_config(PORTAL_SCHEMA).get_main_option("script_location") or "")
    assert location == Path(portal_tui.service.__file__).resolve().parent / "migrations"
    assert (location / "env.py").is_file()
    assert (location / "script.py.mako").is_file()


def test_revisions_import_nothing_of_the_app() -> None:
    """A revision must keep meaning what it meant when written, whatever the models become."""
    versions = sorted((PORTAL_SCHEMA.migrations_dir / "versions").glob("*.py"))
    assert versions
    for path in versions:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imported |= {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert imported <= {"__future__", "collections.abc", "sqlalchemy", "alembic"}, path.name


# --- upgrading -----------------------------------------------------------------------------


def test_upgrade_from_empty_creates_every_model_table(db: Database) -> None:
    assert database_revision(db, PORTAL_SCHEMA) is None

    ensure_service_schema(db)

    assert database_revision(db, PORTAL_SCHEMA) == SERVICE_HEAD_REVISION
    assert _tables(db) == set(Base.metadata.tables) | {VERSION_TABLE}


def test_models_match_the_migrations(db: Database) -> None:
    """A model change without a revision (or the reverse) shows up here as a difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    ensure_service_schema(db)
    with db.reader.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_ensure_twice_is_a_noop_that_never_reaches_alembic(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_service_schema(db)
    before = _snapshot(db)

    def _must_not_upgrade(*_args: object) -> None:
        raise AssertionError("a current database took the slow path")

    monkeypatch.setattr(migrating, "_upgrade", _must_not_upgrade)
    ensure_service_schema(db)

    assert _snapshot(db) == before


def test_downgrade_to_base_removes_the_schema_and_upgrade_restores_it(db: Database) -> None:
    from alembic import command

    ensure_service_schema(db)
    with db.writer.connect() as conn, conn.begin():
        command.downgrade(alembic_config(PORTAL_SCHEMA, conn), "base")
    assert _tables(db) == {VERSION_TABLE}

    ensure_service_schema(db)
    assert database_revision(db, PORTAL_SCHEMA) == SERVICE_HEAD_REVISION


def test_fast_path_of_a_current_database_does_not_import_alembic(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ensure_service_schema(sqlite_db)
    code = (
        "import sys\n"
        "from portal_tui.database import Database\n"
        "from portal_tui.service.schema import ensure_service_schema\n"
        "ensure_service_schema(Database(sys.argv[1]))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'filelock')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(sqlite_db.url)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_service_brings_its_database_to_head_on_start(client: TestClient) -> None:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    assert database_revision(db, PORTAL_SCHEMA) == SERVICE_HEAD_REVISION


# --- refusing what it must not touch ---------------------------------------------------------


def test_database_at_an_unknown_revision_is_refused_and_left_unmodified(db: Database) -> None:
    ensure_service_schema(db)
    with db.write() as session:
        session.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0999_from_the_future'"))
    before = _snapshot(db)

    with pytest.raises(DatabaseNewerError) as caught:
        ensure_service_schema(db)

    message = str(caught.value)
    assert message.startswith("The portal database at ")
    assert "newer version of portal-tui" in message
    assert "0999_from_the_future" in message
    assert "\n" not in message
    assert _snapshot(db) == before
    if db.is_sqlite:
        assert db.url.database
        assert not list(Path(db.url.database).parent.glob("*.backup-*"))


def test_file_that_is_not_an_sqlite_database_names_the_portal_database(tmp_path: Path) -> None:
    path = tmp_path / "portal.db"
    path.write_bytes(b"not a database at all " * 200)
    database = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            ensure_service_schema(database)
    finally:
        database.dispose()
    assert (
        str(caught.value) == f"Cannot open the portal database at {path}: file is not a database."
    )


def test_tables_left_by_the_old_create_all_make_a_clear_migration_error(
    sqlite_db: Database,
) -> None:
    """A portal database made before the migrations existed (by create_all) is not adopted
    silently: the upgrade fails whole, says so, and leaves a backup."""
    Base.metadata.create_all(sqlite_db.writer)
    assert sqlite_db.url.database
    path = Path(sqlite_db.url.database)

    with pytest.raises(DatabaseMigrationError) as caught:
        ensure_service_schema(sqlite_db)

    message = str(caught.value)
    assert message.startswith(f"Could not upgrade the portal database at {path} to schema")
    assert SERVICE_HEAD_REVISION in message
    assert "already exists" in message
    assert caught.value.backup is not None
    assert caught.value.backup.is_file()
    assert VERSION_TABLE not in _tables(sqlite_db)
    conn = sqlite3.connect(caught.value.backup)
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert names >= set(Base.metadata.tables)

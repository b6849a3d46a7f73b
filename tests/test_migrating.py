"""The migration machinery shared by the firm and the portal databases (`portal_tui.migrating`).

The firm's and the portal's own tests (tests/store/test_migrate.py, tests/service/test_schema.py)
cover each schema; these cover what only shows with both, or with the machinery alone.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from portal_tui import migrating
from portal_tui.database import Database
from portal_tui.migrating import (
    DatabaseLockedError,
    DatabaseMigrationError,
    DatabaseNewerError,
    DatabaseUnavailableError,
    StoreError,
    database_revision,
    ensure_current,
)
from portal_tui.service.models import Base as PortalBase
from portal_tui.service.schema import PORTAL_SCHEMA
from portal_tui.store import migrate
from portal_tui.store.migrate import FIRM_SCHEMA
from portal_tui.store.models import Base as FirmBase

SCHEMAS = pytest.mark.parametrize("schema", [FIRM_SCHEMA, PORTAL_SCHEMA], ids=["firm", "portal"])


def _tables(db: Database) -> set[str]:
    with db.reader.connect() as conn:
        return set(inspect(conn).get_table_names())


# --- the two schemas side by side ------------------------------------------------------------


def test_the_two_schemas_keep_separate_books() -> None:
    assert FIRM_SCHEMA.label == "firm database"
    assert PORTAL_SCHEMA.label == "portal database"
    assert FIRM_SCHEMA.version_table != PORTAL_SCHEMA.version_table
    assert FIRM_SCHEMA.pg_lock_key != PORTAL_SCHEMA.pg_lock_key
    assert FIRM_SCHEMA.migrations_dir != PORTAL_SCHEMA.migrations_dir
    for schema in (FIRM_SCHEMA, PORTAL_SCHEMA):
        # pg_advisory_xact_lock takes a signed bigint.
        assert -(2**63) <= schema.pg_lock_key < 2**63
    assert not set(FirmBase.metadata.tables) & {PORTAL_SCHEMA.version_table}
    assert not set(PortalBase.metadata.tables) & {FIRM_SCHEMA.version_table}


def test_the_store_module_keeps_its_public_api() -> None:
    assert FIRM_SCHEMA.head_revision == migrate.HEAD_REVISION
    assert FIRM_SCHEMA.migrations_dir == migrate.MIGRATIONS_DIR
    # One set of classes: `except migrate.StoreError` also catches the portal's errors.
    assert migrate.StoreError is StoreError
    assert migrate.DatabaseNewerError is DatabaseNewerError
    assert migrate.describe_location is migrating.describe_location


def test_schema_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PORTAL_SCHEMA.head_revision = "0002_x"  # type: ignore[misc]


@pytest.mark.postgres
def test_firm_and_portal_can_share_one_postgres_database(pg_url: str) -> None:
    """One PostgreSQL database, the portal in its own schema (search_path): the advisory locks
    are per database, so the keys must differ; each reads only its own version table."""
    firm = Database(pg_url)
    with firm.writer.begin() as conn:
        conn.execute(text("CREATE SCHEMA portal"))
    portal = Database(make_url(pg_url).update_query_dict({"options": "-csearch_path=portal"}))
    try:
        ensure_current(firm, FIRM_SCHEMA)
        assert database_revision(portal, PORTAL_SCHEMA) is None

        ensure_current(portal, PORTAL_SCHEMA)

        assert database_revision(firm, FIRM_SCHEMA) == FIRM_SCHEMA.head_revision
        assert database_revision(portal, PORTAL_SCHEMA) == PORTAL_SCHEMA.head_revision
        assert database_revision(firm, PORTAL_SCHEMA) is None
        assert _tables(firm) == set(FirmBase.metadata.tables) | {FIRM_SCHEMA.version_table}
        assert _tables(portal) == set(PortalBase.metadata.tables) | {PORTAL_SCHEMA.version_table}
    finally:
        portal.dispose()
        firm.dispose()


@pytest.mark.postgres
def test_a_held_firm_migration_lock_does_not_block_the_portal(pg_url: str) -> None:
    database = Database(pg_url)
    holder = Database(pg_url)
    try:
        with holder.writer.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": FIRM_SCHEMA.pg_lock_key})
            ensure_current(database, PORTAL_SCHEMA, lock_timeout=0.5)
            with pytest.raises(DatabaseLockedError) as caught:
                ensure_current(database, FIRM_SCHEMA, lock_timeout=0.3)
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": FIRM_SCHEMA.pg_lock_key})
        assert database_revision(database, PORTAL_SCHEMA) == PORTAL_SCHEMA.head_revision
        assert str(caught.value).startswith("The firm database at postgresql")
    finally:
        holder.dispose()
        database.dispose()


# --- messages and logs name the schema --------------------------------------------------------


@SCHEMAS
def test_a_held_sqlite_lock_names_the_schema(
    schema: migrating.Schema, sqlite_url: str, tmp_path: Path
) -> None:
    from filelock import FileLock

    database = Database(sqlite_url)
    path = Path(database.url.database or "")
    try:
        with (
            FileLock(path.with_name(path.name + ".migrate.lock")),
            pytest.raises(DatabaseLockedError) as caught,
        ):
            ensure_current(database, schema, lock_timeout=0.2)
    finally:
        database.dispose()
    assert str(caught.value).startswith(f"The {schema.label} at {path} is locked")


@SCHEMAS
def test_the_upgrade_is_logged_by_the_schemas_owner(
    schema: migrating.Schema, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=schema.logger)
    database = Database(sqlite_url)
    try:
        ensure_current(database, schema)
    finally:
        database.dispose()
    upgrades = [r for r in caplog.records if r.getMessage().startswith("Upgrading")]
    assert [r.name for r in upgrades] == [schema.logger]
    assert upgrades[0].getMessage().startswith(f"Upgrading the {schema.label} at ")


def test_errors_are_one_line_and_name_their_label() -> None:
    errors: list[StoreError] = [
        DatabaseNewerError("/x/p.db", "0099_future", label="portal database"),
        DatabaseLockedError("/x/p.db", 5, label="portal database"),
        DatabaseUnavailableError("/x/p.db", "no such host", label="portal database"),
        DatabaseMigrationError(
            "/x/p.db", "boom", Path("/x/p.db.bak"), label="portal database", target="0002_y"
        ),
    ]
    for error in errors:
        assert "the portal database at /x/p.db" in str(error).lower()
        assert "\n" not in str(error)
    assert "to schema revision 0002_y: boom." in str(errors[-1])
    assert str(errors[-1]).endswith("A copy from before the upgrade is at /x/p.db.bak.")


def test_errors_built_the_old_way_still_read_well() -> None:
    """Callers that predate labels pass only the place and the detail."""
    assert str(DatabaseNewerError("/x/firm.db", "0099_future")).startswith(
        "The database at /x/firm.db was written by a newer version"
    )
    assert str(DatabaseMigrationError("/x", "boom", None)) == (
        "Could not upgrade the database at /x: boom. The database was left as it was."
    )

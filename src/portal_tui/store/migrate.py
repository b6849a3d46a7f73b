"""Bring the firm database to the schema this build expects, once, before anything else runs.

The machinery (fast path, locks, backup, one-transaction upgrade, one-line errors) lives in
`portal_tui.migrating`, shared with the portal service; this module names the firm's scripts and
keeps the firm-facing API that the CLI, the repository and the tests call.

New revisions: build a scratch database at head, then autogenerate against it::

    db = Database("sqlite:///scratch.db"); ensure_current(db)
    with db.writer.begin() as conn:
        command.revision(alembic_config(conn), "add x", autogenerate=True, rev_id="0002_add_x")

Review the file by hand, then move HEAD_REVISION (in revision.py) to the new id (a test holds
them equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from portal_tui import migrating
from portal_tui.database import Database
from portal_tui.migrating import (
    LOCK_TIMEOUT_S,
    DatabaseLockedError,
    DatabaseMigrationError,
    DatabaseNewerError,
    DatabaseUnavailableError,
    Schema,
    StoreError,
    describe_location,
)

from .revision import HEAD_REVISION, VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "FIRM_SCHEMA",
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

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Every portal-tui process must use the same key; the bytes spell "portaltu" so that another
# application sharing the PostgreSQL server is unlikely to pick it.
_PG_LOCK_KEY = 0x706F7274616C7475


def _firm_tables() -> frozenset[str]:
    from .models import Base

    return frozenset(Base.metadata.tables)


FIRM_SCHEMA = Schema(
    label="firm database",
    migrations_dir=MIGRATIONS_DIR,
    head_revision=HEAD_REVISION,
    version_table=VERSION_TABLE,
    pg_lock_key=_PG_LOCK_KEY,
    logger=__name__,
    tables=_firm_tables,
)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for the firm's packaged scripts, with no alembic.ini involved."""
    return migrating.alembic_config(FIRM_SCHEMA, connection)


def database_revision(db: Database) -> str | None:
    """The revision the firm database is at; None at base: never migrated, or stamped base."""
    return migrating.database_revision(db, FIRM_SCHEMA)


def ensure_current(db: Database, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Upgrade the firm database to HEAD_REVISION if it is behind; cheap when it is not.

    Raises a StoreError subclass, never a driver exception, for anything the user must act on.
    """
    migrating.ensure_current(db, FIRM_SCHEMA, lock_timeout=lock_timeout)

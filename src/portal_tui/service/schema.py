"""Bring the portal service's database to the schema this build expects.

The scripts are in migrations/ (Alembic, run by the machinery the firm database uses too, in
`portal_tui.migrating`). New revisions: bring a scratch database to head, then autogenerate::

    db = Database("sqlite:///scratch.db"); ensure_service_schema(db)
    with db.writer.begin() as conn:
        command.revision(
            alembic_config(PORTAL_SCHEMA, conn), "add x", autogenerate=True, rev_id="0002_add_x"
        )

Review the file by hand, then move SERVICE_HEAD_REVISION to the new id (a test holds them equal).
"""

from __future__ import annotations

from pathlib import Path

from portal_tui.database import Database
from portal_tui.migrating import LOCK_TIMEOUT_S, Schema, ensure_current

__all__ = ["PORTAL_SCHEMA", "SERVICE_HEAD_REVISION", "ensure_service_schema"]

# Must name the newest file in migrations/versions; tests/service checks the two agree.
SERVICE_HEAD_REVISION: str = "0007_two_factor"


def _portal_tables() -> frozenset[str]:
    from .models import Base

    return frozenset(Base.metadata.tables)


PORTAL_SCHEMA = Schema(
    label="portal database",
    migrations_dir=Path(__file__).resolve().parent / "migrations",
    head_revision=SERVICE_HEAD_REVISION,
    # Not Alembic's default, so the firm's and the portal's schemas can share one PostgreSQL
    # database without reading each other's revision.
    version_table="portal_alembic_version",
    # The bytes spell "portalsv"; distinct from the firm's key, so migrating one database never
    # waits for the other.
    pg_lock_key=0x706F7274616C7376,
    logger=__name__,
    tables=_portal_tables,
)


def ensure_service_schema(db: Database, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Upgrade the portal database to SERVICE_HEAD_REVISION if it is behind; cheap if not.

    Raises a `portal_tui.migrating.StoreError` subclass, with a one-line message naming the
    portal database, for anything the operator must act on.
    """
    ensure_current(db, PORTAL_SCHEMA, lock_timeout=lock_timeout)

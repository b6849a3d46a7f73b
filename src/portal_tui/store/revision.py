"""Where the firm database's schema stands, as plain constants: the app's first page reads the
version table with the standard library's sqlite3 before SQLAlchemy or Alembic is imported (cold
start to the first matter row <= 2.5x a bare Textual app), so these must not live beside the
migration machinery."""

from __future__ import annotations

# Must name the newest file in migrations/versions; tests/store checks the two agree.
HEAD_REVISION: str = "0011_outbox_hold"

# Alembic's default name, which migrations/env.py leaves in place.
VERSION_TABLE = "alembic_version"

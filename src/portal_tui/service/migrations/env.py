"""Alembic environment of the portal database: runs on the connection that
`portal_tui.migrating` hands over (see `portal_tui.alembic_env`, `portal_tui.service.schema`).

This folder is deliberately not a Python package (no __init__.py): Alembic loads env.py and the
revisions by path, and a package here would let anything that imports every module of
`portal_tui.service` run this file outside Alembic.
"""

from __future__ import annotations

from portal_tui.alembic_env import run_env
from portal_tui.service.models import Base
from portal_tui.service.schema import PORTAL_SCHEMA

# The portal's tables may share a PostgreSQL database with the firm's.
run_env(Base.metadata, version_table=PORTAL_SCHEMA.version_table, own_tables_only=True)

"""Alembic environment of the firm database: runs on the connection that
`portal_tui.store.migrate` hands over (see `portal_tui.alembic_env`)."""

from __future__ import annotations

from portal_tui.alembic_env import run_env
from portal_tui.store.models import Base, hand_made_table

run_env(Base.metadata, own_tables_only=False, hand_made=hand_made_table)

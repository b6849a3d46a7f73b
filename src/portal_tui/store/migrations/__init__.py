"""Alembic scripts for the firm database; run them through `portal_tui.store.migrate`."""

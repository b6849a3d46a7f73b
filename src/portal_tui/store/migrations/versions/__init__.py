"""Revision files, named `NNNN_slug.py` with the same revision id (Alembic skips this file)."""

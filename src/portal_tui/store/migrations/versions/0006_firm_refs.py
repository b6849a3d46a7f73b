"""The firm's own ids, kept on the rows brought in from its files: a client's id in its
practice-management system (CLIENT_ID in a LEDES file, "Client ID" in a CSV export), and a
calendar event's UID (RFC 5545). A second import of the same file matches its rows by them and
changes nothing. (A matter's own id is its number; an invoice's, its number: both unique.)

Added in place (ALTER TABLE ADD COLUMN, CREATE INDEX), never by recreating a table: SQLite's
batch mode would drop the search triggers of 0004 with it.

Revision ID: 0006_firm_refs
Revises: 0005_many_staff
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_firm_refs"
down_revision = "0005_many_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("ref", sa.String(length=80), nullable=True))
    op.create_index("uq_clients_ref", "clients", ["ref"], unique=True)
    op.add_column("events", sa.Column("uid", sa.String(length=255), nullable=True))
    op.create_index("uq_events_matter_uid", "events", ["matter_id", "uid"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_events_matter_uid", table_name="events")
    op.drop_column("events", "uid")
    op.drop_index("uq_clients_ref", table_name="clients")
    op.drop_column("clients", "ref")

"""An all-day event's days (RFC 5545 VALUE=DATE): whether it is all day, its first and last day.

Added in place (ALTER TABLE ADD COLUMN), never by recreating a table: SQLite's batch mode
would drop the search triggers of 0004 with it. Every event there is timed: all_day false.

Revision ID: 0008_all_day_events
Revises: 0007_responsible_pdf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_all_day_events"
down_revision = "0007_responsible_pdf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("all_day", sa.Boolean(), nullable=False, server_default="0"))
    op.add_column("events", sa.Column("first_day", sa.Date(), nullable=True))
    op.add_column("events", sa.Column("last_day", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "last_day")
    op.drop_column("events", "first_day")
    op.drop_column("events", "all_day")

"""The mail outbox keeps what each email is about, and which emails were dropped unsent

Revision ID: 0002_mail_about
Revises: 0001_portal_initial
Create Date: 2026-11-27 10:00:00.000000

`about` is the notice's key (a batch id, an ISO day, ...), so the sender can compose a
"new items" or digest email again from what its recipient may see when it goes out;
`dropped_at` marks an email given up because nothing was left to tell. Both are nullable:
rows queued before this revision keep going out as they were stored. Written by hand in the
style of autogenerate; batch blocks, so that SQLite (which cannot drop a column in place)
rebuilds the table on downgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_mail_about"
down_revision: str | Sequence[str] | None = "0001_portal_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch_op:
        batch_op.add_column(sa.Column("about", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch_op:
        batch_op.drop_column("dropped_at")
        batch_op.drop_column("about")

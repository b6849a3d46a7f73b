"""An outbox row may be held for a few seconds (a share or unshare that offers Undo): no relay
claims it before `deliver_after`, and `held_mark` keeps the share mark an Undo puts back.

Revision ID: 0011_outbox_hold
Revises: 0010_staff_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_outbox_hold"
down_revision = "0010_staff_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("deliver_after", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("held_mark", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("held_mark")
        batch.drop_column("deliver_after")

"""An index for the delivery worker's "is this batch done?" question.

Revision ID: 0003_outbox_batch_index
Revises: 0002_sync_refs
"""

from __future__ import annotations

from alembic import op

revision = "0003_outbox_batch_index"
down_revision = "0002_sync_refs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_batch", "outbox", ["batch", "state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_batch", table_name="outbox")

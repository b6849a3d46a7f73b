"""Client uploads keep the portal's id; the outbox gains the batch notice.

Revision ID: 0002_sync_refs
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sync_refs"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_OPS_BEFORE = ("publish", "revoke", "matter", "firm", "contact", "parties")
_OPS_AFTER = (*_OPS_BEFORE, "notify")


def _ops_check(values: tuple[str, ...]) -> str:
    return "op IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("portal_ref", sa.String(length=80), nullable=True))
        batch.create_unique_constraint(batch.f("uq_documents_portal_ref"), ["portal_ref"])
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("ck_outbox_outbox_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbox_outbox_op"), _ops_check(_OPS_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE op = 'notify'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("ck_outbox_outbox_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbox_outbox_op"), _ops_check(_OPS_BEFORE))
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint(batch.f("uq_documents_portal_ref"), type_="unique")
        batch.drop_column("portal_ref")

"""Two-factor sign-in for the firm's clients: the firm's requirement (nobody, every client,
or the clients of sensitive matters), a matter's "sensitive" mark, and the outbox's operation
that resets a client's second factor on the portal.

Columns are added in place (ALTER TABLE ADD COLUMN), never by recreating a table: SQLite's
batch mode would drop the search triggers of 0004 with it. (The outbox has none, so its CHECK
of operations is changed in batch mode.)

Revision ID: 0009_sensitive_matters
Revises: 0008_all_day_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_sensitive_matters"
down_revision = "0008_all_day_events"
branch_labels = None
depends_on = None

_OPS_BEFORE = ("publish", "revoke", "matter", "firm", "contact", "parties", "notify", "reset")
_OPS_AFTER = (*_OPS_BEFORE, "two_factor_reset")


def _ops_check(values: tuple[str, ...]) -> str:
    return "op IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.add_column(
        "firm_settings",
        sa.Column(
            "two_factor_required", sa.String(length=20), server_default="off", nullable=False
        ),
    )
    op.add_column(
        "matters",
        sa.Column("portal_sensitive", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("ck_outbox_outbox_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbox_outbox_op"), _ops_check(_OPS_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE op = 'two_factor_reset'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("ck_outbox_outbox_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbox_outbox_op"), _ops_check(_OPS_BEFORE))
    op.drop_column("matters", "portal_sensitive")
    op.drop_column("firm_settings", "two_factor_required")

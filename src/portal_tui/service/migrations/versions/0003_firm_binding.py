"""One portal serves one firm: the firm it is bound to, and that firm's epoch

Revision ID: 0003_firm_binding
Revises: 0002_mail_about
Create Date: 2026-12-06 12:00:00.000000

The first firm that publishes binds the portal (its firm id, kept in the firm database); any
other firm's requests are refused. The epoch grows when the firm restores a backup: requests
of an older epoch are refused, and the reset of a newer one makes the portal take the restored
firm's state over the versions it holds. `feed_consumed_seq` is how far the firm has read the
changes feed: rows below it may be pruned once old enough.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_firm_binding"
down_revision: str | Sequence[str] | None = "0002_mail_about"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_uuid", sa.String(length=36), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feed_consumed_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.CheckConstraint("id = 1", name=op.f("ck_portal_binding_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_binding")),
    )


def downgrade() -> None:
    op.drop_table("portal_binding")

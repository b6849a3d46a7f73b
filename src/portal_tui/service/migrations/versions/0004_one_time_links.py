"""Emailed one-time links: a client who forgot the password gets one (valid an hour, used
once); only the secret's hash is kept.

Revision ID: 0004_one_time_links
Revises: 0003_firm_binding
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_one_time_links"
down_revision: str | Sequence[str] | None = "0003_firm_binding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "one_time_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_one_time_links_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_links_token_hash")),
    )
    op.create_index(
        op.f("ix_one_time_links_account_id"), "one_time_links", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_one_time_links_account_id"), table_name="one_time_links")
    op.drop_table("one_time_links")

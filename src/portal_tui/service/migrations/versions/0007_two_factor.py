"""A client's second factor: the TOTP secret and its last step used, single-use recovery
codes (hashed), the firm's requirement and a matter's "sensitive" mark.

Revision ID: 0007_two_factor
Revises: 0006_account
Create Date: 2026-12-07 20:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_two_factor"
down_revision: str | Sequence[str] | None = "0006_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "two_factor",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_two_factor_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_two_factor")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_recovery_codes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_recovery_codes_account_id"), "recovery_codes", ["account_id"], unique=False
    )
    with op.batch_alter_table("portal_firm") as batch:
        batch.add_column(
            sa.Column(
                "two_factor_required", sa.String(length=20), server_default="off", nullable=False
            )
        )
    with op.batch_alter_table("portal_matters") as batch:
        batch.add_column(
            sa.Column("sensitive", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_matters") as batch:
        batch.drop_column("sensitive")
    with op.batch_alter_table("portal_firm") as batch:
        batch.drop_column("two_factor_required")
    op.drop_index(op.f("ix_recovery_codes_account_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("two_factor")

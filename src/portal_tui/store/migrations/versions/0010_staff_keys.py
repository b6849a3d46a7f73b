"""Staff users' SSH public keys, for the built-in SSH door (`portal-tui ssh-serve`): each key
lets its holder in as one staff user.

Revision ID: 0010_staff_keys
Revises: 0009_sensitive_matters
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_staff_keys"
down_revision = "0009_sensitive_matters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("comment", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_staff_keys_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_keys")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_staff_keys_fingerprint")),
    )
    op.create_index(op.f("ix_staff_keys_staff_id"), "staff_keys", ["staff_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_keys_staff_id"), table_name="staff_keys")
    op.drop_table("staff_keys")

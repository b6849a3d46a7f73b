"""A matter's responsible staff user, and an invoice's own PDF as the firm issued it.

Added in place (ALTER TABLE ADD COLUMN), never by recreating a table: SQLite's batch mode
would drop the search triggers of 0004 with it.

Revision ID: 0007_responsible_pdf
Revises: 0006_firm_refs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_responsible_pdf"
down_revision = "0006_firm_refs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "matters",
            sa.Column(
                "responsible_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True
            ),
        )
    else:
        # Alembic will not add a constraint on SQLite, but SQLite itself takes REFERENCES in
        # ADD COLUMN when the column defaults to NULL.
        op.execute(
            "ALTER TABLE matters ADD COLUMN responsible_id INTEGER REFERENCES staff_users (id)"
        )
    op.add_column("invoices", sa.Column("pdf", sa.LargeBinary(), nullable=True))
    op.add_column("invoices", sa.Column("pdf_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("invoices", "pdf_sha256")
    op.drop_column("invoices", "pdf")
    op.drop_column("matters", "responsible_id")

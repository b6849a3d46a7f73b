"""An invoice's own PDF, as the firm issued it: the bytes the client downloads instead of the
PDF made from the invoice's lines, held while the invoice is shared with that PDF.

Revision ID: 0005_invoice_pdfs
Revises: 0004_one_time_links
Create Date: 2026-12-07 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_invoice_pdfs"
down_revision: str | Sequence[str] | None = "0004_one_time_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_pdfs",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_invoice_pdfs")),
    )


def downgrade() -> None:
    op.drop_table("invoice_pdfs")

"""The client's account page: how each client hears of new items (at once, a daily digest, or
only invitations and security notices), and what the list of signed-in sessions shows — the
device a session signed in from and, where the firm keeps it, its address.

Revision ID: 0006_account
Revises: 0005_invoice_pdfs
Create Date: 2026-12-07 20:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_account"
down_revision: str | Sequence[str] | None = "0005_invoice_pdfs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column(
                "email_preference", sa.String(length=12), nullable=False, server_default="instant"
            )
        )
    with op.batch_alter_table("client_sessions") as batch:
        batch.add_column(sa.Column("device", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("client_sessions") as batch:
        batch.drop_column("address")
        batch.drop_column("device")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("email_preference")

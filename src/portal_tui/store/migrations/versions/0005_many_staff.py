"""Several staff on one firm: an edit version on every row staff edit (crossing edits are
refused, never lost), the relay's lease owner on the outbox and its reset operation, and the
firm's identity.

Columns of the item tables are added in place (ALTER TABLE ADD COLUMN), never by recreating a
table: SQLite's batch mode would drop the search triggers of 0004 with the table. (The outbox
has none, so its CHECK of operations is changed in batch mode.)

Revision ID: 0005_many_staff
Revises: 0004_item_search
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005_many_staff"
down_revision = "0004_item_search"
branch_labels = None
depends_on = None

_OPS_BEFORE = ("publish", "revoke", "matter", "firm", "contact", "parties", "notify")
_OPS_AFTER = (*_OPS_BEFORE, "reset")


def _ops_check(values: tuple[str, ...]) -> str:
    return "op IN (" + ", ".join(f"'{v}'" for v in values) + ")"


EDITED = (
    "clients",
    "matters",
    "invoices",
    "events",
    "tasks",
    "notes",
    "documents",
    "messages",
    "intake_forms",
)


def upgrade() -> None:
    for table in EDITED:
        op.add_column(
            table,
            sa.Column("edit_version", sa.Integer(), nullable=False, server_default="1"),
        )
    # The outbox has no search triggers: SQLite may recreate it to change its CHECK.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch.drop_constraint(batch.f("ck_outbox_outbox_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbox_outbox_op"), _ops_check(_OPS_AFTER))
    op.create_index("ix_outbox_claimed_by", "outbox", ["claimed_by"])
    op.add_column("firm_settings", sa.Column("firm_uuid", sa.String(length=36), nullable=True))
    op.add_column(
        "firm_settings",
        sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="1"),
    )
    # A firm that already exists gets its identity now; a new one when it is set up.
    op.get_bind().execute(
        sa.text("UPDATE firm_settings SET firm_uuid = :id WHERE firm_uuid IS NULL"),
        {"id": str(uuid.uuid4())},
    )


def downgrade() -> None:
    # In place too (SQLite 3.35+ drops a column without recreating its table).
    op.drop_column("firm_settings", "epoch")
    op.drop_column("firm_settings", "firm_uuid")
    op.drop_index("ix_outbox_claimed_by", table_name="outbox")
    op.execute("DELETE FROM outbox WHERE op = 'reset'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(batch.f("ck_outbox_outbox_op"), type_="check")
        batch.create_check_constraint(batch.f("ck_outbox_outbox_op"), _ops_check(_OPS_BEFORE))
        batch.drop_column("claimed_by")
    for table in EDITED:
        op.drop_column(table, "edit_version")

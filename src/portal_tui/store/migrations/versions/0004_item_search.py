"""Filter-as-you-type indexes: an FTS5 trigram index over the text each item list searches.

SQLite only (PostgreSQL keeps its LIKE scans; pg_trgm would be its equivalent). Each index is
an external-content FTS5 table kept in step with its item table by triggers, so it holds no
second copy of the text. A later revision that recreates one of these item tables (SQLite batch
mode copies and drops the table) drops its triggers with it and must create them again.

Revision ID: 0004_item_search
Revises: 0003_outbox_batch_index
"""

from __future__ import annotations

from alembic import op

revision = "0004_item_search"
down_revision = "0003_outbox_batch_index"
branch_labels = None
depends_on = None

# item table -> the columns its list's filter searches in the item itself
SEARCHED = {
    "invoices": ("number",),
    "events": ("title", "location"),
    "tasks": ("title",),
    "notes": ("subject", "body"),
    "documents": ("name",),
    "messages": ("subject", "body", "author_name"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in SEARCHED.items():
        index = f"search_{table}"
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {index} USING fts5({cols}, content='{table}', "
            "content_rowid='id', tokenize='trigram', detail='none')"
        )
        op.execute(
            f"CREATE TRIGGER {index}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {index}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {index}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {index}({index}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {index}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {index}({index}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {index}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(f"INSERT INTO {index}({index}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in SEARCHED:
        index = f"search_{table}"
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {index}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {index}")

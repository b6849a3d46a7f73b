"""Fixtures for the seed tests: a comparable dump of a firm database, for "same seed, same
data".

Columns the repository stamps with the clock ("now") or that name a folder on this machine are
left out; everything else, ids included, must match row for row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table, select

from portal_tui.database import Database
from portal_tui.store.models import Base

# The clock's columns, linked_path, which names the test's own temporary folder, and the
# firm's identity, which is every firm's own (two seeded databases are two firms to a portal).
VOLATILE = frozenset(
    {
        "firm_uuid",
        "created_at",
        "sent_at",
        "invited_at",
        "shared_at",
        "unshared_at",
        "updated_at",
        "linked_path",
    }
)
# The trail and the outbox are full of "now" and random keys; their shape is checked apart.
SKIPPED = frozenset({"audit_trail", "outbox", "sync_state", "alembic_version"})


def dump(url: str, *, tables: frozenset[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    db = Database(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with db.reader.connect() as conn:
            for table in Base.metadata.sorted_tables:
                assert isinstance(table, Table)
                if table.name in SKIPPED or (tables is not None and table.name not in tables):
                    continue
                columns = [c for c in table.columns if c.name not in VOLATILE]
                order = list(table.primary_key.columns)
                rows = conn.execute(select(*columns).order_by(*order)).all()
                out[table.name] = [tuple(r) for r in rows]
    finally:
        db.dispose()
    return out


Dump = Callable[[str], dict[str, list[tuple[Any, ...]]]]


@pytest.fixture
def dump_db() -> Dump:
    """`dump_db(url)`: every table but the trail and outbox, without clock columns."""
    return dump

"""Filter as you type over a million rows, on SQLite.

A list's filter is `LIKE '%text%'` over a few columns, read in the list's order. When the text
is common that scan stops after a window of matches and is quick; when it is rare it reads the
whole table (a second or more at a million rows). For text of three characters or more this
module first asks the trigram indexes (migration 0004) how many items match: if only a few do,
the list is read from those ids alone; if many do, the ordered scan is the quick plan after
all. Either way the rows shown are the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, text
from sqlalchemy.orm import Session

from portal_tui.domain.kinds import ItemKind
from portal_tui.store.models import Client, Folder, Matter

from .paging import like_pattern
from .share_rows import MODEL_OF

# kind -> (its trigram index, the item's own columns that index covers)
SEARCH_INDEXES: dict[ItemKind, tuple[str, tuple[str, ...]]] = {
    ItemKind.INVOICE: ("search_invoices", ("number",)),
    ItemKind.EVENT: ("search_events", ("title", "location")),
    ItemKind.TASK: ("search_tasks", ("title",)),
    ItemKind.NOTE: ("search_notes", ("subject", "body")),
    ItemKind.DOCUMENT: ("search_documents", ("name",)),
    ItemKind.MESSAGE: ("search_messages", ("subject", "body", "author_name")),
}

# Above this many matching items the ordered scan finds a window of them quickly; below it,
# reading the matches by id and sorting them is quicker.
FEW_ITEMS = 4000
# Matters (or folders) whose number or client matched: each carries its items into the list.
FEW_PARENTS = 40
MIN_CHARS = 3  # a trigram index answers nothing shorter


def indexed_filter(s: Session, kind: ItemKind, typed: str) -> ColumnElement[bool] | None:
    """A condition equal to the list's LIKE filter for `typed`, driven by the trigram index —
    or None when the plain ordered scan is the better plan (or there is no index)."""
    if kind not in SEARCH_INDEXES or s.bind is None or s.bind.dialect.name != "sqlite":
        return None
    if len(typed) < MIN_CHARS or any(c in typed for c in "%_\\"):
        return None
    index, columns = SEARCH_INDEXES[kind]
    pattern = f"%{typed}%"
    # One LIKE per column, each answered by the index (an OR of them would scan it).
    union = " UNION ".join(f"SELECT rowid FROM {index} WHERE {c} LIKE :p" for c in columns)
    ids = s.scalars(text(f"{union} LIMIT :cap"), {"p": pattern, "cap": FEW_ITEMS + 1}).all()
    if len(ids) > FEW_ITEMS:
        return None
    parents = _parents(s, kind, typed)
    if parents is None:
        return None
    model: Any = MODEL_OF[kind]
    terms: list[ColumnElement[bool]] = []
    if ids:
        terms.append(model.id.in_(ids))
    if parents:
        parent = model.folder_id if kind is ItemKind.DOCUMENT else model.matter_id
        terms.append(parent.in_(parents))
    return or_(*terms) if terms else false()


def _parents(s: Session, kind: ItemKind, typed: str) -> list[int] | None:
    """The matters (folders, for documents) the filter also matches by their own text: a
    matter's number, and for invoices its client's name. None when there are too many."""
    pattern = like_pattern(typed)
    if kind is ItemKind.DOCUMENT:
        stmt = select(Folder.id).where(Folder.name.ilike(pattern, escape="\\"))
    elif kind is ItemKind.INVOICE:
        stmt = (
            select(Matter.id)
            .join(Client, Client.id == Matter.client_id)
            .where(
                or_(
                    Matter.number.ilike(pattern, escape="\\"),
                    Client.name.ilike(pattern, escape="\\"),
                )
            )
        )
    else:
        stmt = select(Matter.id).where(Matter.number.ilike(pattern, escape="\\"))
    found = s.scalars(stmt.limit(FEW_PARENTS + 1)).all()
    return None if len(found) > FEW_PARENTS else list(found)

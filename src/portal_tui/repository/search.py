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

from sqlalchemy import ColumnElement, String, and_, cast, false, or_, select, text
from sqlalchemy.orm import Session

from portal_tui.domain.filter_words import RowWord, looks_like_a_date, row_words
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import InvoiceStatus, ShareState
from portal_tui.store.models import Client, Folder, Invoice, Matter, ShareMark, Task

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


def word_filter(
    s: Session, kind: ItemKind, word: str, searched: tuple[Any, ...]
) -> ColumnElement[bool]:
    """What one word of a filter matches in a list of `kind`: the text of the row's columns
    (through the trigram index where it helps), the state words the row shows ("Draft",
    "Done", "not shared"), and the dates it shows, as shown (2026-02-05)."""
    fast = indexed_filter(s, kind, word)
    pattern = like_pattern(word)
    matched = fast if fast is not None else or_(*(c.ilike(pattern, escape="\\") for c in searched))
    extra = [_state(state) for state in row_words(kind, word)]
    if looks_like_a_date(word):
        extra += [cast(c, String).like(pattern, escape="\\") for c in _DATES.get(kind, ())]
    return or_(matched, *extra) if extra else matched


# The dates a list shows as days (YYYY-MM-DD, the same text on both engines); times are shown
# in the viewer's zone, so they are not compared as text.
_DATES: dict[ItemKind, tuple[Any, ...]] = {
    ItemKind.INVOICE: (Invoice.issued_on, Invoice.due_on),
    ItemKind.TASK: (Task.due_on,),
}


def _state(word: RowWord) -> ColumnElement[bool]:
    # The share conditions read the list's outer-joined ShareMark, as its icon does
    # (tui/common/glyphs.py Glyphs.share): failed and waiting whichever way they go.
    waiting = (ShareState.PENDING, ShareState.FAILED)
    conditions: dict[RowWord, ColumnElement[bool]] = {
        RowWord.DRAFT: Invoice.status == InvoiceStatus.DRAFT,
        RowWord.FINAL: Invoice.status == InvoiceStatus.FINAL,
        RowWord.PAID: and_(Invoice.total_cents > 0, Invoice.paid_cents >= Invoice.total_cents),
        RowWord.OPEN: Task.done.is_(False),
        RowWord.DONE: Task.done.is_(True),
        RowWord.SHARED: and_(ShareMark.wanted.is_(True), ShareMark.state == ShareState.SHARED),
        RowWord.PENDING: ShareMark.state == ShareState.PENDING,
        RowWord.FAILED: ShareMark.state == ShareState.FAILED,
        RowWord.NOT_SHARED: or_(
            ShareMark.wanted.is_(None),
            and_(ShareMark.wanted.is_(False), ShareMark.state.not_in(waiting)),
        ),
    }
    return conditions[word]

"""Keyset paging: every list is read a window at a time by (sort value, id), never by OFFSET,
so the thousandth page costs what the first does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session

from portal_tui.domain.records import Key, Page

RowT = TypeVar("RowT")

# Statements and rows of any shape (SQLAlchemy 2.1 types them by their columns).
AnySelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]

# A sort or search column: a mapped attribute or any SQL expression.
Column = ColumnElement[Any] | QueryableAttribute[Any]

MAX_LIMIT = 1000


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the user's % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def keyset_page(
    s: Session,
    stmt: AnySelect,
    sort: Column,
    ident: Column,
    to_row: Callable[[AnyRow], RowT],
    *,
    descending: bool,
    after: Key | None,
    before: Key | None,
    limit: int,
) -> Page[RowT]:
    """One window of `stmt` in display order, after or before a key (or from the start)."""
    if after is not None and before is not None:
        raise ValueError("page after a key or before one, not both")
    limit = max(1, min(limit, MAX_LIMIT))
    backwards = before is not None
    # Walking backwards reads the display order reversed, then turns the window round.
    reverse = descending != backwards
    pair = tuple_(sort, ident)
    if after is not None:
        stmt = stmt.where(pair < tuple_(*after) if descending else pair > tuple_(*after))
    if before is not None:
        stmt = stmt.where(pair > tuple_(*before) if descending else pair < tuple_(*before))
    order = (sort.desc(), ident.desc()) if reverse else (sort.asc(), ident.asc())
    fetched: Sequence[AnyRow] = s.execute(stmt.order_by(*order).limit(limit + 1)).all()
    more = len(fetched) > limit
    window = list(fetched[:limit])
    if backwards:
        window.reverse()
        return Page(tuple(to_row(r) for r in window), more_before=more, more_after=True)
    return Page(tuple(to_row(r) for r in window), more_before=after is not None, more_after=more)

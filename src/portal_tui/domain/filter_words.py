"""What a list's filter matches besides the text of its rows: the words a row shows for its
state. A user types what they see — "Draft", "Final", "Paid", "Open", "Done", "shared",
"pending", "failed", "not shared" — and several words narrow the list (each must match).

A state word matches when the word the user typed begins it ("dr" is Draft, as "Draft" is
typed a key at a time); "not shared" (or "unshared") is one phrase, so "not shared" is not
"not" and "shared" both at once."""

from __future__ import annotations

import re
from enum import StrEnum

from .kinds import ItemKind


class RowWord(StrEnum):
    """A state a row shows in words (its status, its share icon's meaning)."""

    DRAFT = "draft"
    FINAL = "final"
    PAID = "paid"
    OPEN = "open"
    DONE = "done"
    SHARED = "shared"
    PENDING = "pending"
    FAILED = "failed"
    NOT_SHARED = "not shared"


# The words each state is typed as; the first is the one shown.
SPELLINGS: dict[RowWord, tuple[str, ...]] = {
    RowWord.DRAFT: ("draft",),
    RowWord.FINAL: ("final",),
    RowWord.PAID: ("paid",),
    RowWord.OPEN: ("open",),
    RowWord.DONE: ("done",),
    RowWord.SHARED: ("shared",),
    RowWord.PENDING: ("pending", "waiting"),
    RowWord.FAILED: ("failed",),
    RowWord.NOT_SHARED: ("not shared", "notshared", "unshared"),
}

_SHARE_WORDS = (RowWord.SHARED, RowWord.PENDING, RowWord.FAILED, RowWord.NOT_SHARED)
WORDS_OF: dict[ItemKind, tuple[RowWord, ...]] = {
    ItemKind.INVOICE: (RowWord.DRAFT, RowWord.FINAL, RowWord.PAID, *_SHARE_WORDS),
    ItemKind.TASK: (RowWord.OPEN, RowWord.DONE, *_SHARE_WORDS),
    ItemKind.EVENT: _SHARE_WORDS,
    ItemKind.NOTE: _SHARE_WORDS,
    ItemKind.DOCUMENT: _SHARE_WORDS,
    ItemKind.MESSAGE: _SHARE_WORDS,
    ItemKind.FORM: _SHARE_WORDS,
}

_NOT_SHARED = re.compile(r"\bnot\s+shared\b", re.IGNORECASE)
# A state word is only a state when at least this much of it is typed: "d" alone is text.
MIN_PREFIX = 2


def filter_words(typed: str) -> list[str]:
    """The words of a filter, each of which a row must match; "not shared" stays one."""
    joined = _NOT_SHARED.sub("notshared", typed)
    return [word for word in joined.split() if word]


def row_words(kind: ItemKind, word: str) -> list[RowWord]:
    """The states of `kind` that `word` (one of filter_words) names."""
    typed = word.casefold()
    if len(typed) < MIN_PREFIX:
        return []
    return [
        state
        for state in WORDS_OF.get(kind, ())
        if any(spelling.startswith(typed) for spelling in SPELLINGS[state])
    ]


def looks_like_a_date(word: str) -> bool:
    """Digits with - or / between them, as dates are shown (2026-02-05): worth comparing to
    a row's dates as text."""
    return bool(re.fullmatch(r"\d{2,4}([-/]\d{1,2}){0,2}[-/]?", word)) and any(
        c.isdigit() for c in word
    )

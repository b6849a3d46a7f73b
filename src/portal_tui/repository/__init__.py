"""The one door to firm data: queries that return domain types, and commands that enforce the
rules of docs/rules.md, write the audit trail and the outbox.

The names below load on first use (PEP 562), so that `portal_tui.repository.first_page` — the
app's first screen, read with the standard library's sqlite3 — can be imported without
SQLAlchemy and the models (cold start to the first matter row <= 2.5x a bare Textual app).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import SYSTEM, Actor
    from .facade import Repository
    from .items import CLIENT_PORTAL_FOLDER

_HOMES = {
    "CLIENT_PORTAL_FOLDER": ".items",
    "SYSTEM": ".base",
    "Actor": ".base",
    "Repository": ".facade",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = ["CLIENT_PORTAL_FOLDER", "SYSTEM", "Actor", "Repository"]

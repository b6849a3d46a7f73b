"""The Undo a toast offers after a share or unshare (S8): one per app, the latest share's,
live for S8_UNDO_SECONDS. The list's Undo key is offered (footer, `?`) only while it is live;
when the time is up the bindings are refreshed, so the key leaves the footer by itself."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from portal_tui.domain import rules

if TYPE_CHECKING:
    from textual.app import App

    from portal_tui.domain.kinds import ItemKind

UNDO_BINDING = "items.undo"
UNDO_KEY = "u"


@dataclass(frozen=True, slots=True)
class UndoOffer:
    undo_key: str  # the repository's name for the held outbox row (Held.undo_key)
    kind: ItemKind
    item_id: int
    ends_at: float  # time.monotonic()

    def live(self) -> bool:
        return time.monotonic() < self.ends_at


_OFFERS: WeakKeyDictionary[App[Any], UndoOffer] = WeakKeyDictionary()


def offer(app: App[Any], undo_key: str, kind: ItemKind, item_id: int) -> None:
    """Offer Undo for this share from now on, in place of any earlier one."""
    made = UndoOffer(undo_key, kind, item_id, time.monotonic() + rules.S8_UNDO_SECONDS)
    _OFFERS[app] = made

    def ended() -> None:
        if _OFFERS.get(app) is made:
            del _OFFERS[app]
        app.screen.refresh_bindings()

    app.set_timer(rules.S8_UNDO_SECONDS, ended)
    app.screen.refresh_bindings()


def current(app: App[Any]) -> UndoOffer | None:
    made = _OFFERS.get(app)
    return made if made is not None and made.live() else None


def take(app: App[Any]) -> UndoOffer | None:
    """The live offer, now used (a second press has nothing left to undo)."""
    made = current(app)
    _OFFERS.pop(app, None)
    app.screen.refresh_bindings()
    return made


def key_label(app: App[Any]) -> str:
    """The Undo key as the footer shows it, the keymap's if it moved it."""
    from ..keymap import key_text

    keymap: dict[str, str] = getattr(app, "keymap", {}) or {}
    return key_text(keymap.get(UNDO_BINDING, UNDO_KEY).split(",")[0])

"""The words a share is offered and counted in, the same on every list and box."""

from __future__ import annotations

from typing import Any

from portal_tui.domain import texts
from portal_tui.domain.kinds import ItemKind


def share_action_label(kind: ItemKind, row: Any) -> str:
    shared = bool(getattr(getattr(row, "share", None), "wanted", False))
    if kind is ItemKind.DOCUMENT:
        return "Unshare" if shared else "Share"
    return texts.UNSHARE_VIA_PORTAL if shared else texts.SHARE_VIA_PORTAL


def items_word(count: int) -> str:
    return "item" if count == 1 else "items"

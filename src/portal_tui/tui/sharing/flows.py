"""The sharing flows of the help article (docs/rules.md), one place for every screen that
offers them: the same questions, the same message boxes, the same words (S1, S3, S6, R1)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NeedsConfirmation, NotFound, Refused
from portal_tui.domain.kinds import ItemKind

from ..common import undo_offer
from ..common.context import staff_context
from ..common.modals import Confirm, Notice

if TYPE_CHECKING:
    from textual.app import App

SHARE_TITLE = texts.SHARE_VIA_PORTAL  # the seed's message boxes are titled after the action
UNSHARE_TITLE = texts.UNSHARE_VIA_PORTAL


async def undo_last(app: App[Any]) -> tuple[str, ItemKind, Any] | None:
    """S8: take back the share or unshare the toast offers Undo for; returns what was said,
    and the item's kind and fresh row; None if there was nothing to undo or it was too late
    (which is shown)."""
    made = undo_offer.take(app)
    if made is None:
        return None
    repo = staff_context(app).repo
    try:
        said = await asyncio.to_thread(repo.undo, made.undo_key)
    except Refused as refused:
        app.notify(refused.message, title=texts.UNDO_TITLE, severity="warning")
        return None
    app.notify(said, title=texts.UNDO_TITLE)
    return said, made.kind, await asyncio.to_thread(repo.item_row, made.kind, made.item_id)


async def share_or_unshare(app: App[Any], kind: ItemKind, row: Any) -> Any | None:
    """Share the item, or unshare it if shared; returns its fresh row, or None if nothing
    changed (the user said No, or a rule refused, which was shown)."""
    staff = staff_context(app)
    repo = staff.repo
    shared = bool(row.share.wanted)
    title = UNSHARE_TITLE if shared else SHARE_TITLE
    try:
        if kind is ItemKind.DOCUMENT:
            title = texts.SHARE_FILE_TITLE
            question = texts.UNSHARE_FILE_CONFIRM if shared else texts.SHARE_FILE_CONFIRM
            if not await app.push_screen_wait(Confirm(title, question)):
                return None
        undo_key: str | None = None
        if shared:
            held = await asyncio.to_thread(repo.unshare_held, kind, row.id)
            message, undo_key = held.message, held.undo_key
        elif kind is not ItemKind.INVOICE:
            # S8: no box of the seed confirms this share, so a toast does, with Undo.
            held = await asyncio.to_thread(repo.share_held, kind, row.id)
            message, undo_key = held.message, held.undo_key
        else:
            try:
                message = await asyncio.to_thread(repo.share, kind, row.id)
            except NeedsConfirmation as asked:
                # S1: a Draft invoice is marked Final once shared; Yes must be said first.
                if not await app.push_screen_wait(Confirm(title, asked.question)):
                    return None
                message = await asyncio.to_thread(repo.share, kind, row.id, confirmed=True)
    except Refused as refused:
        await app.push_screen_wait(Notice(title, refused.message, error=True))
        return None
    except NotFound as gone:
        await app.push_screen_wait(Notice(title, str(gone), error=True))
        return None
    staff.wake_delivery()
    if kind is ItemKind.INVOICE and not shared:
        # S1: "Invoice has been shared successfully." — OK closes it, then the icon shows.
        await app.push_screen_wait(Notice(title, message))
    elif undo_key is not None:
        # S8: the toast says what was done and offers Undo for as long as it is shown.
        undo_offer.offer(app, undo_key, kind, row.id)
        hint = texts.UNDO_KEY_HINT.format(key=undo_offer.key_label(app))
        app.notify(f"{message}\n{hint}", title=title, timeout=rules.S8_UNDO_SECONDS)
    else:
        app.notify(message, title=title, timeout=4)
    # Read after the box is closed: delivery often lands while it is open, and the row must
    # show that, not what it was before.
    return await asyncio.to_thread(repo.item_row, kind, row.id)

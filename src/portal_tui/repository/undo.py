"""Undo of a share or unshare (S8): the seed has no message box for most of them, so the app
confirms them with a toast that offers Undo for UNDO_WINDOW, and an Undo in time sends nothing.

The share's outbox row is held (`deliver_after`) for that long; no relay claims it before,
and a claim clears the hold. An Undo locks the row (FOR UPDATE on PostgreSQL, so a relay's
SKIP LOCKED claim passes it by; SQLite has one writer at a time) and deletes it only while it
is still pending, unclaimed and held, putting the item's share mark back as it was, in one
transaction. So between a relay and an Undo exactly one wins: the row is delivered, or it is
undone, never both and never neither. An Undo that comes too late is refused and changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import OutboxState, ShareState
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import AuditEntry, OutboxEntry, ShareMark

from .base import Context, Service
from .share_rows import audit_values, mark_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .share_rows import ItemModel

# How long a held share waits for an Undo (the toast shows the key as long).
UNDO_WINDOW = timedelta(seconds=rules.S8_UNDO_SECONDS)

_TIMES = ("shared_at", "unshared_at")
_PLAIN = ("wanted", "version", "shared_by_id", "unshared_by_id", "last_error")


@dataclass(frozen=True, slots=True)
class Held:
    """What a held share or unshare said, and the key an Undo names its outbox row by (the
    row's idempotency key: SQLite may give a deleted row's id to the next row, a key is never
    reused). None: this one cannot be undone, such as an invoice share, which the seed
    confirms with a box."""

    message: str
    undo_key: str | None


def held_mark(mark: ShareMark | None) -> dict[str, Any]:
    """The share mark as it is, as JSON, for an Undo to put back ({}: the item had none)."""
    if mark is None:
        return {}
    kept: dict[str, Any] = {name: getattr(mark, name) for name in _PLAIN}
    kept["state"] = mark.state.value
    for name in _TIMES:
        at: datetime | None = getattr(mark, name)
        kept[name] = at.isoformat() if at is not None else None
    return kept


def _restore(s: Session, mark: ShareMark, kept: dict[str, Any]) -> None:
    if not kept:  # a first share: the item had no mark at all
        s.delete(mark)
        return
    for name in _PLAIN:
        setattr(mark, name, kept[name])
    mark.state = ShareState(kept["state"])
    for name in _TIMES:
        value = kept[name]
        setattr(mark, name, datetime.fromisoformat(value) if value is not None else None)


class _Locks(Protocol):
    """The part of SharingService an Undo uses (named here: sharing imports this module)."""

    def lock(self, s: Session, kind: ItemKind, item_id: int) -> ItemModel: ...


class UndoService(Service):
    def __init__(self, ctx: Context, sharing: _Locks) -> None:
        super().__init__(ctx)
        self._sharing = sharing

    def undo(self, undo_key: str) -> str:
        """Take back the held share or unshare `Held.undo_key` names; raises Refused (S8)
        when it is too late (a relay has claimed or delivered it)."""
        with self.db.write() as s:
            stmt = select(OutboxEntry).where(OutboxEntry.idempotency_key == undo_key)
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update()
            row = s.scalars(stmt.execution_options(populate_existing=True)).one_or_none()
            if (
                row is None
                or row.state is not OutboxState.PENDING
                or row.claimed_by is not None
                or row.deliver_after is None
                or row.held_mark is None
                or row.kind is None
                or row.item_id is None
            ):
                raise Refused("S8", texts.UNDO_TOO_LATE)
            kind = ItemKind(row.kind)
            self._sharing.lock(s, kind, row.item_id)
            mark = mark_of(s, kind, row.item_id)
            if mark is None or mark.version != row.version:
                # A newer share or unshare of the item came after: that one stands.
                raise Refused("S8", texts.UNDO_TOO_LATE)
            before = {"state": mark.state, "wanted": mark.wanted, "version": mark.version}
            _restore(s, mark, row.held_mark)
            s.delete(row)
            after = row.held_mark or {"state": None}
            s.add(
                AuditEntry(
                    **audit_values(
                        self.ctx.actor,
                        "undo",
                        kind=kind,
                        item_id=row.item_id,
                        matter_id=mark.matter_id,
                        before=before,
                        after={"state": after.get("state"), "version": after.get("version")},
                        now=utcnow(),
                    )
                )
            )
            return texts.ITEM_UNDONE.format(label=kind.label)

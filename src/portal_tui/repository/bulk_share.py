"""Bulk share and unshare, set-based: 10,000 marked items enqueued within a second.

One transaction, three steps. Read what the rules and the portal's copies need for every item
in a few queries (ids in chunks, IN lists well under any backend's limit on bound parameters),
as plain rows rather than ORM objects. Decide each item in order with the rules and row builders
of share_rows.py, which the one-by-one path uses too, keeping the share marks in memory (the
same item twice is refused the second time, as one by one). Then write everything with Core
executemany: invoices marked Final, share marks inserted or updated, outbox rows, audit entries
— the same column values, in the same order, as `share`/`unshare` item after item would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import fields
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Conflict, NeedsConfirmation, NotFound, Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import InvoiceLineRow
from portal_tui.domain.rules import FirmPortal, MatterPortal
from portal_tui.domain.states import InvoiceStatus, OutboxState, PartyAccess
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    AuditEntry,
    Base,
    Folder,
    Invoice,
    InvoiceLine,
    Matter,
    MatterParty,
    OutboxEntry,
    ShareMark,
)

from .base import Actor, Context, firm_portal, matter_portal_of
from .share_rows import (
    HOLD,
    IN_CHUNK,
    MODEL_OF,
    NEW_MARK,
    SNAPSHOT_FIELDS,
    MarkValues,
    check_not_shared,
    check_share_rules,
    check_shared,
    finalise_audit,
    line_row,
    must_finalise,
    new_batch,
    publish_rows,
    revoke_rows,
    snapshot_data,
)

_T = TypeVar("_T")

Key = tuple[ItemKind, int]
Refusal = tuple[ItemKind, int, str]

# Columns of an item beyond its copy's fields that the rules or the copy need.
_EXTRA_COLUMNS: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.DOCUMENT: ("folder_id",),
    ItemKind.FORM: ("rule",),
}
_MARK_COLUMNS = tuple(f.name for f in fields(MarkValues) if f.name != "read_version")
# What a share or unshare changes on a mark already in the database.
_MARK_CHANGES = (
    "wanted",
    "state",
    "version",
    "last_error",
    "shared_by_id",
    "shared_at",
    "unshared_by_id",
    "unshared_at",
)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def share_many(
    ctx: Context,
    items: list[Key],
    *,
    share: bool,
    confirmed: bool,
    batch: str | None,
    hold: bool,
) -> tuple[int, list[Refusal]]:
    """`SharingService.share_many` (see there): how many changed, and each refusal."""
    batch = batch or new_batch()
    with ctx.db.write() as s:
        bulk = _Bulk(ctx, s, items, share=share)
        for kind, item_id in items:
            try:
                if share:
                    bulk.share(kind, item_id, confirmed=confirmed, batch=batch)
                else:
                    bulk.unshare(kind, item_id, batch=batch)
            except (Refused, NeedsConfirmation, NotFound) as exc:
                bulk.refused.append((kind, item_id, str(exc)))
        bulk.write(s.connection())
        _hold_or_release(s, batch, hold=hold)
    return bulk.done, bulk.refused


def _hold_or_release(s: Session, batch: str, *, hold: bool) -> None:
    """Hold the batch's waiting rows (this call's and earlier chunks') for HOLD, or release
    every row an earlier chunk held."""
    now = utcnow()
    waiting = (
        update(OutboxEntry)
        .where(OutboxEntry.batch == batch, OutboxEntry.state == OutboxState.PENDING)
        .where(OutboxEntry.attempts == 0)
    )
    if hold:
        s.execute(waiting.values(next_attempt_at=now + HOLD))
    else:
        s.execute(waiting.where(OutboxEntry.next_attempt_at > now).values(next_attempt_at=now))


class _Bulk:
    """One bulk's reads, decisions and rows to write."""

    def __init__(self, ctx: Context, s: Session, items: list[Key], *, share: bool) -> None:
        self.done = 0
        self.refused: list[Refusal] = []
        self.outbox: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.finalised: list[int] = []
        self.changed: dict[Key, MarkValues] = {}
        self.checked: dict[tuple[ItemKind, int | None, object], Exception | None] = {}
        # One by one, an actor that cannot be resolved refuses every item that exists.
        self.actor: Actor | Refused
        try:
            self.actor = ctx.actor
        except Refused as exc:
            self.actor = exc
        by_kind: dict[ItemKind, list[int]] = defaultdict(list)
        # Locked in the one order every locker uses (kind, then id: SharingService.lock_many),
        # so a bulk and another staff member's bulk or share cannot deadlock.
        for kind, item_id in sorted(set(items), key=lambda key: (key[0].value, key[1])):
            by_kind[kind].append(item_id)
        self.items: dict[Key, SimpleNamespace] = {}
        self.marks: dict[Key, MarkValues] = {}
        for kind, ids in by_kind.items():
            self._read_items(s, kind, ids, share=share)
            self._read_marks(s, kind, ids)
        # What only a share of items that exist needs (the firm is read once for all).
        self.portals: dict[int, MatterPortal] = {}
        self.lines: dict[int, list[InvoiceLineRow]] = {}
        self.folders: dict[int, str] = {}
        self.access: dict[int, PartyAccess] = {}
        if not share or not self.items:
            return
        self.firm: FirmPortal = firm_portal(s)
        self.portals = {
            m.id: matter_portal_of(m)
            for part in _chunks(sorted({o.matter_id for o in self.items.values()} - {None}))
            for m in s.scalars(select(Matter).where(Matter.id.in_(part)))
        }
        self.lines = self._read_lines(s, by_kind.get(ItemKind.INVOICE, []))
        self.folders = self._read_folders(s)
        self.access = self._read_access(s)

    # Reading --------------------------------------------------------------------------------

    def _read_items(self, s: Session, kind: ItemKind, ids: list[int], *, share: bool) -> None:
        """An item's fields as plain values, its row locked as SharingService.lock locks one:
        the marks read next are the latest, and stay so until this bulk commits. An unshare
        needs only to know it exists."""
        table = _table(MODEL_OF[kind])
        names = ("id", "matter_id", *SNAPSHOT_FIELDS[kind], *_EXTRA_COLUMNS.get(kind, ()))
        columns = [table.c[n] for n in (names if share else ("id",))]
        for part in _chunks(ids):
            stmt = select(*columns).where(table.c.id.in_(part)).order_by(table.c.id)
            for row in s.execute(stmt.with_for_update()):
                self.items[(kind, row.id)] = SimpleNamespace(**row._mapping)

    def _read_marks(self, s: Session, kind: ItemKind, ids: list[int]) -> None:
        table = _table(ShareMark)
        columns = [table.c[n] for n in _MARK_COLUMNS]
        for part in _chunks(ids):
            stmt = select(*columns).where(table.c.kind == kind, table.c.item_id.in_(part))
            for row in s.execute(stmt):
                self.marks[(kind, row.item_id)] = MarkValues(**row._mapping)

    def _read_lines(self, s: Session, invoice_ids: list[int]) -> dict[int, list[InvoiceLineRow]]:
        lines: dict[int, list[InvoiceLineRow]] = defaultdict(list)
        table = _table(InvoiceLine)
        names = ("invoice_id", "description", "quantity_milli", "rate_cents", "amount_cents")
        columns = [table.c[n] for n in names]
        for part in _chunks(invoice_ids):
            stmt = (
                select(*columns)
                .where(table.c.invoice_id.in_(part))
                .order_by(table.c.invoice_id, table.c.position)
            )
            for row in s.execute(stmt):
                lines[row.invoice_id].append(line_row(row))
        return lines

    def _read_folders(self, s: Session) -> dict[int, str]:
        ids = sorted({o.folder_id for (k, _), o in self.items.items() if k is ItemKind.DOCUMENT})
        return {
            folder_id: name
            for part in _chunks(ids)
            for folder_id, name in s.execute(
                select(Folder.id, Folder.name).where(Folder.id.in_(part))
            )
        }

    def _read_access(self, s: Session) -> dict[int, PartyAccess]:
        """The acting user's access to the messages of the bulk's messages' matters (M5)."""
        if isinstance(self.actor, Refused) or self.actor.staff_id is None:
            return {}
        matters = sorted({o.matter_id for (k, _), o in self.items.items() if k is ItemKind.MESSAGE})
        return {
            matter_id: access
            for part in _chunks(matters)
            for matter_id, access in s.execute(
                select(MatterParty.matter_id, MatterParty.access).where(
                    MatterParty.staff_id == self.actor.staff_id, MatterParty.matter_id.in_(part)
                )
            )
        }

    # Deciding, item by item ------------------------------------------------------------------

    def _item(self, kind: ItemKind, item_id: int) -> tuple[SimpleNamespace, Actor]:
        """The item and the acting user, or why not: the one-by-one order (NotFound first)."""
        item = self.items.get((kind, item_id))
        if item is None:
            raise NotFound(f"No {kind.label} with id {item_id}.")
        if isinstance(self.actor, Refused):
            raise self.actor.with_traceback(None)
        return item, self.actor

    def _check_share(self, kind: ItemKind, item: SimpleNamespace, actor: Actor) -> int:
        """As SharingService.check_share, from what was read; returns the item's matter id. The
        rules depend on nothing but the kind and the matter (and a form's rule), so each
        answer is worked out once and then given again."""
        key = (kind, item.matter_id, getattr(item, "rule", None))
        if key not in self.checked:
            try:
                self._check_rules(kind, item, actor)
                self.checked[key] = None
            except (Refused, NotFound) as exc:
                self.checked[key] = exc
        refusal = self.checked[key]
        if refusal is not None:
            raise refusal.with_traceback(None)  # else each raise would lengthen its traceback
        return int(item.matter_id)

    def _check_rules(self, kind: ItemKind, item: SimpleNamespace, actor: Actor) -> None:
        portal = self.portals.get(item.matter_id) if item.matter_id is not None else None
        if kind is ItemKind.FORM:
            check_share_rules(actor.role, kind, self.firm, portal, form_rule=item.rule)
            assert portal is not None
            return
        if portal is None:
            # A foreign key keeps this from happening; one by one it would read so.
            rules.r1_may_share(actor.role, kind).check()
            raise NotFound(f"No matter with id {item.matter_id}.")
        access = self.access.get(item.matter_id, PartyAccess.ALLOWED)
        check_share_rules(actor.role, kind, self.firm, portal, access=access)

    def share(self, kind: ItemKind, item_id: int, *, confirmed: bool, batch: str) -> None:
        item, actor = self._item(kind, item_id)
        matter_id = self._check_share(kind, item, actor)
        key = (kind, item_id)
        mark = self.marks.get(key)
        check_not_shared(kind, mark)
        now = utcnow()
        if kind is ItemKind.INVOICE and must_finalise(item.status, confirmed=confirmed):
            item.status = InvoiceStatus.FINAL
            self.finalised.append(item_id)
            self.audit.append(finalise_audit(actor, item_id, matter_id, now))
        if mark is None:
            mark = self.marks[key] = MarkValues(kind, item_id, matter_id, **NEW_MARK)
        data = snapshot_data(
            kind,
            item,
            lines=self.lines.get(item_id, ()),
            folder=self.folders.get(item.folder_id, "") if kind is ItemKind.DOCUMENT else "",
        )
        self._rows(
            mark,
            *publish_rows(
                actor,
                kind,
                item_id,
                mark,
                notify=self.firm.notify_new_items,
                data=data,
                batch=batch,
                action="share",
                now=now,
            ),
        )

    def unshare(self, kind: ItemKind, item_id: int, *, batch: str) -> None:
        _, actor = self._item(kind, item_id)
        mark = self.marks.get((kind, item_id))
        check_shared(actor.role, kind, mark)
        assert mark is not None
        self._rows(mark, *revoke_rows(actor, kind, item_id, mark, batch=batch, now=utcnow()))

    def _rows(self, mark: MarkValues, outbox: dict[str, Any], audit: dict[str, Any]) -> None:
        self.changed[(mark.kind, mark.item_id)] = mark
        self.outbox.append(outbox)
        self.audit.append(audit)
        self.done += 1

    # Writing --------------------------------------------------------------------------------

    def write(self, conn: Connection) -> None:
        invoices = _table(Invoice)
        for part in _chunks(self.finalised):
            # A versioned row, as the ORM writes it: an Edit screen open on it must learn.
            conn.execute(
                update(invoices)
                .where(invoices.c.id.in_(part))
                .values(status=InvoiceStatus.FINAL, edit_version=invoices.c.edit_version + 1)
            )
        marks = _table(ShareMark)
        order = sorted(self.changed.values(), key=lambda m: (m.kind.value, m.item_id))
        new = [m for m in order if m.id is None]
        old = [m for m in order if m.id is not None]
        if new:
            # Columns still None on every new mark are left to be NULL, as the ORM leaves them.
            columns = [c for c in _MARK_COLUMNS if any(getattr(m, c) is not None for m in new)]
            conn.execute(insert(marks), [{c: getattr(m, c) for c in columns} for m in new])
        if old:
            # Only where each mark still has the version read: the items' row locks keep it
            # so, and a path that forgot them would be refused here, not write a version twice.
            stmt = (
                update(marks)
                .where(
                    marks.c.id == bindparam("mark_id"),
                    marks.c.version == bindparam("read_version"),
                )
                .values({c: bindparam(f"new_{c}") for c in _MARK_CHANGES})
            )
            result = conn.execute(
                stmt,
                [
                    {
                        "mark_id": m.id,
                        "read_version": m.read_version,
                        **{f"new_{c}": getattr(m, c) for c in _MARK_CHANGES},
                    }
                    for m in old
                ],
            )
            if result.rowcount != len(old) and conn.dialect.supports_sane_multi_rowcount:
                raise Conflict(texts.CROSSED_CHANGE)
        if self.outbox:
            conn.execute(insert(_table(OutboxEntry)), self.outbox)
        if self.audit:
            conn.execute(insert(_table(AuditEntry)), self.audit)

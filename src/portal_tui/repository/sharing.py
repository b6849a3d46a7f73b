"""Share and unshare (S0-S6): one local transaction writes the share mark, the audit entry and
the outbox row together, so a share is never half-done and never lost. What a share decides and
writes is in share_rows.py, shared with the set-based bulk of bulk_share.py.

Several staff share the same items at once (PostgreSQL at READ COMMITTED): every command that
decides from an item's share mark first locks the item's row (`lock`), so the mark it then
reads is the latest, and no other share, unshare or edit of that item runs until it commits.
The other services that share or lock items (items, forms, resending) do it through this one.
A first share cannot insert a second mark, and no two versions of one item are ever the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NotFound
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import AuditRow, InvoiceLineRow, Share, ShareRecord
from portal_tui.domain.states import InvoiceStatus, PartyAccess
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    AuditEntry,
    Document,
    Folder,
    IntakeForm,
    Invoice,
    InvoiceLine,
    Matter,
    Message,
    OutboxEntry,
    ShareMark,
    StaffUser,
)

from .base import Service, firm_portal, get_row, matter_portal_of, party_access
from .bulk_share import share_many as bulk_share_many
from .share_rows import (
    IN_CHUNK,
    MODEL_OF,
    NEW_MARK,
    ItemModel,
    check_not_shared,
    check_share_rules,
    check_shared,
    finalise_audit,
    line_row,
    mark_of,
    must_finalise,
    new_batch,
    publish_rows,
    revoke_rows,
    share_of,
    snapshot_data,
)
from .undo import UNDO_WINDOW, Held, held_mark


def invoice_line_rows(s: Session, invoice_id: int) -> list[InvoiceLineRow]:
    lines = s.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )
    return [line_row(ln) for ln in lines]


def snapshot(s: Session, kind: ItemKind, obj: ItemModel) -> dict[str, Any]:
    """The copy of an item the portal receives (see `snapshot_data`), read through `s`."""
    if isinstance(obj, Invoice):
        return snapshot_data(kind, obj, lines=invoice_line_rows(s, obj.id))
    if isinstance(obj, Document):
        folder = s.get(Folder, obj.folder_id)
        return snapshot_data(kind, obj, folder=folder.name if folder else "")
    return snapshot_data(kind, obj)


class SharingService(Service):
    """Sharing and unsharing items, one or many, and what an item's share mark says."""

    # Public commands ---------------------------------------------------------------------------

    def share(self, kind: ItemKind, item_id: int, *, confirmed: bool = False) -> str:
        """Share one item (S1-S6). A Draft invoice raises NeedsConfirmation first (S1)."""
        with self.db.write() as s:
            obj = self.lock(s, kind, item_id)
            return self.share_locked(s, kind, obj, confirmed=confirmed)

    def unshare(self, kind: ItemKind, item_id: int) -> str:
        with self.db.write() as s:
            obj = self.lock(s, kind, item_id)
            return self.unshare_locked(s, kind, obj)

    def share_held(self, kind: ItemKind, item_id: int) -> Held:
        """Share one item that the screen confirms with a toast and Undo (S8): its outbox
        row waits UNDO_WINDOW before any relay may send it. An invoice share is never held:
        the seed confirms it with its own message box (S1), and a Draft would be finalised."""
        with self.db.write() as s:
            obj = self.lock(s, kind, item_id)
            before = held_mark(mark_of(s, kind, obj.id))
            message = self.share_locked(s, kind, obj, confirmed=False)
            if kind is ItemKind.INVOICE:
                return Held(message, None)
            return Held(message, self._hold(s, kind, obj.id, before))

    def unshare_held(self, kind: ItemKind, item_id: int) -> Held:
        """Unshare one item, held for Undo (S8) as `share_held` is."""
        with self.db.write() as s:
            obj = self.lock(s, kind, item_id)
            before = held_mark(mark_of(s, kind, obj.id))
            message = self.unshare_locked(s, kind, obj)
            return Held(message, self._hold(s, kind, obj.id, before))

    @staticmethod
    def _hold(s: Session, kind: ItemKind, item_id: int, before: dict[str, Any]) -> str:
        """Hold the outbox row the share or unshare just queued; returns its Undo key."""
        s.flush()
        entry = s.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.kind == kind.value, OutboxEntry.item_id == item_id)
            .order_by(OutboxEntry.id.desc())
            .limit(1)
        ).one()
        entry.deliver_after = utcnow() + UNDO_WINDOW
        entry.held_mark = before
        return entry.idempotency_key

    def share_many(
        self,
        items: Iterable[tuple[ItemKind, int]],
        *,
        share: bool,
        confirmed: bool = True,
        batch: str | None = None,
        hold: bool = False,
    ) -> tuple[int, list[tuple[ItemKind, int, str]]]:
        """Bulk share or unshare in one transaction and one batch (one email per client).

        Returns how many changed, and each refused item with the reason. A Draft invoice in a
        bulk share is refused unless `confirmed` (the bulk confirmation covered finalising).

        A bulk done in chunks (so a progress bar can move) passes the same `batch` to every
        call (see `new_batch`) and `hold=True` to all but the last: the batch's rows then wait
        until the last call releases them, so the batch's one email goes out after its last
        item and lists them all. Rows held by a caller that died go out after HOLD anyway.
        """
        # Set-based, beside this module: 10,000 items must be enqueued within a second, which
        # the one-by-one path through the ORM cannot do.
        return bulk_share_many(
            self.ctx, list(items), share=share, confirmed=confirmed, batch=batch, hold=hold
        )

    @staticmethod
    def new_batch() -> str:
        """A batch id for a bulk share done in several `share_many` calls."""
        return new_batch()

    def unfinal_invoices(self, invoice_ids: Iterable[int]) -> int:
        """How many of these invoices are not Final: a bulk share's question says so (S1)."""
        ids = list(invoice_ids)
        count = 0
        with self.db.read() as s:
            for start in range(0, len(ids), IN_CHUNK):
                count += (
                    s.scalar(
                        select(func.count())
                        .select_from(Invoice)
                        .where(Invoice.id.in_(ids[start : start + IN_CHUNK]))
                        .where(Invoice.status != InvoiceStatus.FINAL)
                    )
                    or 0
                )
        return count

    def share_state(self, kind: ItemKind, item_id: int) -> Share:
        with self.db.read() as s:
            return share_of(mark_of(s, kind, item_id))

    def share_record(self, kind: ItemKind, item_id: int) -> ShareRecord | None:
        """An item's share mark in full: who shared and unshared it, first view and download."""
        with self.db.read() as s:
            mark = mark_of(s, kind, item_id)
            if mark is None:
                return None

            def login(staff_id: int | None) -> str | None:
                user = s.get(StaffUser, staff_id) if staff_id is not None else None
                return user.login if user is not None else None

            return ShareRecord(
                kind,
                item_id,
                mark.matter_id,
                share_of(mark),
                mark.version,
                login(mark.shared_by_id),
                mark.shared_at,
                login(mark.unshared_by_id),
                mark.unshared_at,
                mark.first_viewed_at,
                mark.first_downloaded_at,
            )

    def audit_for_item(self, kind: str, item_id: int) -> list[AuditRow]:
        with self.db.read() as s:
            entries = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.kind == kind, AuditEntry.item_id == item_id)
                .order_by(AuditEntry.id)
            )
            return [
                AuditRow(
                    e.id, e.at, e.actor, e.action, e.kind, e.item_id, e.matter_id, e.before, e.after
                )
                for e in entries
            ]

    def republish_locked(self, s: Session, matter_id: int, *, publish: bool) -> int:
        """M4, within the transaction that turns the matter back ON (set_matter_portal): publish
        again each item still marked shared, or (declined) let those marks go. Returns how many
        items it touched."""
        batch = new_batch()
        wanted = select(ShareMark.kind, ShareMark.item_id).where(
            ShareMark.matter_id == matter_id, ShareMark.wanted.is_(True)
        )
        done = 0
        keys = [(kind, item_id) for kind, item_id in s.execute(wanted)]
        for kind, obj in self.lock_many(s, keys):
            mark = mark_of(s, kind, obj.id)
            if mark is None or not mark.wanted:
                continue  # unshared meanwhile, by someone whose commit we waited for
            if publish:
                self.publish(s, kind, obj, mark, batch=batch, action="republish")
            else:
                self.revoke(s, kind, obj, mark, batch=batch)
            done += 1
        return done

    # Within a transaction ---------------------------------------------------------------------

    def lock(self, s: Session, kind: ItemKind, item_id: int) -> ItemModel:
        """The item, its row locked until this transaction ends (SELECT … FOR UPDATE; SQLite's
        BEGIN IMMEDIATE already holds the whole file): what follows reads its share mark and
        writes on it, and no other staff member's share, unshare or edit of it runs between."""
        model: Any = MODEL_OF[kind]
        obj: ItemModel | None = s.get(model, item_id, with_for_update=True, populate_existing=True)
        if obj is None:
            raise NotFound(f"No {kind.label} with id {item_id}.")
        return obj

    def lock_many(
        self, s: Session, keys: Iterable[tuple[ItemKind, int]]
    ) -> list[tuple[ItemKind, ItemModel]]:
        """`lock` for several items, in one order for every caller (kind, then id), so two
        transactions that lock some of the same items cannot each wait for the other. Items
        deleted meanwhile are left out."""
        by_kind: dict[ItemKind, list[int]] = {}
        for kind, item_id in sorted(set(keys), key=lambda key: (key[0].value, key[1])):
            by_kind.setdefault(kind, []).append(item_id)
        locked: list[tuple[ItemKind, ItemModel]] = []
        for kind, ids in by_kind.items():
            model = MODEL_OF[kind]
            for start in range(0, len(ids), IN_CHUNK):
                part = ids[start : start + IN_CHUNK]
                stmt = (
                    select(model)
                    .where(model.id.in_(part))
                    .order_by(model.id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
                found: Iterable[ItemModel] = s.scalars(stmt)
                locked.extend((kind, obj) for obj in found)
        return locked

    def check_share(self, s: Session, kind: ItemKind, obj: ItemModel) -> int:
        """Every rule a share must pass; returns the item's matter id."""
        role = self.ctx.actor.role
        firm = firm_portal(s)
        if isinstance(obj, IntakeForm):
            matter = s.get(Matter, obj.matter_id) if obj.matter_id is not None else None
            portal = matter_portal_of(matter) if matter is not None else None
            check_share_rules(role, kind, firm, portal, form_rule=obj.rule)
            assert matter is not None
            return matter.id
        rules.r1_may_share(role, kind).check()
        matter = get_row(s, Matter, obj.matter_id, "matter")
        access = PartyAccess.ALLOWED
        if isinstance(obj, Message):
            access = party_access(s, matter.id, self.ctx.actor.staff_id)
        check_share_rules(role, kind, firm, matter_portal_of(matter), access=access)
        return matter.id

    def share_locked(
        self,
        s: Session,
        kind: ItemKind,
        obj: ItemModel,
        *,
        confirmed: bool,
        batch: str | None = None,
    ) -> str:
        matter_id = self.check_share(s, kind, obj)
        mark = mark_of(s, kind, obj.id)
        check_not_shared(kind, mark)
        if isinstance(obj, Invoice) and must_finalise(obj.status, confirmed=confirmed):
            obj.status = InvoiceStatus.FINAL
            s.add(AuditEntry(**finalise_audit(self.ctx.actor, obj.id, matter_id, utcnow())))
        if mark is None:
            mark = ShareMark(kind=kind, item_id=obj.id, matter_id=matter_id, **NEW_MARK)
            s.add(mark)
        self.publish(s, kind, obj, mark, batch=batch, action="share")
        if kind is ItemKind.INVOICE:
            return texts.INVOICE_SHARED
        return texts.ITEM_SHARED.format(label=kind.label)

    def publish(
        self,
        s: Session,
        kind: ItemKind,
        obj: ItemModel,
        mark: ShareMark,
        *,
        batch: str | None,
        action: str,
        notify: bool | None = None,
    ) -> OutboxEntry:
        """Ask for (or refresh) the portal's copy: a new version, pending until delivered.
        `notify`: whether clients are told of it (F5); by default, as the firm's setting says."""
        outbox, audit = publish_rows(
            self.ctx.actor,
            kind,
            obj.id,
            mark,
            notify=firm_portal(s).notify_new_items if notify is None else notify,
            data=snapshot(s, kind, obj),
            batch=batch,
            action=action,
            now=utcnow(),
        )
        entry = OutboxEntry(**outbox)
        s.add_all([entry, AuditEntry(**audit)])
        return entry

    def unshare_locked(
        self, s: Session, kind: ItemKind, obj: ItemModel, *, batch: str | None = None
    ) -> str:
        mark = mark_of(s, kind, obj.id)
        check_shared(self.ctx.actor.role, kind, mark)
        assert mark is not None
        self.revoke(s, kind, obj, mark, batch=batch)
        if kind is ItemKind.INVOICE:
            return texts.INVOICE_UNSHARED
        return texts.ITEM_UNSHARED.format(label=kind.label)

    def revoke(
        self,
        s: Session,
        kind: ItemKind,
        obj: ItemModel,
        mark: ShareMark,
        *,
        batch: str | None,
        action: str = "unshare",
    ) -> OutboxEntry:
        outbox, audit = revoke_rows(
            self.ctx.actor, kind, obj.id, mark, batch=batch, now=utcnow(), action=action
        )
        entry = OutboxEntry(**outbox)
        s.add_all([entry, AuditEntry(**audit)])
        return entry

    def set_shared(
        self, s: Session, kind: ItemKind, obj: ItemModel, want: bool | None, changed: bool
    ) -> str | None:
        """After an add or edit: apply the Share checkbox (S2), or refresh the portal's copy
        of an item that stays shared and changed."""
        mark = mark_of(s, kind, obj.id)
        is_shared = mark is not None and mark.wanted
        if want is True and not is_shared:
            return self.share_locked(s, kind, obj, confirmed=False)
        if want is False and is_shared:
            return self.unshare_locked(s, kind, obj)
        if is_shared and changed:
            assert mark is not None
            self.check_share(s, kind, obj)
            self.publish(s, kind, obj, mark, batch=None, action="republish")
        return None

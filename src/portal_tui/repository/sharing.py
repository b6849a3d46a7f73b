"""Share and unshare (S0-S6): one local transaction writes the share mark, the audit entry and
the outbox row together, so a share is never half-done and never lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NeedsConfirmation, NotFound, Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import AuditRow, InvoiceLineRow, Share, ShareRecord
from portal_tui.domain.states import InvoiceStatus, OutboxOp, OutboxState, ShareState
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    AuditEntry,
    CalendarEvent,
    Document,
    Folder,
    IntakeForm,
    Invoice,
    InvoiceLine,
    Matter,
    Message,
    Note,
    OutboxEntry,
    ShareMark,
    StaffUser,
    Task,
)

from .base import RepositoryBase, matter_portal_of

# A bulk share's held rows go out after this even if the call that was to release them never
# came (the app died mid-bulk): late, and with its email, but never lost.
HOLD = timedelta(minutes=5)
# Ids per IN (...): well under every backend's limit on bound parameters.
_IN_CHUNK = 500
# Session.info key of the share marks a bulk read up front (see `_load_for_bulk`).
_MARKS = "portal_tui.bulk_marks"

ItemModel = Invoice | CalendarEvent | Task | Note | Document | Message | IntakeForm

MODEL_OF: dict[ItemKind, type[ItemModel]] = {
    ItemKind.INVOICE: Invoice,
    ItemKind.EVENT: CalendarEvent,
    ItemKind.TASK: Task,
    ItemKind.NOTE: Note,
    ItemKind.DOCUMENT: Document,
    ItemKind.MESSAGE: Message,
    ItemKind.FORM: IntakeForm,
}


def _quantity(milli: int) -> str:
    whole, frac = divmod(milli, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def invoice_line_rows(s: Session, invoice_id: int) -> list[InvoiceLineRow]:
    lines = s.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )
    return [
        InvoiceLineRow(ln.description, _quantity(ln.quantity_milli), ln.rate_cents, ln.amount_cents)
        for ln in lines
    ]


def snapshot(s: Session, kind: ItemKind, obj: ItemModel) -> dict[str, Any]:
    """The copy of an item the portal receives: what a client may read, nothing more."""
    if isinstance(obj, Invoice):
        lines = [asdict(line) for line in invoice_line_rows(s, obj.id)]
        return {**_fields(obj, kind), "lines": lines}
    if isinstance(obj, Document):
        folder = s.get(Folder, obj.folder_id)
        # The bytes travel separately: the delivery worker reads them when it sends.
        return {**_fields(obj, kind), "folder": folder.name if folder else ""}
    return _fields(obj, kind)


# What the portal's copy of each kind holds, beyond what snapshot() adds itself.
_SNAPSHOT_FIELDS: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.INVOICE: (
        "number",
        "issued_on",
        "due_on",
        "status",
        "total_cents",
        "paid_cents",
        "memo",
    ),
    ItemKind.EVENT: ("title", "starts_at", "ends_at", "location", "description"),
    ItemKind.TASK: ("title", "due_on", "done", "description"),
    ItemKind.NOTE: ("subject", "body", "created_at"),
    ItemKind.DOCUMENT: ("name", "content_type", "size", "sha256", "created_at"),
    ItemKind.MESSAGE: ("subject", "body", "author_name", "from_client", "sent_at"),
    ItemKind.FORM: ("name", "description", "fields"),
}


def _fields(obj: ItemModel, kind: ItemKind) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in _SNAPSHOT_FIELDS[kind]}
    return {"name": obj.name, "description": obj.description, "fields": obj.fields}


def share_of(mark: ShareMark | None) -> Share:
    if mark is None:
        return Share()
    return Share(mark.state, mark.wanted, mark.last_error)


class SharingMixin(RepositoryBase):
    # Public commands ---------------------------------------------------------------------------

    def share(self, kind: ItemKind, item_id: int, *, confirmed: bool = False) -> str:
        """Share one item (S1-S6). A Draft invoice raises NeedsConfirmation first (S1)."""
        with self.db.write() as s:
            obj = self._item(s, kind, item_id)
            return self._share(s, kind, obj, confirmed=confirmed)

    def unshare(self, kind: ItemKind, item_id: int) -> str:
        with self.db.write() as s:
            obj = self._item(s, kind, item_id)
            return self._unshare(s, kind, obj)

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
        batch = batch or self.new_batch()
        wanted = list(items)
        done = 0
        refused: list[tuple[ItemKind, int, str]] = []
        with self.db.write() as s, s.no_autoflush:
            loaded = self._load_for_bulk(s, wanted)  # kept referenced: the session finds them
            for kind, item_id in wanted:
                try:
                    obj = self._item(s, kind, item_id)
                    if share:
                        self._share(s, kind, obj, confirmed=confirmed, batch=batch)
                    else:
                        self._unshare(s, kind, obj, batch=batch)
                    done += 1
                except (Refused, NeedsConfirmation, NotFound) as exc:
                    refused.append((kind, item_id, str(exc)))
            del loaded
            s.flush()
            now = utcnow()
            waiting = (
                update(OutboxEntry)
                .where(OutboxEntry.batch == batch, OutboxEntry.state == OutboxState.PENDING)
                .where(OutboxEntry.attempts == 0)
            )
            if hold:
                s.execute(waiting.values(next_attempt_at=now + HOLD))
            else:
                s.execute(
                    waiting.where(OutboxEntry.next_attempt_at > now).values(next_attempt_at=now)
                )
        return done, refused

    @staticmethod
    def new_batch() -> str:
        """A batch id for a bulk share done in several `share_many` calls."""
        return uuid.uuid4().hex

    def unfinal_invoices(self, invoice_ids: Iterable[int]) -> int:
        """How many of these invoices are not Final: a bulk share's question says so (S1)."""
        ids = list(invoice_ids)
        count = 0
        with self.db.read() as s:
            for start in range(0, len(ids), _IN_CHUNK):
                count += (
                    s.scalar(
                        select(func.count())
                        .select_from(Invoice)
                        .where(Invoice.id.in_(ids[start : start + _IN_CHUNK]))
                        .where(Invoice.status != InvoiceStatus.FINAL)
                    )
                    or 0
                )
        return count

    def _load_for_bulk(self, s: Session, items: list[tuple[ItemKind, int]]) -> list[object]:
        """Read a bulk's items, their marks and matters and the firm in a few queries rather
        than a few per item. The per-item code finds them in the session (and the marks in
        `_mark`'s cache); the caller keeps the list so the session does not drop them."""
        keep: list[object] = [self._firm_row(s)]
        marks: dict[tuple[ItemKind, int], ShareMark | None] = {}
        by_kind: dict[ItemKind, list[int]] = {}
        for kind, item_id in items:
            by_kind.setdefault(kind, []).append(item_id)
            marks[(kind, item_id)] = None
        matter_ids: set[int] = set()
        for kind, ids in by_kind.items():
            model = MODEL_OF[kind]
            for start in range(0, len(ids), _IN_CHUNK):
                part = ids[start : start + _IN_CHUNK]
                objs: list[ItemModel] = list(s.scalars(select(model).where(model.id.in_(part))))
                keep.extend(objs)
                matter_ids.update(o.matter_id for o in objs if o.matter_id is not None)
                for mark in s.scalars(
                    select(ShareMark).where(ShareMark.kind == kind, ShareMark.item_id.in_(part))
                ):
                    marks[(kind, mark.item_id)] = mark
                    keep.append(mark)
        matters = list(matter_ids)
        for start in range(0, len(matters), _IN_CHUNK):
            part = matters[start : start + _IN_CHUNK]
            keep.extend(s.scalars(select(Matter).where(Matter.id.in_(part))))
        s.info[_MARKS] = marks
        return keep

    def share_state(self, kind: ItemKind, item_id: int) -> Share:
        with self.db.read() as s:
            return share_of(self._mark(s, kind, item_id))

    def share_record(self, kind: ItemKind, item_id: int) -> ShareRecord | None:
        """An item's share mark in full: who shared and unshared it, first view and download."""
        with self.db.read() as s:
            mark = self._mark(s, kind, item_id)
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

    def republish_matter(self, matter_id: int, *, publish: bool) -> int:
        """M4's offer after turning a matter back ON: publish again every item still marked
        shared, or (declined) let those marks go. Returns how many items it touched."""
        rules.r1_may_manage_portal(self.actor.role).check()
        batch = uuid.uuid4().hex
        with self.db.write() as s:
            marks = list(
                s.scalars(
                    select(ShareMark).where(
                        ShareMark.matter_id == matter_id, ShareMark.wanted.is_(True)
                    )
                )
            )
            for mark in marks:
                obj = self._item(s, mark.kind, mark.item_id)
                if publish:
                    self._publish(s, mark.kind, obj, mark, batch=batch, action="republish")
                else:
                    self._revoke(s, mark.kind, obj, mark, batch=batch)
            return len(marks)

    # Within a transaction ---------------------------------------------------------------------

    def _item(self, s: Session, kind: ItemKind, item_id: int) -> ItemModel:
        return self._get(s, MODEL_OF[kind], item_id, kind.label)

    @staticmethod
    def _mark(s: Session, kind: ItemKind, item_id: int) -> ShareMark | None:
        known: dict[tuple[ItemKind, int], ShareMark | None] | None = s.info.get(_MARKS)
        if known is not None and (kind, item_id) in known:
            return known[(kind, item_id)]
        return s.scalar(
            select(ShareMark).where(ShareMark.kind == kind, ShareMark.item_id == item_id)
        )

    def _check_share(self, s: Session, kind: ItemKind, obj: ItemModel) -> int:
        """Every rule a share must pass; returns the item's matter id."""
        role = self.actor.role
        firm = self._firm_portal(s)
        rules.r1_may_share(role, kind).check()
        if isinstance(obj, IntakeForm):
            matter = s.get(Matter, obj.matter_id) if obj.matter_id is not None else None
            portal = matter_portal_of(matter) if matter is not None else None
            rules.s4_may_share_form(obj.rule, portal, firm).check()
            assert matter is not None
            return matter.id
        matter = self._get(s, Matter, obj.matter_id, "matter")
        portal = matter_portal_of(matter)
        if isinstance(obj, Message):
            staff_id = self.actor.staff_id
            access = self._party_access(s, matter.id, staff_id)
            rules.s5_may_message(firm, portal, access).check()
        rules.may_share(role, kind, firm, portal).check()
        return matter.id

    def _share(
        self,
        s: Session,
        kind: ItemKind,
        obj: ItemModel,
        *,
        confirmed: bool,
        batch: str | None = None,
    ) -> str:
        matter_id = self._check_share(s, kind, obj)
        mark = self._mark(s, kind, obj.id)
        if mark is not None and mark.wanted and mark.state is not ShareState.FAILED:
            raise Refused("S0", texts.ALREADY_SHARED.format(label=kind.label))
        if isinstance(obj, Invoice) and rules.s1_needs_finalising(obj.status):
            if not confirmed:
                raise NeedsConfirmation("S1", texts.UNFINAL_INVOICE_CONFIRM)
            obj.status = InvoiceStatus.FINAL
            self._audit(
                s,
                "invoice.finalise",
                kind=kind.value,
                item_id=obj.id,
                matter_id=matter_id,
                before={"status": InvoiceStatus.DRAFT},
                after={"status": InvoiceStatus.FINAL},
            )
        if mark is None:
            mark = ShareMark(
                kind=kind,
                item_id=obj.id,
                matter_id=matter_id,
                wanted=False,
                state=ShareState.NOT_SHARED,
                version=0,
            )
            s.add(mark)
            if _MARKS in s.info:
                s.info[_MARKS][(kind, obj.id)] = mark
        self._publish(s, kind, obj, mark, batch=batch, action="share")
        if kind is ItemKind.INVOICE:
            return texts.INVOICE_SHARED
        return texts.ITEM_SHARED.format(label=kind.label)

    def _publish(
        self,
        s: Session,
        kind: ItemKind,
        obj: ItemModel,
        mark: ShareMark,
        *,
        batch: str | None,
        action: str,
    ) -> None:
        """Ask for (or refresh) the portal's copy: a new version, pending until delivered."""
        firm = self._firm_portal(s)
        before = {"state": mark.state, "wanted": mark.wanted}
        now = utcnow()
        if not mark.wanted:
            mark.shared_by_id, mark.shared_at = self.actor.staff_id, now
        mark.wanted = True
        mark.state = ShareState.PENDING
        mark.version += 1
        mark.last_error = None
        self._outbox(
            s,
            OutboxOp.PUBLISH,
            {
                "kind": kind,
                "item_id": obj.id,
                "matter_id": mark.matter_id,
                "version": mark.version,
                "notify": firm.notify_new_items,
                "data": snapshot(s, kind, obj),
            },
            kind=kind.value,
            item_id=obj.id,
            matter_id=mark.matter_id,
            version=mark.version,
            batch=batch,
        )
        self._audit(
            s,
            action,
            kind=kind.value,
            item_id=obj.id,
            matter_id=mark.matter_id,
            before=before,
            after={"state": mark.state, "version": mark.version},
        )

    def _unshare(
        self, s: Session, kind: ItemKind, obj: ItemModel, *, batch: str | None = None
    ) -> str:
        rules.may_unshare(self.actor.role, kind).check()
        mark = self._mark(s, kind, obj.id)
        if mark is None or not mark.wanted:
            raise Refused("S0", texts.NOT_SHARED_YET.format(label=kind.label))
        self._revoke(s, kind, obj, mark, batch=batch)
        if kind is ItemKind.INVOICE:
            return texts.INVOICE_UNSHARED
        return texts.ITEM_UNSHARED.format(label=kind.label)

    def _revoke(
        self, s: Session, kind: ItemKind, obj: ItemModel, mark: ShareMark, *, batch: str | None
    ) -> None:
        before = {"state": mark.state, "wanted": mark.wanted}
        mark.wanted = False
        mark.state = ShareState.PENDING
        mark.version += 1
        mark.last_error = None
        mark.unshared_by_id, mark.unshared_at = self.actor.staff_id, utcnow()
        self._outbox(
            s,
            OutboxOp.REVOKE,
            {"kind": kind, "item_id": obj.id, "matter_id": mark.matter_id, "version": mark.version},
            kind=kind.value,
            item_id=obj.id,
            matter_id=mark.matter_id,
            version=mark.version,
            batch=batch,
        )
        self._audit(
            s,
            "unshare",
            kind=kind.value,
            item_id=obj.id,
            matter_id=mark.matter_id,
            before=before,
            after={"state": mark.state, "version": mark.version},
        )

    def _set_shared(
        self, s: Session, kind: ItemKind, obj: ItemModel, want: bool | None, changed: bool
    ) -> str | None:
        """After an add or edit: apply the Share checkbox (S2), or refresh the portal's copy
        of an item that stays shared and changed."""
        mark = self._mark(s, kind, obj.id)
        is_shared = mark is not None and mark.wanted
        if want is True and not is_shared:
            return self._share(s, kind, obj, confirmed=False)
        if want is False and is_shared:
            return self._unshare(s, kind, obj)
        if is_shared and changed:
            assert mark is not None
            self._check_share(s, kind, obj)
            self._publish(s, kind, obj, mark, batch=None, action="republish")
        return None

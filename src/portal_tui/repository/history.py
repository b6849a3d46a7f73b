"""Share history of one item, read from the audit trail, the outbox and its share mark.

The firm side never learns whom the portal emailed: the portal composes the "new items" email
itself, from the contacts it holds when it sends. What the firm does know, and what the history
shows, is whether the firm's "notify on new items" setting (F5) asked for an email, when the
portal was asked to send it, and which of the matter's contacts were active at the time of the
share (only active contacts are emailed, P3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import HistoryEntry, ShareHistory
from portal_tui.domain.states import ContactStatus, OutboxOp, OutboxState
from portal_tui.store.models import AuditEntry, OutboxEntry, PortalContact, StaffUser

from .base import Service
from .share_rows import item_of, mark_of, share_of

SHARED = "Shared via the client portal"
REPUBLISHED = "Sent to the client portal again"
UNSHARED = "Unshared from the client portal"
FINALISED = "Invoice marked Final on sharing"
WAITING = "Waiting for delivery to the client portal"
DELIVERED = "Delivered to the client portal"
REMOVED = "Removed from the client portal"
DELIVERY_FAILED = "Delivery to the client portal failed"
EMAIL_ASKED = "Portal asked to email the clients"
EMAIL_WAITING = "Email to the clients waits for the rest of its batch"
FIRST_VIEWED = "First viewed by the client"
FIRST_DOWNLOADED = "First downloaded by the client"
NO_EMAIL_SETTING = "No email: the firm does not notify clients of new items (F5)."
NO_ACTIVE_CONTACT = "No active portal contact on the matter at the time: nobody to email."
ACTIVE_CONTACTS = "Active portal contacts at the time of the share: {contacts}"

_AUDITED = {
    "share": SHARED,
    "republish": REPUBLISHED,
    "unshare": UNSHARED,
    "invoice.finalise": FINALISED,
}


class HistoryService(Service):
    """An item's share history: who shared it, what was delivered, who was told."""

    def share_history(self, kind: ItemKind, item_id: int) -> ShareHistory:
        """Everything the firm knows of one item's life in the portal, oldest first. An item
        never shared has no entries."""
        with self.db.read() as s:
            item_of(s, kind, item_id)  # NotFound for an item deleted meanwhile
            mark = mark_of(s, kind, item_id)
            trail = list(
                s.scalars(
                    select(AuditEntry)
                    .where(
                        AuditEntry.kind == kind.value,
                        AuditEntry.item_id == item_id,
                        AuditEntry.action.in_(_AUDITED),
                    )
                    .order_by(AuditEntry.id)
                )
            )
            if mark is None and not trail:
                return ShareHistory(kind, item_id, share_of(None), ())
            names = _staff_names(s, {e.staff_id for e in trail if e.staff_id is not None})
            entries = [
                HistoryEntry(
                    e.at,
                    _AUDITED[e.action],
                    names.get(e.staff_id, e.actor) if e.staff_id is not None else e.actor,
                )
                for e in trail
            ]
            # Each share or unshare names the version it asked the portal for: its request
            # is shown at the share's time, after it, rather than a moment before it.
            asked = {
                int(e.after["version"]): e.at
                for e in trail
                if e.after and isinstance(e.after.get("version"), int)
            }
            if mark is not None:
                entries += self._deliveries(s, kind, item_id, mark.matter_id, asked)
                if mark.first_viewed_at is not None:
                    entries.append(HistoryEntry(mark.first_viewed_at, FIRST_VIEWED))
                if mark.first_downloaded_at is not None:
                    entries.append(HistoryEntry(mark.first_downloaded_at, FIRST_DOWNLOADED))
            # Stable: at one moment, the staff's action comes before what it led to.
            entries.sort(key=lambda entry: entry.at)
            return ShareHistory(kind, item_id, share_of(mark), tuple(entries))

    def _deliveries(
        self,
        s: Session,
        kind: ItemKind,
        item_id: int,
        matter_id: int,
        asked: dict[int, datetime],
    ) -> list[HistoryEntry]:
        """Each request to the portal about the item, and for each share its clients' email."""
        rows = list(
            s.scalars(
                select(OutboxEntry)
                .where(
                    # The matter's index narrows the outbox first; the item is then a filter.
                    OutboxEntry.matter_id == matter_id,
                    OutboxEntry.kind == kind.value,
                    OutboxEntry.item_id == item_id,
                    OutboxEntry.op.in_((OutboxOp.PUBLISH, OutboxOp.REVOKE)),
                )
                .order_by(OutboxEntry.id)
            )
        )
        publishes = [r for r in rows if r.op is OutboxOp.PUBLISH]
        notices = {
            n.batch: n
            for n in s.scalars(
                select(OutboxEntry).where(
                    OutboxEntry.idempotency_key.in_([f"notify-{r.batch}" for r in publishes])
                )
            )
        }
        audience = _Audience(s, matter_id) if publishes else None
        entries: list[HistoryEntry] = []
        for row in rows:
            at = asked.get(row.version, row.created_at)
            if row.state is OutboxState.PENDING:
                entries.append(HistoryEntry(at, WAITING))
            elif row.state is OutboxState.FAILED:
                # The outbox keeps no time of the failure: shown with the request it ended.
                entries.append(HistoryEntry(at, DELIVERY_FAILED, None, row.last_error))
            elif row.delivered_at is not None:
                done = DELIVERED if row.op is OutboxOp.PUBLISH else REMOVED
                entries.append(HistoryEntry(row.delivered_at, done))
            if row.op is OutboxOp.PUBLISH and row.state is OutboxState.DELIVERED:
                assert audience is not None
                entries.append(_email(row, notices.get(row.batch), audience))
        return entries


def _email(row: OutboxEntry, notice: OutboxEntry | None, audience: _Audience) -> HistoryEntry:
    """What became of the clients' email for one delivered share."""
    assert row.delivered_at is not None
    if not row.payload.get("notify", True):
        return HistoryEntry(row.delivered_at, EMAIL_ASKED, None, NO_EMAIL_SETTING)
    contacts = audience.active_at(row.created_at)
    detail = ACTIVE_CONTACTS.format(contacts=", ".join(contacts)) if contacts else NO_ACTIVE_CONTACT
    if notice is not None and notice.delivered_at is not None:
        return HistoryEntry(notice.delivered_at, EMAIL_ASKED, None, detail)
    # The batch's email waits for its last item to reach the portal.
    return HistoryEntry(row.delivered_at, EMAIL_WAITING, None, detail)


def _staff_names(s: Session, ids: Iterable[int]) -> dict[int | None, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    return {u.id: u.name for u in s.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))}


class _Audience:
    """The matter's portal contacts as they stood at a given moment, rebuilt from the audit
    trail of their changes (each records the contact's status after it)."""

    def __init__(self, s: Session, matter_id: int) -> None:
        self._contacts = {
            c.id: c
            for c in s.scalars(select(PortalContact).where(PortalContact.matter_id == matter_id))
        }
        self._changes: dict[int, list[tuple[datetime, dict[str, Any]]]] = {}
        for e in s.scalars(
            select(AuditEntry)
            .where(AuditEntry.matter_id == matter_id, AuditEntry.kind == "contact")
            .order_by(AuditEntry.id)
        ):
            if e.item_id is not None and e.after:
                self._changes.setdefault(e.item_id, []).append((e.at, e.after))

    def active_at(self, at: datetime) -> list[str]:
        """'Name <email>' of each contact active at `at`, by name."""
        found = []
        for contact in self._contacts.values():
            status, email = self._status_at(contact, at)
            if status is ContactStatus.ACTIVE:
                found.append((contact.name, f"{contact.name} <{email}>"))
        return [label for _, label in sorted(found)]

    def _status_at(self, contact: PortalContact, at: datetime) -> tuple[ContactStatus | None, str]:
        status: ContactStatus | None = None
        email = contact.email
        for when, after in self._changes.get(contact.id, []):
            if when > at:
                break
            if "status" in after:
                status = ContactStatus(after["status"])
            if isinstance(after.get("email"), str):
                email = after["email"]
        if status is None and not self._changes.get(contact.id) and contact.invited_at <= at:
            # A contact written without a trail (imported, seeded): its own dates tell.
            active = contact.activated_at is not None and contact.activated_at <= at
            status = ContactStatus.ACTIVE if active else ContactStatus.INVITED
        return status, email

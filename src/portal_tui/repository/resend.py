"""Sending the portal everything again: for a portal whose database was replaced or lost, and
for a firm whose database was restored from a backup.

The portal is only ever a copy of what the firm shared, so it can always be rebuilt from the
firm database: the firm's settings, each matter's portal state and parties, its contacts, and
every item still marked shared, each at a new version, in that order.

After a restore the firm's versions are older than what the portal holds, so the firm first
moves to a new epoch and asks the portal to start over (a reset: every copy withdrawn, every
version forgotten), then sends its whole state — withdrawals included, so that an item shared
after the backup is gone and one unshared after it is back. Rows that were pending in the
backup are dropped: what they asked for is in what is sent now, and their idempotency keys
may have been answered already by the portal, for the firm as it was before the restore.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal_tui.domain.states import ContactAction, ContactStatus, OutboxOp, OutboxState
from portal_tui.store.models import Matter, OutboxEntry, PortalContact, ShareMark

from .base import (
    Context,
    Service,
    firm_portal_of,
    firm_row,
    matter_portal_of,
    queue_outbox,
    require_firm,
)
from .contacts import AS_IT_STANDS, contact_payload, next_contact_version
from .firm import firm_payload
from .matters import matter_payload, parties_payload
from .share_rows import mark_of
from .sharing import SharingService


@dataclass(frozen=True, slots=True)
class RestoreReport:
    epoch: int
    shared: int  # items sent again as shared
    withdrawn: int  # items the portal is told are not shared
    contacts: int
    superseded: int  # rows pending in the backup, replaced by what is sent now


class ResendService(Service):
    """The whole shared state queued again, for a new portal or after a restore."""

    def __init__(self, ctx: Context, sharing: SharingService) -> None:
        super().__init__(ctx)
        self.sharing = sharing

    def resend_everything(self) -> int:
        """Queue the whole shared state for a portal whose database is new; returns how many
        rows. A portal that never heard of a contact has no password for them either: an
        invited or active one is invited afresh (a new email), a disabled one stays so."""
        with self.db.write() as s:
            count = self._queue_state(s, restored=False)
            self.ctx.audit(s, "portal.resend", kind="firm", after={"rows": count})
        return count

    def after_restore(self, *, at_least_epoch: int = 0) -> RestoreReport:
        """Make this (just restored) firm database the portal's truth again: a new epoch,
        greater than any before it (`at_least_epoch`: the one the replaced database had, if it
        could be read; the clock otherwise keeps it growing), the reset, then everything."""
        with self.db.write() as s:
            firm = require_firm(s, lock=True)
            epoch = max(firm.epoch + 1, at_least_epoch + 1, int(time.time()))
            firm.epoch = epoch
            pending = OutboxEntry.state == OutboxState.PENDING
            superseded = s.scalar(select(func.count()).select_from(OutboxEntry).where(pending))
            s.execute(delete(OutboxEntry).where(pending))
            contacts = list(s.scalars(select(PortalContact.id).order_by(PortalContact.id)))
            queue_outbox(s, OutboxOp.RESET, {"epoch": epoch, "contacts": contacts})
            before = self._shared_counts(s)
            self._queue_state(s, restored=True)
            report = RestoreReport(epoch, before[0], before[1], len(contacts), superseded or 0)
            self.ctx.audit(
                s,
                "firm.restore",
                kind="firm",
                after={
                    "epoch": epoch,
                    "shared": report.shared,
                    "withdrawn": report.withdrawn,
                    "contacts": report.contacts,
                    "superseded": report.superseded,
                },
            )
        return report

    @staticmethod
    def _shared_counts(s: Session) -> tuple[int, int]:
        wanted = list(s.scalars(select(ShareMark.wanted)))
        return sum(1 for w in wanted if w), sum(1 for w in wanted if not w)

    def _queue_state(self, s: Session, *, restored: bool) -> int:
        """Queue the firm, its portal matters and parties, its contacts and its items; after
        a restore, withdrawals too, and nothing announced to clients (nothing is new to them)."""
        batch = uuid.uuid4().hex
        count = 0
        firm = firm_row(s)
        if firm is not None:
            queue_outbox(s, OutboxOp.FIRM, firm_payload(firm_portal_of(firm), firm.name))
            count += 1
        matters = list(s.scalars(select(Matter).where(Matter.portal_permissions.is_not(None))))
        for matter in matters:
            payload = matter_payload(matter, matter_portal_of(matter))
            queue_outbox(s, OutboxOp.MATTER, payload, matter_id=matter.id)
            queue_outbox(s, OutboxOp.PARTIES, parties_payload(s, matter.id), matter_id=matter.id)
            count += 2
        contacts = select(PortalContact).order_by(PortalContact.id)
        if not restored:
            contacts = contacts.where(PortalContact.status != ContactStatus.REMOVED)
        for contact in s.scalars(
            contacts.with_for_update().execution_options(populate_existing=True)
        ):
            contact.version = next_contact_version(contact)
            if restored:
                # A portal that still knows the client: as it stands, without an email; one
                # that never knew them gets an invitation instead.
                action, status = AS_IT_STANDS[contact.status], contact.status
            else:
                disabled = contact.status is ContactStatus.DISABLED
                action = ContactAction.DISABLE if disabled else ContactAction.INVITE
                status = ContactStatus.DISABLED if disabled else ContactStatus.INVITED
            payload = contact_payload(contact, action)
            payload["status"] = status
            queue_outbox(
                s,
                OutboxOp.CONTACT,
                payload,
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
                version=contact.version,
            )
            count += 1
        marks = select(ShareMark.kind, ShareMark.item_id)
        if not restored:
            marks = marks.where(ShareMark.wanted.is_(True))
        keys = [(kind, item_id) for kind, item_id in s.execute(marks)]
        for kind, obj in self.sharing.lock_many(s, keys):
            mark = mark_of(s, kind, obj.id)
            if mark is None:
                continue
            if mark.wanted:
                notify = None if not restored else False
                self.sharing.publish(
                    s, kind, obj, mark, batch=batch, action="republish", notify=notify
                )
            elif restored:
                self.sharing.revoke(s, kind, obj, mark, batch=batch, action="withdraw")
            else:
                continue  # unshared meanwhile: the unshare's own row says so
            count += 1
        return count

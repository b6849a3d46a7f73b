"""Sending the portal everything again: for a portal whose database was replaced or lost.

The portal is only ever a copy of what the firm shared, so it can always be rebuilt from the
firm database: the firm's settings, each matter's portal state and parties, its contacts, and
every item still marked shared, each at a new version, in that order."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal_tui.domain.states import ContactAction, ContactStatus, OutboxOp
from portal_tui.store.models import Matter, PortalContact, ShareMark

from .base import firm_portal_of, matter_portal_of
from .contacts import _payload as contact_payload
from .contacts import next_contact_version
from .feed_sync import FeedSyncMixin
from .firm import firm_payload
from .matters import MattersMixin, matter_payload


class ResendMixin(MattersMixin, FeedSyncMixin):
    def resend_everything(self) -> int:
        """Queue the whole shared state for the portal again; returns how many rows."""
        batch = uuid.uuid4().hex
        count = 0
        with self.db.write() as s:
            firm = self._firm_row(s)
            if firm is not None:
                self._outbox(s, OutboxOp.FIRM, firm_payload(firm_portal_of(firm), firm.name))
                count += 1
            matters = list(s.scalars(select(Matter).where(Matter.portal_permissions.is_not(None))))
            for matter in matters:
                payload = matter_payload(matter, matter_portal_of(matter))
                self._outbox(s, OutboxOp.MATTER, payload, matter_id=matter.id)
                self._outbox(
                    s, OutboxOp.PARTIES, self._parties_payload(s, matter.id), matter_id=matter.id
                )
                count += 2
            contacts = s.scalars(
                select(PortalContact)
                .where(PortalContact.status != ContactStatus.REMOVED)
                .order_by(PortalContact.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            for contact in contacts:
                contact.version = next_contact_version(contact)
                # A portal that never heard of the contact has no password for them either: an
                # invited or active one is invited afresh (a new email), a disabled one stays so.
                disabled = contact.status is ContactStatus.DISABLED
                action = ContactAction.DISABLE if disabled else ContactAction.INVITE
                payload = contact_payload(contact, action)
                payload["status"] = ContactStatus.DISABLED if disabled else ContactStatus.INVITED
                self._outbox(
                    s,
                    OutboxOp.CONTACT,
                    payload,
                    kind="contact",
                    item_id=contact.id,
                    matter_id=contact.matter_id,
                    version=contact.version,
                )
                count += 1
            wanted = select(ShareMark.kind, ShareMark.item_id).where(ShareMark.wanted.is_(True))
            keys = [(kind, item_id) for kind, item_id in s.execute(wanted)]
            for kind, obj in self._lock_many(s, keys):
                mark = self._mark(s, kind, obj.id)
                if mark is None or not mark.wanted:
                    continue  # unshared meanwhile: the unshare's own row says so
                self._publish(s, kind, obj, mark, batch=batch, action="republish")
                count += 1
            self._audit(s, "portal.resend", kind="firm", after={"rows": count})
        return count

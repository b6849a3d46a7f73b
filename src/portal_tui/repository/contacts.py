"""Portal contacts: invite, disable, enable, remove, re-invite (C1-C3), and what sync learns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NeedsConfirmation
from portal_tui.domain.records import ContactRow
from portal_tui.domain.states import ContactAction, ContactStatus, OutboxOp
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import Client, Matter, PortalContact

from .base import (
    Service,
    check_unchanged,
    firm_portal,
    get_row,
    locked_row,
    matter_portal_of,
    queue_outbox,
)


def next_contact_version(contact: PortalContact) -> int:
    """The version a contact's change moves it to, for the portal to drop a late, stale
    update. Worked out in Python because every caller holds the contact's row lock (and the
    write is a compare-and-set on the version read: PortalContact's version counter)."""
    return contact.version + 1


def record_login(s: Session, which: ColumnElement[bool], at: datetime) -> None:
    """The latest sign-in of the contacts `which` picks, in SQL: a later one already noted
    by a relay running at the same time is never put back to an earlier one."""
    s.execute(
        update(PortalContact)
        .where(which)
        .where(or_(PortalContact.last_login_at.is_(None), PortalContact.last_login_at < at))
        .values(last_login_at=at)
        .execution_options(synchronize_session=False)
    )


def contact_row(c: PortalContact) -> ContactRow:
    return ContactRow(
        c.id,
        c.matter_id,
        c.client_id,
        c.name,
        c.email,
        c.status,
        c.invited_at,
        c.invitations_sent,
        c.activated_at,
        c.last_login_at,
        c.version,
    )


def contact_payload(c: PortalContact, action: ContactAction) -> dict[str, Any]:
    return {
        "contact_id": c.id,
        "matter_id": c.matter_id,
        "client_id": c.client_id,
        "name": c.name,
        "email": c.email,
        "status": c.status,
        "action": action,
        "version": c.version,
        "invitations_sent": c.invitations_sent,
    }


class ContactsService(Service):
    """A matter's portal contacts and their moves (C1-C3); activations and logins from sync."""

    def invite_contact(self, matter_id: int, client_id: int, *, name: str, email: str) -> int:
        """Invite a client to a matter's portal (C1). A typed email becomes the client's
        primary email when the client had none. A removed contact may be invited again (C3)."""
        rules.c1_may_invite(self.ctx.actor.role).check()
        email = email.strip()
        with self.db.write() as s:
            matter = get_row(s, Matter, matter_id, "matter")
            client = get_row(s, Client, client_id, "client")
            rules.m1_portal_on(firm_portal(s), matter_portal_of(matter)).check()
            rules.c1_check_email(name, email).check()
            # The matter's row, locked, stands for its contacts: two staff inviting the same
            # client at once cannot both insert one.
            locked_row(s, Matter, matter_id, "matter")
            contact = s.scalar(
                select(PortalContact)
                .where(PortalContact.matter_id == matter_id, PortalContact.client_id == client_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            status = contact.status if contact is not None else None
            decision, target = rules.contact_transition(status, ContactAction.INVITE, name=name)
            decision.check()
            assert target is not None
            new_primary = rules.c1_email_to_save(client.primary_email, email)
            if new_primary is not None:
                self.ctx.audit(
                    s,
                    "client.edit",
                    kind="client",
                    item_id=client.id,
                    before={"primary_email": client.primary_email},
                    after={"primary_email": new_primary},
                )
                client.primary_email = new_primary
            now = utcnow()
            if contact is None:
                contact = PortalContact(
                    matter_id=matter_id,
                    client_id=client_id,
                    name=name,
                    email=email,
                    status=target,
                    invited_at=now,
                    invitations_sent=1,
                    version=1,
                )
                s.add(contact)
                s.flush()
            else:
                contact.name, contact.email, contact.status = name, email, target
                contact.invited_at = now
                contact.activated_at = None
                contact.invitations_sent += 1
                contact.version = next_contact_version(contact)
            self._contact_changed(s, contact, ContactAction.INVITE, status)
            return contact.id

    # Each takes the contact's `version` as the screen read it (`expected_version`): an action
    # chosen from a screen that someone else's change has overtaken is refused (EditConflict).

    def disable_contact(self, contact_id: int, *, expected_version: int | None = None) -> str:
        """C2: temporary; the contact sees nothing until enabled again."""
        return self._move(contact_id, ContactAction.DISABLE, True, expected_version)

    def enable_contact(
        self, contact_id: int, *, confirmed: bool = False, expected_version: int | None = None
    ) -> str:
        """C2: asks for confirmation first."""
        return self._move(contact_id, ContactAction.ENABLE, confirmed, expected_version)

    def remove_contact(
        self, contact_id: int, *, confirmed: bool = False, expected_version: int | None = None
    ) -> str:
        """C3: warns first; afterwards the contact can be invited again."""
        return self._move(contact_id, ContactAction.REMOVE, confirmed, expected_version)

    def reinvite_contact(self, contact_id: int, *, expected_version: int | None = None) -> str:
        """C3: sends the invitation again."""
        return self._move(contact_id, ContactAction.REINVITE, True, expected_version)

    def _move(
        self,
        contact_id: int,
        action: ContactAction,
        confirmed: bool,
        expected_version: int | None,
    ) -> str:
        rules.c1_may_invite(self.ctx.actor.role).check()
        with self.db.write() as s:
            contact = locked_row(s, PortalContact, contact_id, "portal contact")
            check_unchanged(
                s,
                contact.version,
                expected_version,
                what="contact",
                kind="contact",
                item_id=contact_id,
            )
            decision, target = rules.contact_transition(
                contact.status,
                action,
                name=contact.name,
                was_activated=contact.activated_at is not None,
            )
            decision.check()
            assert target is not None
            if not confirmed:
                if action is ContactAction.ENABLE:
                    raise NeedsConfirmation("C2", rules.c2_enable_confirmation(contact.name))
                if action is ContactAction.REMOVE:
                    raise NeedsConfirmation("C3", rules.c3_remove_warning(contact.name))
            if action is ContactAction.REINVITE:
                matter = get_row(s, Matter, contact.matter_id, "matter")
                rules.m1_portal_on(firm_portal(s), matter_portal_of(matter)).check()
                contact.invitations_sent += 1
            before = contact.status
            contact.status = target
            contact.version = next_contact_version(contact)
            self._contact_changed(s, contact, action, before)
            return {
                ContactAction.DISABLE: texts.CONTACT_DISABLED,
                ContactAction.ENABLE: texts.CONTACT_ENABLED,
                ContactAction.REMOVE: texts.CONTACT_REMOVED,
                ContactAction.REINVITE: texts.CONTACT_REINVITED.format(email=contact.email),
                ContactAction.INVITE: texts.CONTACT_INVITED.format(email=contact.email),
            }[action]

    def _contact_changed(
        self,
        s: Session,
        contact: PortalContact,
        action: ContactAction,
        before: ContactStatus | None,
    ) -> None:
        self.ctx.audit(
            s,
            f"contact.{action.value}",
            kind="contact",
            item_id=contact.id,
            matter_id=contact.matter_id,
            before={"status": before} if before is not None else None,
            after={"status": contact.status, "email": contact.email},
        )
        queue_outbox(
            s,
            OutboxOp.CONTACT,
            contact_payload(contact, action),
            kind="contact",
            item_id=contact.id,
            matter_id=contact.matter_id,
            version=contact.version,
        )

    def contacts(self, matter_id: int, *, include_removed: bool = True) -> list[ContactRow]:
        with self.db.read() as s:
            stmt = select(PortalContact).where(PortalContact.matter_id == matter_id)
            if not include_removed:
                stmt = stmt.where(PortalContact.status != ContactStatus.REMOVED)
            return [contact_row(c) for c in s.scalars(stmt.order_by(PortalContact.name))]

    def contact(self, contact_id: int) -> ContactRow:
        with self.db.read() as s:
            return contact_row(get_row(s, PortalContact, contact_id, "portal contact"))

    def contact_actions(self, contact_id: int) -> list[ContactAction]:
        """What the Client Portal screen offers for this contact (C2, C3)."""
        with self.db.read() as s:
            contact = get_row(s, PortalContact, contact_id, "portal contact")
            return rules.contact_actions(contact.status)

    # What the portal tells us (sync) -----------------------------------------------------------

    def record_contact_activated(self, contact_id: int, at: datetime) -> None:
        """P1: the client set a password through the invitation link."""
        with self.db.write() as s:
            contact = locked_row(s, PortalContact, contact_id, "portal contact")
            if contact.activated_at is not None and contact.status is not ContactStatus.INVITED:
                return
            before = contact.status
            contact.activated_at = at
            if contact.status is ContactStatus.INVITED:
                contact.status = ContactStatus.ACTIVE
            self.ctx.audit(
                s,
                "contact.activated",
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
                before={"status": before},
                after={"status": contact.status},
            )

    def record_contact_login(self, contact_id: int, at: datetime) -> None:
        with self.db.write() as s:
            get_row(s, PortalContact, contact_id, "portal contact")
            record_login(s, PortalContact.id == contact_id, at)

"""Portal contacts: invite, disable, enable, remove, re-invite (C1-C3), and what sync learns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NeedsConfirmation, Refused
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


# How a contact is told to the portal without an invitation or a change of status (a restore,
# a renamed contact): the action whose end is the status it already has.
AS_IT_STANDS: dict[ContactStatus, ContactAction] = {
    ContactStatus.ACTIVE: ContactAction.ENABLE,
    ContactStatus.INVITED: ContactAction.ENABLE,
    ContactStatus.DISABLED: ContactAction.DISABLE,
    ContactStatus.REMOVED: ContactAction.REMOVE,
}


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
        with self.db.write() as s:
            return self.invite_in(s, matter_id, client_id, name=name, email=email).id

    def invite_in(
        self, s: Session, matter_id: int, client_id: int, *, name: str, email: str
    ) -> PortalContact:
        """`invite_contact` within the caller's transaction (an import invites a whole file
        in one): the same checks (R1/C1, M1), the same trail and the same outbox row."""
        rules.c1_may_invite(self.ctx.actor.role).check()
        email = email.strip()
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
        return contact

    def rename_in(self, s: Session, contact: PortalContact, name: str, action: str) -> None:
        """A contact's name as the firm now has it (an import), within the caller's
        transaction; `contact` is locked by the caller. The portal hears of it as the contact
        stands (no invitation, no change of status): it shows the name to the client."""
        rules.c1_may_invite(self.ctx.actor.role).check()
        before = contact.name
        contact.name = name
        contact.version = next_contact_version(contact)
        self.ctx.audit(
            s,
            action,
            kind="contact",
            item_id=contact.id,
            matter_id=contact.matter_id,
            before={"name": before},
            after={"name": name},
        )
        queue_outbox(
            s,
            OutboxOp.CONTACT,
            contact_payload(contact, AS_IT_STANDS[contact.status]),
            kind="contact",
            item_id=contact.id,
            matter_id=contact.matter_id,
            version=contact.version,
        )

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

    def edit_contact(
        self, contact_id: int, *, name: str, email: str, expected_version: int | None = None
    ) -> str:
        """Correct a contact's name or email (C1: Admin and Normal; the email checked as an
        invitation's). The portal hears of it as of every contact change, at the contact's next
        version: its account then goes by the new name and address. A removed contact is given
        new details when invited again, so it is not edited."""
        rules.c1_may_invite(self.ctx.actor.role).check()
        name, email = name.strip(), email.strip()
        if not name or len(name) > 200:
            raise Refused("C1", texts.CONTACT_NEEDS_NAME)
        rules.c1_check_email(name, email).check()
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
            decision, _ = rules.contact_transition(
                contact.status, ContactAction.EDIT, name=contact.name
            )
            decision.check()
            done = texts.CONTACT_SAVED.format(name=name)
            if (contact.name, contact.email) == (name, email):
                return done
            before = {"name": contact.name, "email": contact.email}
            contact.name, contact.email = name, email
            contact.version = next_contact_version(contact)
            self.ctx.audit(
                s,
                "contact.edit",
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
                before=before,
                after={"name": name, "email": email},
            )
            queue_outbox(
                s,
                OutboxOp.CONTACT,
                contact_payload(contact, ContactAction.EDIT),
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
                version=contact.version,
            )
            if contact.status is ContactStatus.INVITED and before["email"] != email:
                return f"{done} {texts.CONTACT_EMAIL_CHANGED_INVITED}"
            return done

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

    def reset_two_factor(self, contact_id: int, *, confirmed: bool = False) -> str:
        """Reset the client's second factor on the portal (their phone and recovery codes
        lost): asked to confirm, audited, and the portal told, which emails the client."""
        rules.c1_may_invite(self.ctx.actor.role).check()
        with self.db.write() as s:
            contact = locked_row(s, PortalContact, contact_id, "portal contact")
            rules.c1_two_factor_reset(
                contact.name,
                was_activated=contact.activated_at is not None,
                removed=contact.status is ContactStatus.REMOVED,
            ).check()
            if not confirmed:
                raise NeedsConfirmation(
                    "C1", texts.TWO_FACTOR_RESET_CONFIRM.format(name=contact.name)
                )
            self.ctx.audit(
                s,
                "contact.two_factor_reset",
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
                after={"email": contact.email},
            )
            queue_outbox(
                s,
                OutboxOp.TWO_FACTOR_RESET,
                {"contact_id": contact.id},
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
            )
            return texts.TWO_FACTOR_RESET_DONE.format(email=contact.email)

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

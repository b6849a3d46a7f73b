"""A contact's sign-ins, asked of the portal while a staff member waits (the contact screen):
two-factor, the last sign-in, the sessions alive; and "Sign out everywhere", which the portal
does at once and the firm's audit trail records (who, whom, how many sessions ended).

Asked, not sent through the outbox: a sign-out that waited for a portal that is down would
leave a thief signed in while the screen said otherwise, so a portal that cannot be reached is
said at once (PortalAway) and nothing is recorded."""

from __future__ import annotations

from typing import Protocol

from portal_tui.domain import rules, texts
from portal_tui.domain.records import ContactSignIns
from portal_tui.store.models import PortalContact

from .base import Service, get_row


class SignInSource(Protocol):
    """The portal's side (PortalClient); each call raises PortalAway when it cannot answer."""

    def contact_sign_ins(self, contact_id: int) -> ContactSignIns: ...

    def sign_out_contact(self, contact_id: int) -> int: ...


class SignInsService(Service):
    def contact_sign_ins(self, contact_id: int, portal: SignInSource) -> ContactSignIns:
        with self.db.read() as s:
            get_row(s, PortalContact, contact_id, "portal contact")
        return portal.contact_sign_ins(contact_id)

    def sign_out_everywhere(self, contact_id: int, portal: SignInSource) -> str:
        """Every session of the contact's client ends (R1/C1: Admin and Normal staff)."""
        rules.c1_may_invite(self.ctx.actor.role).check()
        with self.db.read() as s:
            name = get_row(s, PortalContact, contact_id, "portal contact").name
        ended = portal.sign_out_contact(contact_id)
        with self.db.write() as s:
            contact = get_row(s, PortalContact, contact_id, "portal contact")
            self.ctx.audit(
                s,
                "contact.sign_out",
                kind="contact",
                item_id=contact.id,
                matter_id=contact.matter_id,
                after={"sessions_ended": ended},
            )
        return texts.CONTACT_SIGNED_OUT.format(name=name, ended=ended)

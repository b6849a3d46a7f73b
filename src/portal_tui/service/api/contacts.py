"""Portal contacts (C1-C3): the firm's invite, disable, enable, remove, re-invite and edit (a
name or email corrected).

The firm's domain rules decide each transition; the service keeps the status it is sent, with
one exception it alone knows about: a client who has activated the account in the meantime
(the firm hears of it later, through the changes feed) stays active on a re-invite or an
enable that the firm computed as "invited".
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import HTTPException, Path, Request
from sqlalchemy.orm import Session

from portal_tui.domain.states import ContactAction, ContactStatus
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..mail import notices
from ..models import Account, PortalContact
from .auth import IdempotencyKey
from .common import DB, ERRORS, Config, known_matter, same_as_path, staff_router, write
from .schemas import ENDS_IN, MAX_ID, ContactIn, ContactOut

router = staff_router()

ContactId = Annotated[int, Path(ge=1, le=MAX_ID, description="The firm's contact id.")]

SENDS_INVITATION = frozenset({ContactAction.INVITE, ContactAction.REINVITE})
# The firm's view of the client's name and address: the account takes it on an invitation,
# and when the firm corrects a contact's details.
RENAMES_ACCOUNT = SENDS_INVITATION | {ContactAction.EDIT}


def invitation_hash(secret: str) -> str:
    """What is stored of an invitation link's secret (the pages look links up by it)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _out(contact: PortalContact, *, applied: bool) -> ContactOut:
    return ContactOut(
        applied=applied,
        version=contact.version,
        status=ContactStatus(contact.status),
        invitations_sent=contact.invitations_sent,
        invite_expires_at=contact.invite_expires_at,
    )


@router.put(
    "/contacts/{contact_id}",
    response_model=ContactOut,
    responses=ERRORS,
    summary="Invite, disable, enable, remove, re-invite or edit a contact",
)
def put_contact(
    request: Request,
    contact_id: ContactId,
    body: ContactIn,
    db: DB,
    config: Config,
    _key: IdempotencyKey,
) -> ContactOut:
    same_as_path("contact_id", contact_id, body.contact_id)
    if body.status not in ENDS_IN[body.action]:
        raise HTTPException(
            422,
            f"A contact cannot be {body.status.value} after the action {body.action.value}.",
        )

    def work(s: Session) -> ContactOut:
        contact = s.get(PortalContact, contact_id, with_for_update=True)
        if contact is not None and body.version <= contact.version:
            return _out(contact, applied=False)
        if contact is not None and (contact.matter_id, contact.account_id) != (
            body.matter_id,
            body.client_id,
        ):
            raise HTTPException(
                422,
                f"Contact {contact_id} is client {contact.account_id} on matter "
                f"{contact.matter_id}; it cannot become another client's or matter's.",
            )
        known_matter(s, body.matter_id)
        account = s.get(Account, body.client_id, with_for_update=True)
        if account is None:
            account = Account(id=body.client_id, email=body.email, name=body.name)
            s.add(account)
        elif body.action in RENAMES_ACCOUNT:
            # The invitation goes to this address, and the client logs in with it.
            account.email, account.name = body.email, body.name
        if contact is None:
            contact = PortalContact(
                id=contact_id,
                matter_id=body.matter_id,
                account_id=body.client_id,
                invitations_sent=0,
            )
            s.add(contact)
        contact.name, contact.email = body.name, body.email
        contact.status = _status(body, contact, account).value
        contact.version = body.version
        if body.action is ContactAction.REMOVE:
            contact.invite_hash, contact.invite_expires_at = None, None
        s.flush()
        if body.action in SENDS_INVITATION:
            _invite(s, config, contact)
        return _out(contact, applied=True)

    return write(
        request,
        db,
        work,
        conflict=f"Contact {contact_id} clashes with another contact of the same client and "
        "matter on the portal.",
    )


def _status(body: ContactIn, contact: PortalContact, account: Account) -> ContactStatus:
    activated = account.password_hash is not None and account.activated_at is not None
    if (
        body.status is ContactStatus.INVITED
        and body.action in (ContactAction.REINVITE, ContactAction.ENABLE, ContactAction.EDIT)
        and activated
        and contact.status in (ContactStatus.ACTIVE.value, ContactStatus.DISABLED.value)
    ):
        return ContactStatus.ACTIVE
    return body.status


def _invite(s: Session, config: ServiceConfig, contact: PortalContact) -> None:
    """A fresh invitation link (the previous one stops working) and its email, queued in
    this transaction so that the link and the email exist together or not at all."""
    secret = secrets.token_urlsafe(32)
    contact.invite_hash = invitation_hash(secret)
    contact.invite_expires_at = utcnow() + timedelta(days=config.invitation_valid_days)
    contact.invitations_sent += 1
    s.flush()
    link = f"{config.base_url.rstrip('/')}/invite/{secret}"
    notices.queue_invitation(s, config, contact, link)

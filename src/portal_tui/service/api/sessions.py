"""A contact's sign-ins, for the firm's contact screen: whether two-factor is on, the last
sign-in and how many sessions are alive; and "Sign out everywhere", which ends every session
of the client the contact belongs to (one client signs in once for all their matters: C4).

    GET  /contacts/{id}/security     {contact_id, two_factor, last_login_at, active_sessions}
    POST /contacts/{id}/sign-out     {contact_id, ended}: every session of the client ends
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from portal_tui.sqltypes import utcnow

from .. import account_state
from ..models import Account, PortalContact
from .auth import IdempotencyKey
from .common import DB, ERRORS, NO_CONTACT, READ_ERRORS, Config, staff_router, write
from .contacts import ContactId
from .schemas import ContactSecurityOut, SignedOutOut

router = staff_router()


def _account_of(s: Session, contact_id: int) -> Account:
    contact = s.get(PortalContact, contact_id)
    account = s.get(Account, contact.account_id) if contact is not None else None
    if account is None:
        raise HTTPException(404, f"There is no contact {contact_id} on the portal.")
    return account


@router.get(
    "/contacts/{contact_id}/security",
    response_model=ContactSecurityOut,
    responses={**READ_ERRORS, **NO_CONTACT},
    summary="A contact's two-factor, last sign-in and live sessions",
)
def contact_security(contact_id: ContactId, db: DB, config: Config) -> ContactSecurityOut:
    with db.read() as s:
        account = _account_of(s, contact_id)
        return ContactSecurityOut(
            contact_id=contact_id,
            two_factor=account_state.two_factor_on(s, account.id),
            last_login_at=account.last_login_at,
            active_sessions=account_state.live_session_count(s, config, account.id, utcnow()),
        )


@router.post(
    "/contacts/{contact_id}/sign-out",
    response_model=SignedOutOut,
    responses={**ERRORS, **NO_CONTACT},
    summary="Sign the contact's client out everywhere",
)
def sign_out_everywhere(
    request: Request, contact_id: ContactId, db: DB, _key: IdempotencyKey
) -> SignedOutOut:
    def work(s: Session) -> SignedOutOut:
        account = _account_of(s, contact_id)
        return SignedOutOut(contact_id=contact_id, ended=account_state.end_sessions(s, account.id))

    return write(request, db, work, conflict=f"Contact {contact_id} could not be signed out now.")

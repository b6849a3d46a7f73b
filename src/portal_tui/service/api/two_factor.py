"""Staff reset a client's second factor (a lost phone and lost recovery codes): the TOTP
secret, the recovery codes, the pending sign-ins and so every remembered device end, every
session of the client ends too (as a new password does: whoever held the lost phone may be
signed in), and the client is emailed a security notice. A reset that finds two-factor off
changes nothing. Audited in the firm's database, which asked for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Request
from sqlalchemy.orm import Session

from portal_tui.sqltypes import utcnow

from .. import account_state, two_factor
from ..mail.security import queue_two_factor_reset
from ..models import Account, PortalContact
from .auth import IdempotencyKey
from .common import DB, ERRORS, NO_CONTACT, Config, staff_router, write
from .schemas import MAX_ID, TwoFactorResetOut

router = staff_router()

ContactId = Annotated[int, Path(ge=1, le=MAX_ID, description="The firm's contact id.")]


@router.post(
    "/contacts/{contact_id}/two-factor/reset",
    response_model=TwoFactorResetOut,
    responses={**ERRORS, **NO_CONTACT},
    summary="Reset the two-factor sign-in of a contact's client account",
)
def reset_two_factor(
    request: Request, contact_id: ContactId, db: DB, config: Config, _key: IdempotencyKey
) -> TwoFactorResetOut:
    def work(s: Session) -> TwoFactorResetOut:
        contact = s.get(PortalContact, contact_id)
        if contact is None:
            raise HTTPException(404, f"Contact {contact_id} is not on the portal.")
        account = s.get(Account, contact.account_id, with_for_update=True)
        assert account is not None  # a contact's account is made with it
        if two_factor.enabled(s, account.id, lock=True) is None:
            # Off already: nothing to reset, and a setup or sign-in under way stays as it is.
            return TwoFactorResetOut(reset=False)
        two_factor.turn_off(s, account.id)
        two_factor.end_pending(s, account.id)
        # Every signed-in browser too, as a new password does (ASVS V7.4.3): whoever has the
        # lost phone may be signed in with it.
        account_state.end_sessions(s, account.id)
        required = two_factor.required(s, account.id)
        queue_two_factor_reset(s, config, account, utcnow(), required=required)
        return TwoFactorResetOut(reset=True)

    return write(request, db, work, conflict=f"Contact {contact_id} changed meanwhile; retry.")

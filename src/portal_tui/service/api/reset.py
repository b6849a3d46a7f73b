"""A firm that restored a backup starts over on the portal (POST /firm/reset).

After a restore the firm's versions are older than what the portal holds — an unshare of an
item the portal holds at a newer version would be ignored, leaving it published. So the reset,
in one transaction: every item copy is withdrawn (its version back to 0, its bytes dropped), each
matter's portal turned off, and every version the firm set forgotten; contacts the restored firm
does not know lose their access. The restored firm then sends everything it shares, every
matter and contact as it stands, at versions the portal now takes. Clients keep their accounts
and passwords; what they did since the backup is still in the changes feed for the restored firm
to read again.
"""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal_tui.domain.states import ContactStatus
from portal_tui.sqltypes import utcnow

from ..models import (
    DocumentBlob,
    InvoicePdf,
    PortalBinding,
    PortalContact,
    PortalFirm,
    PortalItem,
    PortalMatter,
)
from . import binding
from .auth import IdempotencyKey, named_firm, resetting_firm
from .common import DB, ERRORS, READ_ERRORS, staff_router, write
from .schemas import Applied, BindingOut, ResetIn

# The reset needs the firm's headers; GET /firm/binding takes them as every route does.
router = staff_router(names_firm=False)
# Contact ids per IN (...), well under every backend's limit on bound parameters.
_CHUNK = 500


@router.get(
    "/firm/binding",
    response_model=BindingOut,
    responses=READ_ERRORS,
    summary="Which firm this portal serves",
    dependencies=[Depends(named_firm)],
)
def firm_binding(db: DB) -> BindingOut:
    with db.read() as s:
        bound = s.get(PortalBinding, 1)
        firm = s.get(PortalFirm, 1)
        if bound is None:
            return BindingOut(firm_id=None, name=None, epoch=None)
        return BindingOut(
            firm_id=bound.firm_uuid, name=firm.name if firm else "", epoch=bound.epoch
        )


@router.post(
    "/firm/reset",
    response_model=Applied,
    responses=ERRORS,
    summary="Start over for a firm that restored a backup",
    description="Withdraws every item copy, turns every matter's portal off and forgets the "
    "firm's versions, so that the restored firm's state, sent next, wins. Contacts not listed "
    f"lose their access. The request must name the firm ({binding.FIRM_HEADER}) and its new "
    f"epoch ({binding.EPOCH_HEADER}, equal to the body's); a reset to the epoch already held "
    "changes nothing.",
    dependencies=[Depends(resetting_firm)],
)
def reset_firm(body: ResetIn, request: Request, db: DB, _key: IdempotencyKey) -> Applied:
    claim = binding.read_claim(request)
    if not isinstance(claim, tuple) or claim[1] != body.epoch:
        raise HTTPException(
            422,
            f"A reset must name the firm ({binding.FIRM_HEADER}) and the same epoch in "
            f"{binding.EPOCH_HEADER} as in its body.",
        )
    firm, epoch = claim

    def work(s: Session) -> Applied:
        bound = s.get(PortalBinding, 1, with_for_update=True, populate_existing=True)
        if bound is None:
            bound = PortalBinding(id=1, firm_uuid=firm, epoch=epoch, bound_at=utcnow())
            s.add(bound)
        elif bound.firm_uuid != firm or epoch < bound.epoch:
            raise HTTPException(409, "The portal's binding changed meanwhile; retry.")
        elif epoch == bound.epoch:
            return Applied(applied=False, version=epoch)
        _start_over(s, set(body.contacts))
        bound.epoch = epoch
        return Applied(applied=True, version=epoch)

    applied = write(request, db, work, conflict="Another reset ran at the same moment; retry.")
    binding.forget(request)
    return applied


def _start_over(s: Session, known_contacts: set[int]) -> None:
    s.execute(
        update(PortalItem).values(
            published=False, data=None, version=0, published_at=None, batch=None
        )
    )
    s.execute(delete(DocumentBlob))
    s.execute(delete(InvoicePdf))
    s.execute(update(PortalMatter).values(enabled=False, version=0, notify_version=0))
    s.execute(update(PortalFirm).values(version=0))
    s.execute(update(PortalContact).values(version=0))
    # Contacts the restored firm never had (invited after the backup) must not keep access.
    held = sorted(s.scalars(select(PortalContact.id)))
    strangers = [contact for contact in held if contact not in known_contacts]
    for start in range(0, len(strangers), _CHUNK):
        s.execute(
            update(PortalContact)
            .where(PortalContact.id.in_(strangers[start : start + _CHUNK]))
            .values(status=ContactStatus.REMOVED.value, invite_hash=None, invite_expires_at=None)
        )

"""The firm's portal settings (F2-F5), a matter's switch and permissions (M1-M4), and who
gets a matter's notices (M5). Each is the desired state with a version: only a newer one
applies, so deliveries that arrive out of order settle on the newest."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from sqlalchemy.orm import Session

from ..models import PortalFirm, PortalMatter
from .auth import IdempotencyKey
from .common import DB, ERRORS, matter_or_placeholder, same_as_path, staff_router, write
from .schemas import MAX_ID, Applied, FirmIn, MatterIn, MatterNotifyIn

router = staff_router()

MatterId = Annotated[int, Path(ge=1, le=MAX_ID, description="The firm's matter id.")]


@router.put("/firm", response_model=Applied, responses=ERRORS, summary="Set the firm's settings")
def put_firm(request: Request, body: FirmIn, db: DB, _key: IdempotencyKey) -> Applied:
    def work(s: Session) -> Applied:
        firm = s.get(PortalFirm, 1, with_for_update=True)
        if firm is not None and body.version <= firm.version:
            return Applied(applied=False, version=firm.version)
        if firm is None:
            firm = PortalFirm(id=1)
            s.add(firm)
        firm.name = body.name
        firm.enabled = body.enabled
        firm.permissions = [c.value for c in body.permissions]
        firm.notify_new_items = body.notify_new_items
        firm.daily_digest = body.daily_digest
        firm.notify_staff_on_upload = body.notify_staff_on_upload
        firm.two_factor_required = body.two_factor_required.value
        firm.version = body.version
        return Applied(applied=True, version=body.version)

    return write(request, db, work, conflict="The firm's settings changed meanwhile; retry.")


@router.put(
    "/matters/{matter_id}",
    response_model=Applied,
    responses=ERRORS,
    summary="Set a matter's portal switch and permissions",
)
def put_matter(
    request: Request, matter_id: MatterId, body: MatterIn, db: DB, _key: IdempotencyKey
) -> Applied:
    same_as_path("matter_id", matter_id, body.matter_id)

    def work(s: Session) -> Applied:
        matter = s.get(PortalMatter, matter_id, with_for_update=True)
        if matter is not None and body.version <= matter.version:
            return Applied(applied=False, version=matter.version)
        if matter is None:
            matter = PortalMatter(id=matter_id, notify=[], notify_version=0)
            s.add(matter)
        matter.number = body.number
        matter.name = body.name
        matter.enabled = body.enabled
        matter.permissions = [c.value for c in body.permissions]
        matter.sensitive = body.sensitive
        matter.version = body.version
        return Applied(applied=True, version=body.version)

    return write(request, db, work, conflict=f"Matter {matter_id} changed meanwhile; retry.")


@router.put(
    "/matters/{matter_id}/notify",
    response_model=Applied,
    responses=ERRORS,
    summary="Set the staff who get a matter's portal notices",
)
def put_matter_notify(
    request: Request, matter_id: MatterId, body: MatterNotifyIn, db: DB, _key: IdempotencyKey
) -> Applied:
    same_as_path("matter_id", matter_id, body.matter_id)

    def work(s: Session) -> Applied:
        # Parties may be set before the matter's portal was ever turned on, so this does not
        # wait for the matter: a stand-in keeps the list until the matter arrives.
        matter = s.get(PortalMatter, matter_id, with_for_update=True)
        if matter is None:
            matter = matter_or_placeholder(s, matter_id)
        if body.version <= matter.notify_version:
            return Applied(applied=False, version=matter.notify_version)
        matter.notify = [party.model_dump(mode="json") for party in body.notify]
        matter.notify_version = body.version
        return Applied(applied=True, version=body.version)

    return write(request, db, work, conflict=f"Matter {matter_id} changed meanwhile; retry.")

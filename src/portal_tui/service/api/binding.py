"""One portal serves one firm.

The firm's app names itself on every request (`X-Portal-Firm`: the firm's id, made when the
firm was set up and kept in its database, so a restored backup is the same firm) with its
epoch (`X-Portal-Firm-Epoch`, which grows each time the firm restores a backup). The first firm
that speaks binds the portal; from then on:

- another firm is refused (421), with both ids in the answer: item ids of two firms collide,
  and a client's reply to one firm's message must never reach the other;
- an older epoch of the bound firm — a copy of its database from before a restore — is refused
  (421): what it would send is older than what the restored firm has told the portal;
- a newer epoch is asked to reset first (409, retry later), except the reset itself
  (POST /firm/reset), after which the restored firm's state wins over the newer versions the
  portal held.

A request that does not name a firm (a tool that is not portal-tui) is served as before.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from ..models import PortalBinding, PortalFirm

FIRM_HEADER = "X-Portal-Firm"
EPOCH_HEADER = "X-Portal-Firm-Epoch"
RESET_PATH = "/api/v1/firm/reset"
# A binding seen lately is trusted from memory when the request's firm and epoch match it (the
# usual case); anything else is read again from the database before it is refused.
BINDING_TTL_S = 5.0
# Plain digits, no leading zero, at most 15 of them: a pattern can say exactly that, and it
# stays inside what a JSON reader holds exactly. An epoch counts the firm's restores.
EPOCH_PATTERN = r"^[1-9][0-9]{0,14}$"
MAX_EPOCH = 10**15 - 1
_EPOCH = re.compile(EPOCH_PATTERN)
FIRM_ID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
FIRM_ID = re.compile(FIRM_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Bound:
    firm_uuid: str
    epoch: int


def _refusal(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": "2"} if status == 409 else None
    return JSONResponse({"detail": detail, "code": code, **extra}, status, headers=headers)


def read_claim(request: Request) -> tuple[str, int] | JSONResponse | None:
    """The firm and epoch the request names; None when it names none; a 400 when malformed.

    Exactly what the OpenAPI document says of the two headers (auth.py): the firm's id as
    portal-tui sends it, 8-4-4-4-12 hex digits, and the epoch as EPOCH_PATTERN says, checked
    even without a firm."""
    named = request.headers.get(FIRM_HEADER)
    given_epoch = request.headers.get(EPOCH_HEADER)
    epoch = 1
    if given_epoch is not None:
        if not _EPOCH.fullmatch(given_epoch):
            return _refusal(
                400, "bad_firm", f"{EPOCH_HEADER} must be a whole number from 1 to {MAX_EPOCH}."
            )
        epoch = int(given_epoch)
    if named is None:
        return None
    if not FIRM_ID.fullmatch(named):
        return _refusal(
            400,
            "bad_firm",
            f"{FIRM_HEADER} must be the firm's id, a UUID (8-4-4-4-12 hexadecimal digits).",
        )
    return str(uuid.UUID(named)), epoch


def bound_firm(db: Database) -> Bound | None:
    with db.read() as s:
        row = s.get(PortalBinding, 1)
        return Bound(row.firm_uuid, row.epoch) if row is not None else None


def _bind(db: Database, firm: str, epoch: int) -> Bound:
    """The binding, made now for this firm if the portal had none (the first of two firms
    speaking at once wins; the other then finds it)."""
    try:
        with db.write() as s:
            if s.get(PortalBinding, 1) is None:
                s.add(PortalBinding(id=1, firm_uuid=firm, epoch=epoch, bound_at=utcnow()))
    except IntegrityError:
        pass
    found = bound_firm(db)
    assert found is not None
    return found


def _firm_name(db: Database) -> str:
    with db.read() as s:
        row = s.get(PortalFirm, 1)
        return row.name if row is not None else ""


def agreed(request: Request) -> bool:
    """Whether the request may go on without a look at the database: it names no firm, or
    the firm and epoch the portal was bound to a moment ago (no I/O, for the event loop)."""
    claim = read_claim(request)
    if claim is None:
        return True
    if isinstance(claim, JSONResponse):
        return False
    cached: tuple[Bound, float] | None = getattr(request.app.state, "portal_binding", None)
    return cached is not None and cached[1] > time.monotonic() and cached[0] == Bound(*claim)


def forget(request: Request) -> None:
    """The binding changed (a reset): look it up again."""
    request.app.state.portal_binding = None


def check(request: Request, db: Database) -> JSONResponse | None:
    """None when the request may go on; else the refusal to answer with."""
    claim = read_claim(request)
    if claim is None or isinstance(claim, JSONResponse):
        return claim
    firm, epoch = claim
    state = request.app.state
    bound = bound_firm(db) or _bind(db, firm, epoch)
    state.portal_binding = (bound, time.monotonic() + BINDING_TTL_S)
    if bound.firm_uuid != firm:
        name = _firm_name(db)
        shown = f'"{name}" ' if name else ""
        return _refusal(
            421,
            "other_firm",
            f"This portal serves another firm, {shown}(id {bound.firm_uuid}), and refuses "
            f"firm {firm}: each firm needs a portal service of its own.",
            portal_firm={"id": bound.firm_uuid, "name": name},
        )
    if epoch < bound.epoch:
        return _refusal(
            421,
            "stale_epoch",
            f"This firm's database was restored from a backup since this copy of it was made "
            f"(epoch {epoch}; the portal follows epoch {bound.epoch}): use the restored database.",
            portal_epoch=bound.epoch,
        )
    if epoch > bound.epoch and request.url.path != RESET_PATH:
        return _refusal(
            409,
            "reset_first",
            f"This firm restored a backup (epoch {epoch}); the portal takes its reset first.",
            portal_epoch=bound.epoch,
        )
    return None


_BINDING = select(PortalBinding.firm_uuid, PortalBinding.epoch).where(PortalBinding.id == 1)


def hold(s: Session, request: Request) -> None:
    """In a write's own transaction: the firm and epoch the request names are still the ones
    the portal is bound to. `check` looked before the transaction began (or trusted what this
    process saw a moment ago), and a reset committed since by another worker would otherwise
    let a write from the older copy of the firm database in after it. The binding is read
    FOR KEY SHARE: writes do not wait for each other, and a reset (FOR UPDATE) waits for the
    writes under way, and they for it. A write a reset overtook is answered 409; its retry is
    then refused as `check` refuses it."""
    claim = read_claim(request)
    if not isinstance(claim, tuple) or request.url.path == RESET_PATH:
        return
    row = s.execute(_BINDING.with_for_update(read=True, key_share=True)).first()
    if row is not None and (row.firm_uuid, row.epoch) != claim:
        forget(request)
        raise HTTPException(
            409, "The portal's binding changed meanwhile; retry.", headers={"Retry-After": "2"}
        )

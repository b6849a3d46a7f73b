"""What the staff API's handlers share: dependencies, versioned-write transactions, and the
rule that a body may repeat an id of the path only if it is the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.database import Database

from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..models import PortalMatter
from .auth import current_staff
from .idempotency import RETRY_AFTER_SECONDS
from .route import StaffRoute
from .schemas import ErrorOut

T = TypeVar("T")

DB = Annotated[Database, Depends(db_of)]
Config = Annotated[ServiceConfig, Depends(config_of)]

# Two first writes of the same row can race on PostgreSQL (both see no row, both insert);
# the loser retries once the winner has committed, and then finds (and locks) the row.
WRITE_ATTEMPTS = 3

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "No Idempotency-Key, or a malformed request"},
    401: {"model": ErrorOut, "description": "No valid staff token"},
    409: {"model": ErrorOut, "description": "Not now: retry later with the same key"},
    413: {"model": ErrorOut, "description": "The body is too large"},
    422: {"model": ErrorOut, "description": "Invalid body, or the key reused for another body"},
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {code: ERRORS[code] for code in (401, 422)}


def not_now(detail: str) -> HTTPException:
    """409: the request is fine but cannot be done yet (something it needs has not arrived,
    or a concurrent write won). Retry it with the same Idempotency-Key; the key is not used up."""
    return HTTPException(409, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def staff_router() -> APIRouter:
    return APIRouter(route_class=StaffRoute, dependencies=[Depends(current_staff)])


def write(db: Database, work: Callable[[Session], T], *, conflict: str) -> T:
    """Run `work` in one writing transaction, again if a concurrent insert beat it."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with db.write() as s:
                return work(s)
        except IntegrityError:
            if attempt == WRITE_ATTEMPTS - 1:
                raise not_now(conflict) from None
    raise AssertionError("unreachable")


def same_as_path(name: str, in_path: object, in_body: object) -> None:
    if in_body is not None and in_body != in_path:
        raise HTTPException(
            422, f"The body's {name} ({in_body}) is not the one in the path ({in_path})."
        )


def known_matter(s: Session, matter_id: int) -> PortalMatter:
    matter = s.get(PortalMatter, matter_id)
    if matter is None:
        raise not_now(
            f"Matter {matter_id} is not on the portal yet: send PUT /api/v1/matters/{matter_id} "
            "first, then retry."
        )
    return matter


def matter_or_placeholder(s: Session, matter_id: int) -> PortalMatter:
    """The matter, or a stand-in with version 0 and the portal off until the firm sends it:
    for writes that must not wait on the matter (a revoke's tombstone, notice recipients)."""
    matter = s.get(PortalMatter, matter_id)
    if matter is None:
        matter = PortalMatter(
            id=matter_id,
            number="",
            name="",
            enabled=False,
            permissions=[],
            notify=[],
            version=0,
            notify_version=0,
        )
        s.add(matter)
        s.flush()
    return matter

"""The staff user behind a request. The token itself is checked by the route class (route.py),
before the body is read; this dependency hands the result to handlers and puts the bearer
scheme and the Idempotency-Key header into the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..tokens import StaffIdentity
from .idempotency import HEADER, KEY_PATTERN

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffToken",
    description="A staff API token, made with `portal-tui token create --staff LOGIN`.",
)


def current_staff(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> StaffIdentity:
    staff: StaffIdentity = request.state.staff
    return staff


def idempotency_key(
    key: Annotated[
        str,
        Header(
            alias=HEADER,
            pattern=KEY_PATTERN,
            description="Unique per intended change; a retry sends the same key again.",
        ),
    ],
) -> str:
    # Checked (400 when missing) by the route class before the request gets this far.
    return key


Staff = Annotated[StaffIdentity, Depends(current_staff)]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]

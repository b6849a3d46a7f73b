"""The staff user behind a request. The token itself is checked by the route class (route.py),
before the body is read; this dependency hands the result to handlers and puts the bearer
scheme, the Idempotency-Key header and the firm's headers (binding.py) into the OpenAPI
document."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..tokens import StaffIdentity
from .binding import EPOCH_HEADER, EPOCH_PATTERN, FIRM_HEADER, FIRM_ID_PATTERN
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


_FIRM = "The firm's id: the first firm that names itself binds the portal, any other is refused."
_EPOCH = "The firm's epoch (grows with each restore of a backup); 1 when not given."
_RESET_EPOCH = "The firm's epoch after restoring, the same as the body's `epoch`."

# Checked (400 when malformed) by the route class, binding.read_claim, before the request gets
# this far: these declare the headers, with exactly the forms it takes.
FirmHeader = Annotated[
    str | None,
    Header(alias=FIRM_HEADER, pattern=FIRM_ID_PATTERN, description=_FIRM),
]
# A header is text, so its form is a pattern, not an integer type: tools that check a request
# against the document compare a header's text with its schema, and text is no integer.
EpochHeader = Annotated[
    str | None,
    Header(alias=EPOCH_HEADER, pattern=EPOCH_PATTERN, description=_EPOCH),
]


def named_firm(_firm: FirmHeader = None, _epoch: EpochHeader = None) -> None:
    """Every staff route: the firm the request comes from, which portal-tui always names."""


def resetting_firm(
    _firm: Annotated[str, Header(alias=FIRM_HEADER, pattern=FIRM_ID_PATTERN, description=_FIRM)],
    _epoch: Annotated[
        str, Header(alias=EPOCH_HEADER, pattern=EPOCH_PATTERN, description=_RESET_EPOCH)
    ],
) -> None:
    """POST /firm/reset: a reset must name the firm and its new epoch."""


Staff = Annotated[StaffIdentity, Depends(current_staff)]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]

"""Schemathesis with every check against a real `portal-tui serve` (uvicorn on loopback): the
staff API's OpenAPI document says exactly what the API accepts and answers. A request the
document allows is not refused, one it forbids is not taken, every answer is one the document
lists, in its shape, and a 405's `Allow` names the methods the document lists for the path."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.api.binding import (
    EPOCH_HEADER,
    EPOCH_PATTERN,
    FIRM_HEADER,
    FIRM_ID,
    MAX_EPOCH,
)
from portal_tui.service.api.idempotency import HEADER as KEY_HEADER
from portal_tui.service.api.idempotency import KEY_PATTERN
from portal_tui.service.api.schemas import MAX_ID
from portal_tui.service.feed import CURSOR_PATTERN

from ...delivery.conftest import env, service
from ...delivery.support import Service

__all__ = ["env", "service"]  # the delivery tests' real `portal-tui serve`

# Fuzzing examples per operation; the coverage phase adds the cases the schema's edges define.
MAX_EXAMPLES = 6
# The firm every request that names one names: portal-tui always sends its own (one portal
# serves one firm; a second firm would rightly be refused 421).
FIRM = "0b5e7f5c-3d4a-4c1e-9a57-2f3c8d6e1b90"
RESET_PATH = "/api/v1/firm/reset"
_OTHER_KINDS = "|".join(kind.value for kind in ItemKind if kind is not ItemKind.INVOICE)
ITEM_PATH_OF_OTHER_KINDS = rf"/api/v1/items/({_OTHER_KINDS})/\{{item_id\}}"

# Schemathesis's own lists of the answers that refuse and that take a request, each with 413:
# a body over the cap (5 MB of JSON) is refused 413 whatever it holds. The document declares
# it for every write; no JSON Schema bound can cap the size of a body in bytes.
_REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "413", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {"expected-statuses": _REJECTED},
            "positive_data_acceptance": {"expected-statuses": _ACCEPTED},
        },
        "operations": [
            {
                # One handler serves GET and DELETE of every kind, the kind its only
                # difference: the coverage phase's edge cases (most of the run's time) go
                # through it for invoices; the other kinds get the fuzzing phase's cases.
                "include-name-regex": rf"^(GET|DELETE) {ITEM_PATH_OF_OTHER_KINDS}$",
                "phases": {"coverage": {"enabled": False}},
            },
            {
                # An all-day event whose last day is before its first is refused 422, as the
                # document says; no JSON Schema compares two of a body's fields.
                "include-name": "PUT /api/v1/items/event/{item_id}",
                "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "422"]}},
            },
            {
                # A firm's epoch only grows: a reset to an epoch older than one an earlier
                # reset applied is refused 421, as the document says. Whether it is older
                # depends on the resets before it, which no schema can know.
                "include-path": RESET_PATH,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "421"]}},
            },
        ],
    }
)


@pytest.fixture
def api_schema(service: Service) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{service.base}/openapi.json", config=CONFIG)


@dataclass(frozen=True)
class Clients:
    """HTTP clients kept for the whole run (one per case would cost more than the case)."""

    api: httpx.Client  # the harness's own look at the portal
    session: requests.Session  # what schemathesis sends the cases with


@pytest.fixture
def clients(service: Service) -> Iterator[Clients]:
    with service.api() as api, requests.Session() as session:
        yield Clients(api, session)


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="^/api/v1/")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_staff_api_does_what_its_openapi_document_says(
    case: schemathesis.Case, service: Service, clients: Clients
) -> None:
    as_portal_tui_sends_it(case, clients.api)
    # No `checks`: every check the config enables runs, and it enables them all. Two of them
    # (use_after_free, ensure_resource_availability) look at sequences of calls and act only
    # in a stateful run, which this is not; use_after_free would not fit anyway: a revoke
    # keeps a tombstone that GET answers 200 with its version, which the firm relies on.
    case.call_and_validate(
        base_url=service.base,
        session=clients.session,
        headers={"Authorization": f"Bearer {service.token}"},
    )


def as_portal_tui_sends_it(case: schemathesis.Case, api: httpx.Client) -> None:
    """Values the document allows but that name state the portal holds are made the ones a
    real client sends, where they are valid: a generated one is valid in form yet names
    nothing (a key used before, another firm, a cursor never given out), and the portal is
    right to refuse it. Invalid ones are left alone, to be refused."""
    headers: dict[str, Any] = case.headers if case.headers is not None else {}
    key = headers.get(KEY_HEADER)
    if isinstance(key, str) and re.fullmatch(KEY_PATTERN, key):
        # A key names one intended change: a generated one repeats, and a repeat for another
        # request is refused 422, as it must be.
        headers[KEY_HEADER] = uuid.uuid4().hex
    firm = headers.get(FIRM_HEADER)
    if isinstance(firm, str) and FIRM_ID.fullmatch(firm):
        headers[FIRM_HEADER] = FIRM
        epoch = headers.get(EPOCH_HEADER)
        if epoch is None or _valid_epoch(epoch):
            # The firm's current epoch (a reset's is its body's: the one it moves to).
            body = case.body if isinstance(case.body, dict) else {}
            if case.path == RESET_PATH and _valid_epoch(body.get("epoch")):
                headers[EPOCH_HEADER] = str(int(body["epoch"]))
            else:
                headers[EPOCH_HEADER] = str(api.get("/firm/binding").json()["epoch"] or 1)
    case.headers = headers
    body = case.body
    for name, value in (case.path_parameters or {}).items():
        # A body may repeat an id of its path (portal-tui sends its payload as it is); if it
        # does, it is the same one, or the request is refused 422.
        if isinstance(body, dict) and _valid_id(body.get(name)) and _valid_id(value):
            body[name] = value
    query = case.query if case.query is not None else {}
    cursor = query.get("cursor")
    if isinstance(cursor, str) and re.fullmatch(CURSOR_PATTERN, cursor):
        # A cursor stands for a place in this portal's feed: one it gave out.
        query["cursor"] = api.get("/changes").json()["cursor"]


def _valid_epoch(value: object) -> bool:
    """An epoch as the header or the reset's body may give it."""
    if isinstance(value, str):
        return re.fullmatch(EPOCH_PATTERN, value) is not None
    return _valid_id(value, MAX_EPOCH)


def _valid_id(value: object, most: int = MAX_ID) -> bool:
    # JSON has no separate integers: 95.0 is the whole number 95.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value == int(value) and 1 <= value <= most

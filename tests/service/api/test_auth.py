"""Bearer tokens of the staff API: made once, stored hashed, revocable."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.models import StaffToken
from portal_tui.service.tokens import TokenError, create_token, revoke_tokens

from .conftest import Api, firm_body


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwdw==",
        "Bearer ptk_unknown",
        "Bearer " + "x" * 500,
    ],
)
def test_a_request_without_a_valid_token_is_401(
    client: TestClient, authorization: str | None
) -> None:
    headers = {"Idempotency-Key": "k1"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for response in (
        client.get("/api/v1/changes", headers=headers),
        client.put("/api/v1/firm", json=firm_body(), headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]


def test_only_the_hash_is_stored_and_last_use_is_recorded(
    api: Api, service_db: Database, token: str
) -> None:
    with service_db.read() as s:
        row = s.scalars(select(StaffToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {row.token_hash, row.staff_login}
        assert row.last_used_at is None
    assert api.get("/changes").status_code == 200
    with service_db.read() as s:
        assert s.scalars(select(StaffToken)).one().last_used_at is not None


def test_a_revoked_token_is_401_and_others_still_work(
    client: TestClient, service_db: Database, token: str
) -> None:
    other = create_token(service_db, "bob")
    assert Api(client, token).get("/changes").status_code == 200
    assert revoke_tokens(service_db, token=token) == 1
    assert Api(client, token).get("/changes").status_code == 401
    assert Api(client, other).get("/changes").status_code == 200
    assert revoke_tokens(service_db, staff_login="bob") == 1
    assert Api(client, other).get("/changes").status_code == 401
    assert revoke_tokens(service_db, staff_login="bob") == 0


def test_token_requests_that_make_no_sense_are_refused(service_db: Database) -> None:
    with pytest.raises(TokenError):
        create_token(service_db, "  ")
    with pytest.raises(TokenError):
        revoke_tokens(service_db)
    with pytest.raises(TokenError):
        revoke_tokens(service_db, staff_login="a", token="b")


def test_every_answer_says_the_api_version(api: Api, client: TestClient) -> None:
    assert api.get("/changes").headers["X-Portal-API-Version"] == "1"
    assert client.get("/api/v1/changes").headers["X-Portal-API-Version"] == "1"
    assert api.put("/firm", firm_body()).headers["X-Portal-API-Version"] == "1"


@pytest.mark.parametrize(
    ("method", "path", "status", "without_token"),
    [
        ("GET", "/api/v1/no-such-thing", 404, 404),  # no route matches
        ("GET", "/api/v2/changes", 404, 404),  # an API version this portal does not serve
        ("GET", "/api/", 404, 404),
        ("PATCH", "/api/v1/items/invoice/1", 405, 405),  # a method the path does not take
        ("POST", "/api/v1/changes", 405, 405),
        ("GET", "/api/v1/items/invoice/1", 404, 401),  # the portal never had it
        ("GET", "/api/v1/items/widget/1", 422, 401),  # no such kind
    ],
)
def test_every_error_under_the_api_says_the_api_version(
    api: Api, client: TestClient, method: str, path: str, status: int, without_token: int
) -> None:
    # portal-tui tells a portal service from another server by this header: an error that
    # lacked it read as "portal_url is not a portal service".
    for headers, expected in ((api.headers(), status), ({}, without_token)):
        response = client.request(method, path, headers=headers)
        assert response.status_code == expected, (headers, response.text)
        assert response.headers.get_list("X-Portal-API-Version") == ["1"], response.headers


def test_pages_outside_the_api_do_not_claim_an_api_version(client: TestClient) -> None:
    assert client.get("/no-such-page").status_code == 404
    assert "X-Portal-API-Version" not in client.get("/no-such-page").headers
    assert "X-Portal-API-Version" not in client.get("/login").headers

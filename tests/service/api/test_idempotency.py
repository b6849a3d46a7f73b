"""Idempotency-Key on every write: 400 without it, 409 while the first request runs, 422 for
another request under the same key, and the first answer again on a replay."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.api import idempotency, matters
from portal_tui.service.models import IdempotencyRecord, PortalFirm, StaffToken
from portal_tui.service.tokens import create_token
from portal_tui.sqltypes import utcnow

from .conftest import Api, firm_body, matter_body


def test_a_write_without_a_key_is_400(api: Api, client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {api.token}"}
    for method, path in (
        ("PUT", "/firm"),
        ("DELETE", "/items/task/1?version=1"),
        ("POST", "/batches/b/notify"),
    ):
        response = client.request(method, f"/api/v1{path}", json=firm_body(), headers=headers)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["detail"]
    spaced = api.put("/firm", firm_body(), key="has space")
    assert spaced.status_code == 400


def test_a_replay_gets_the_first_answer_and_changes_nothing(api: Api, service_db: Database) -> None:
    first = api.put("/firm", firm_body(version=1), key="k-1")
    assert api.put("/firm", firm_body(version=2, name="Later"), key="k-2").json()["applied"]
    again = api.put("/firm", firm_body(version=1), key="k-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.json() == {"applied": True, "version": 1}
    assert again.headers["Idempotent-Replayed"] == "true"
    with service_db.read() as s:
        firm = s.get(PortalFirm, 1)
        assert firm is not None and (firm.name, firm.version) == ("Later", 2)


def test_json_is_compared_by_meaning(api: Api, client: TestClient) -> None:
    api.put("/firm", firm_body(), key="k-1")
    body = dict(reversed(list(firm_body().items())))
    response = api.put("/firm", body, key="k-1")
    assert response.status_code == 200
    assert response.headers.get("Idempotent-Replayed") == "true"


def test_the_same_key_for_another_request_is_422(api: Api) -> None:
    api.put("/firm", firm_body(), key="k-1")
    for response in (
        api.put("/firm", firm_body(name="Other"), key="k-1"),  # another body
        api.put("/matters/7", matter_body(), key="k-1"),  # another path
        api.delete("/items/task/1?version=1", key="k-1"),  # another method
    ):
        assert response.status_code == 422
        assert "already used" in response.json()["detail"]


def test_keys_belong_to_their_token(api: Api, client: TestClient, service_db: Database) -> None:
    other = Api(client, create_token(service_db, "bob"))
    assert api.put("/firm", firm_body(version=1), key="k-1").json()["applied"] is True
    assert other.put("/firm", firm_body(version=1), key="k-1").json()["applied"] is False


def test_an_invalid_request_is_answered_the_same_on_replay(api: Api) -> None:
    first = api.put("/firm", firm_body(version=0), key="k-1")
    assert first.status_code == 422
    assert api.put("/firm", firm_body(version=0), key="k-1").json() == first.json()


def _record(db: Database, key: str, age: timedelta, body: dict[str, Any]) -> None:
    import json

    with db.write() as s:
        token_id = s.scalars(select(StaffToken.id)).first()
        s.add(
            IdempotencyRecord(
                token_id=token_id,
                key=key,
                method="PUT",
                path="/api/v1/firm",
                body_hash=idempotency.request_hash(json.dumps(body).encode()),
                created_at=utcnow() - age,
            )
        )


def test_a_key_still_in_progress_is_409(api: Api, service_db: Database) -> None:
    _record(service_db, "k-1", timedelta(seconds=1), firm_body())
    response = api.put("/firm", firm_body(), key="k-1")
    assert response.status_code == 409
    assert response.headers["Retry-After"]
    with service_db.read() as s:
        assert s.get(PortalFirm, 1) is None


def test_a_key_abandoned_by_a_crashed_process_is_taken_over(api: Api, service_db: Database) -> None:
    _record(service_db, "k-1", idempotency.ABANDONED_AFTER + timedelta(seconds=1), firm_body())
    response = api.put("/firm", firm_body(), key="k-1")
    assert response.status_code == 200 and response.json()["applied"] is True
    assert api.put("/firm", firm_body(), key="k-1").headers["Idempotent-Replayed"] == "true"


def test_a_concurrent_duplicate_is_409_while_the_first_runs(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_write = matters.write

    def paused_write(
        request: Request, db: Database, work: Callable[..., Any], *, conflict: str
    ) -> Any:
        entered.set()
        assert release.wait(10)
        return real_write(request, db, work, conflict=conflict)

    monkeypatch.setattr(matters, "write", paused_write)
    results: list[int] = []
    first = threading.Thread(
        target=lambda: results.append(api.put("/firm", firm_body(), key="k-1").status_code)
    )
    first.start()
    try:
        assert entered.wait(10)
        duplicate = api.put("/firm", firm_body(), key="k-1")
        assert duplicate.status_code == 409
    finally:
        release.set()
        first.join(10)
    assert results == [200]
    monkeypatch.setattr(matters, "write", real_write)
    replay = api.put("/firm", firm_body(), key="k-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"


def test_a_handler_that_fails_frees_its_key(
    api: Api, service_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(matters, "write", broken)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    response = client.put("/api/v1/firm", json=firm_body(), headers=api.headers("k-1"))
    assert response.status_code == 500
    with service_db.read() as s:
        assert s.scalars(select(IdempotencyRecord)).all() == []

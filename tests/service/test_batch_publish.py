"""POST /api/v1/items/batch, and the one-transaction publish (S0-S7 on the portal's side).

A batch is many publishes and revokes in one request and one transaction, each checked and
answered as its single request would be; the single publish holds its Idempotency-Key in its
own transaction. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.api import common, items
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import DocumentBlob, IdempotencyRecord, PortalItem, PortalMatter
from portal_tui.service.schema import ensure_service_schema
from portal_tui.service.tokens import create_token, revoke_tokens

from .api.conftest import DOCUMENT_DATA, Api, matter_body, publish_body

TASK: dict[str, Any] = {"title": "Send ID", "due_on": "2025-04-02", "done": False}


@pytest.fixture
def service_config(database_url: str, tmp_path: Path) -> ServiceConfig:
    return ServiceConfig(
        database_url=database_url,
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )


@pytest.fixture
def token(service_db: Database) -> str:
    return create_token(service_db, "alice")


@pytest.fixture
def api(client: TestClient, token: str) -> Api:
    assert Api(client, token).put("/matters/7", matter_body()).status_code == 200
    return Api(client, token)


def publish(item_id: int, version: int = 1, kind: str = "task", **changes: Any) -> dict[str, Any]:
    data = changes.pop("data", DOCUMENT_DATA if kind == "document" else TASK)
    return {"op": "publish", **publish_body(kind, item_id, version, data=data), **changes}


def revoke(item_id: int, version: int, kind: str = "task", **changes: Any) -> dict[str, Any]:
    return {"op": "revoke", "kind": kind, "item_id": item_id, "version": version, **changes}


def send(api: Api, *operations: Any, key: str | None = None) -> Any:
    response = api.client.post(
        "/api/v1/items/batch", json={"operations": list(operations)}, headers=api.headers(key)
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Portal-API-Version"] == "1"
    return response


def held(db: Database, item_id: int, kind: str = "task") -> tuple[bool, int] | None:
    with db.read() as s:
        item = s.get(PortalItem, (kind, item_id))
        return None if item is None else (item.published, item.version)


def keys(db: Database) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(IdempotencyRecord.key)))


def test_s0_a_batch_applies_each_operation_in_order_with_a_result_each(
    api: Api, service_db: Database
) -> None:
    answer = send(
        api,
        publish(1),
        publish(2, batch="bulk-1"),
        revoke(1, 2),
        revoke(3, 1, matter_id=7),  # never seen: a tombstone is kept
    ).json()
    assert [r["result"] for r in answer["results"]] == ["applied"] * 4
    assert [(r["kind"], r["item_id"], r["status"]) for r in answer["results"]] == [
        ("task", 1, 200),
        ("task", 2, 200),
        ("task", 1, 200),
        ("task", 3, 200),
    ]
    assert answer["results"][2]["item"] == {
        "kind": "task",
        "item_id": 1,
        "matter_id": 7,
        "published": False,
        "version": 2,
        "has_content": None,
    }
    assert (answer["applied"], answer["stale"], answer["rejected"], answer["retry"]) == (4, 0, 0, 0)
    assert [held(service_db, i) for i in (1, 2, 3)] == [(False, 2), (True, 1), (False, 1)]
    with service_db.read() as s:
        item = s.get(PortalItem, ("task", 2))
        assert item is not None and item.batch == "bulk-1"
        assert item.data == {**TASK, "description": None}
    # The same as the single requests: what GET says of each.
    assert api.get("/items/task/2").json()["published"] is True


def test_s7_a_late_publish_in_a_batch_never_undoes_a_newer_revoke(
    api: Api, service_db: Database
) -> None:
    assert api.delete("/items/task/5?version=2&matter_id=7").json()["applied"] is True
    answer = send(api, publish(5, 1), publish(6, 3), publish(6, 2)).json()
    assert [r["result"] for r in answer["results"]] == ["stale", "applied", "stale"]
    assert answer["results"][0]["item"]["version"] == 2
    assert held(service_db, 5) == (False, 2)
    assert held(service_db, 6) == (True, 3)


def test_s0_each_operation_is_checked_as_its_single_request_and_refused_alone(
    api: Api, service_db: Database
) -> None:
    too_long = {**TASK, "title": "x" * 301}
    answer = send(
        api,
        publish(10),
        publish(11, data=too_long),
        publish(12, kind="widget"),
        {"op": "archive", "kind": "task", "item_id": 13},
        revoke(14, 0),
        publish(15, matter_id=0),
        "not an object",
        publish(16),
    ).json()
    results = answer["results"]
    assert [r["result"] for r in results] == ["applied", *["rejected"] * 6, "applied"]
    assert {r["status"] for r in results[1:7]} == {422}
    assert "data.title" in results[1]["detail"] and "300" in results[1]["detail"]
    assert results[2]["detail"].startswith("There is no item kind 'widget'; the kinds are: ")
    assert (results[2]["kind"], results[2]["item_id"]) == (None, 12)
    assert 'op: Input should be "publish" or "revoke"' in results[3]["detail"]
    assert "version" in results[4]["detail"]
    assert "matter_id" in results[5]["detail"]
    assert answer["rejected"] == 6
    assert [held(service_db, i) for i in range(10, 17)] == [(True, 1), *[None] * 5, (True, 1)]
    # A refused operation is refused as its single request is.
    single = api.put("/items/task/11", publish_body("task", 11, data=too_long))
    assert single.status_code == 422 and "data.title" in single.json()["detail"]


def test_an_operation_whose_matter_has_not_arrived_waits_and_the_batch_runs_again(
    api: Api, service_db: Database
) -> None:
    key = "batch-with-a-wait"
    operations = [publish(20), publish(21, matter_id=8)]
    first = send(api, *operations, key=key).json()
    assert [r["result"] for r in first["results"]] == ["applied", "retry"]
    assert first["results"][1]["status"] == 409 and first["results"][1]["retry_after"] == 2
    assert "Matter 8 is not on the portal yet" in first["results"][1]["detail"]
    assert held(service_db, 21) is None
    # Not kept: the same key runs again (the first operation now stale), and goes through
    # once the matter is there.
    assert key not in keys(service_db)
    assert api.put("/matters/8", matter_body(8)).status_code == 200
    again = send(api, *operations, key=key)
    assert "Idempotent-Replayed" not in again.headers
    assert [r["result"] for r in again.json()["results"]] == ["stale", "applied"]
    assert held(service_db, 21) == (True, 1)
    assert key in keys(service_db)


def test_a_batch_sent_again_with_its_key_gets_the_first_answer(
    api: Api, service_db: Database
) -> None:
    operations = [publish(30), publish(31)]
    first = send(api, *operations, key="b-1")
    assert send(api, revoke(30, 2)).json()["applied"] == 1
    again = send(api, *operations, key="b-1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert held(service_db, 30) == (False, 2)
    other = api.client.post(
        "/api/v1/items/batch",
        json={"operations": [publish(32)]},
        headers=api.headers("b-1"),
    )
    assert other.status_code == 422 and "already used" in other.json()["detail"]


def test_a_batch_is_one_transaction(
    api: Api, service_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = items.ItemWriter.flush

    def broken(self: items.ItemWriter) -> None:
        real(self)
        raise RuntimeError("bug after the writes")

    monkeypatch.setattr(items.ItemWriter, "flush", broken)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    response = client.post(
        "/api/v1/items/batch",
        json={"operations": [publish(40), revoke(41, 1, matter_id=7)]},
        headers=api.headers("b-1"),
    )
    assert response.status_code == 500
    assert held(service_db, 40) is None and held(service_db, 41) is None
    assert "b-1" not in keys(service_db)  # nothing kept: a retry runs it again
    monkeypatch.setattr(items.ItemWriter, "flush", real)
    assert send(api, publish(40), revoke(41, 1, matter_id=7), key="b-1").json()["applied"] == 2


def test_a_document_in_a_batch_is_shown_only_once_its_bytes_arrive(
    api: Api, service_db: Database
) -> None:
    answer = send(api, publish(50, kind="document")).json()
    assert answer["results"][0]["item"]["has_content"] is False
    content = api.put_bytes("/items/document/50/content?version=1", b"%PDF-1.4 will")
    assert content.json()["has_content"] is True
    revoked = send(api, revoke(50, 2, kind="document")).json()["results"][0]["item"]
    assert (revoked["published"], revoked["has_content"]) == (False, False)
    with service_db.read() as s:
        assert s.get(DocumentBlob, 50) is None


def test_a_batch_is_between_one_and_a_thousand_operations(api: Api) -> None:
    for operations in ([], [publish(60 + n) for n in range(1001)]):
        response = api.client.post(
            "/api/v1/items/batch", json={"operations": operations}, headers=api.headers()
        )
        assert response.status_code == 422, response.text
        assert "operations" in response.json()["detail"]
    assert send(api, *[publish(2000 + n) for n in range(1000)]).json()["applied"] == 1000


def test_a_revoked_token_changes_nothing_even_just_after_it_worked(
    client: TestClient, api: Api, token: str, service_db: Database
) -> None:
    # The token was just seen valid (the matter above), so it is remembered; the write
    # checks it again in its transaction.
    assert revoke_tokens(service_db, token=token) == 1
    before = keys(service_db)
    for response in (
        client.post(
            "/api/v1/items/batch", json={"operations": [publish(70)]}, headers=api.headers()
        ),
        api.put("/items/task/71", publish_body("task", 71, data=TASK)),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "staff API token" in response.json()["detail"]
    assert held(service_db, 70) is None and held(service_db, 71) is None
    assert keys(service_db) == before


def test_a_publish_and_its_key_are_one_commit(api: Api, service_db: Database) -> None:
    body = publish_body("task", 80, data=TASK)
    first = api.put("/items/task/80", body, key="k-80")
    assert first.status_code == 200 and first.json()["applied"] is True
    with service_db.read() as s:
        record = s.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k-80"))
        assert record is not None and record.status_code == 200
        assert record.response is not None and '"applied":true' in record.response["body"]
    again = api.put("/items/task/80", body, key="k-80")
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    # "Not now" leaves no trace: the retry with the same key runs.
    waiting = api.put("/items/task/81", publish_body("task", 81, matter_id=9, data=TASK), key="k")
    assert waiting.status_code == 409 and "k" not in keys(service_db)
    # An invalid body is answered before any transaction, and kept for replays as before.
    bad = api.put("/items/task/82", {"matter_id": 7}, key="k-82")
    assert bad.status_code == 422 and "k-82" in keys(service_db)
    assert api.put("/items/task/82", {"matter_id": 7}, key="k-82").json() == bad.json()


def test_concurrent_publishes_each_get_their_own_answer(api: Api, service_db: Database) -> None:
    answers: dict[int, tuple[int, Any]] = {}

    def put(item_id: int) -> None:
        matter = 7 if item_id % 3 else 99  # every third waits for its matter
        response = api.put(f"/items/task/{item_id}", publish_body("task", item_id, 1, matter, TASK))
        answers[item_id] = (response.status_code, response.json())

    threads = [threading.Thread(target=put, args=(n,)) for n in range(100, 124)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for item_id, (status, answer) in answers.items():
        if item_id % 3:
            assert (status, answer["item_id"], answer["applied"]) == (200, item_id, True)
            assert held(service_db, item_id) == (True, 1)
        else:
            assert status == 409 and "Matter 99" in answer["detail"]
            assert held(service_db, item_id) is None
    assert len(answers) == 24


def test_writes_committed_together_are_rolled_back_alone(tmp_path: Path) -> None:
    """SQLite's group commit: one write of a group that fails leaves the others committed."""
    db = Database(f"sqlite:///{tmp_path / 'grouped.db'}")
    ensure_service_schema(db)

    def matter(matter_id: int) -> Any:
        def work(s: Any) -> int:
            s.add(
                PortalMatter(
                    id=matter_id,
                    number="",
                    name="",
                    enabled=False,
                    permissions=[],
                    notify=[],
                    version=0,
                    notify_version=0,
                )
            )
            s.flush()
            if matter_id == 2:
                raise RuntimeError("this one fails")
            return matter_id

        return work

    jobs = [common._Job(matter(n)) for n in (1, 2, 3)]
    common._run_together(db, jobs)
    assert [(j.done, j.value, type(j.error).__name__) for j in jobs] == [
        (True, 1, "NoneType"),
        (True, None, "RuntimeError"),
        (True, 3, "NoneType"),
    ]
    with db.read() as s:
        assert sorted(s.scalars(select(PortalMatter.id))) == [1, 3]
    db.dispose()


def test_the_batch_endpoint_is_described_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/api/v1/items/batch"]["post"]
    assert route["summary"] == "Publish and revoke many items at once"
    body = route["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/ItemsBatchIn")
    answer = route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert answer.endswith("/ItemsBatchOut")
    assert {"Idempotency-Key"} <= {p["name"] for p in route["parameters"]}
    schemas = spec["components"]["schemas"]
    # Each operation is one of these, or anything else, which is answered "rejected".
    known, anything = schemas["ItemsBatchIn"]["properties"]["operations"]["items"]["anyOf"]
    assert set(anything) == {"description"} and "rejected" in anything["description"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in known["oneOf"]} == {
        "BatchPublishInvoice",
        "BatchPublishEvent",
        "BatchPublishTask",
        "BatchPublishNote",
        "BatchPublishDocument",
        "BatchPublishMessage",
        "BatchPublishForm",
        "BatchRevoke",
    }
    assert set(schemas["BatchItemResult"]["properties"]["result"]["enum"]) == {
        "applied",
        "stale",
        "rejected",
        "retry",
    }


def test_keys_of_batches_are_the_callers_own(
    api: Api, client: TestClient, service_db: Database
) -> None:
    other = Api(client, create_token(service_db, "bob"))
    assert send(api, publish(90), key="same").json()["applied"] == 1
    assert send(other, publish(90), key="same").json()["stale"] == 1

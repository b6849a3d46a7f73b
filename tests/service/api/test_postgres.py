"""The staff API on PostgreSQL, where the service runs for many clients: the limits of its
column types, and concurrent first writes of the same row."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portal_tui.database import Database
from portal_tui.service import feed
from portal_tui.service.api.schemas import MAX_ID, MAX_VERSION
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import PortalItem

from .conftest import Api, contact_body, firm_body, matter_body, publish_body

pytestmark = pytest.mark.postgres


@pytest.fixture
def service_config(pg_url: str, tmp_path: Path) -> ServiceConfig:
    return ServiceConfig(
        database_url=pg_url,
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )


def test_every_write_at_the_limits_of_the_columns(api: Api, service_db: Database) -> None:
    # The largest the API takes: 32-bit ids, versions inside what JSON readers hold exactly.
    assert api.put("/firm", firm_body(version=MAX_VERSION)).json()["applied"] is True
    assert api.put(f"/matters/{MAX_ID}", matter_body(MAX_ID, MAX_VERSION)).status_code == 200
    body = publish_body(item_id=MAX_ID, matter_id=MAX_ID, version=MAX_VERSION, batch="b" * 64)
    assert api.put(f"/items/invoice/{MAX_ID}", body).json()["applied"] is True
    contact = contact_body(contact_id=MAX_ID, matter_id=MAX_ID, client_id=MAX_ID)
    assert api.put(f"/contacts/{MAX_ID}", contact).status_code == 200
    assert api.post(f"/batches/{'b' * 64}/notify").status_code == 200
    assert api.delete(f"/items/invoice/{MAX_ID}?version={MAX_VERSION}").json()["applied"] is False
    assert api.put(f"/items/invoice/{MAX_ID + 1}", body).status_code == 422
    assert api.put("/firm", firm_body(version=MAX_VERSION + 1)).status_code == 422
    assert api.put("/firm", firm_body(name="nul\x00")).status_code == 422
    with service_db.write() as s:
        feed.record_change(s, feed.LOGIN, None, {"account_id": MAX_ID})
    assert api.get("/changes").json()["changes"][0]["payload"] == {"account_id": MAX_ID}


def test_concurrent_first_publishes_of_one_item_settle_on_the_newest(
    api: Api, service_db: Database
) -> None:
    api.put("/matters/7", matter_body())
    results: list[int] = []

    def publish(version: int) -> None:
        response = api.put(
            "/items/task/5", publish_body("task", 5, version, data={"title": f"v{version}"})
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=publish, args=(v,)) for v in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [200] * 8
    with service_db.read() as s:
        item = s.get(PortalItem, ("task", 5))
        assert item is not None and item.version == 8
        assert item.data is not None and item.data["title"] == "v8"


def test_concurrent_duplicates_of_one_key_run_once(api: Api, client: TestClient) -> None:
    key = uuid.uuid4().hex
    statuses: list[int] = []

    def send() -> None:
        statuses.append(api.put("/firm", firm_body(), key=key).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(set(statuses)) <= [200, 409]
    assert 200 in statuses
    replay = api.put("/firm", firm_body(), key=key)
    assert replay.status_code == 200 and replay.json() == {"applied": True, "version": 1}

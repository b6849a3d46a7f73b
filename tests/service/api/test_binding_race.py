"""One portal, one firm, across a restore: a write from the firm's database as it was before
the restore is refused once the restored firm's reset has been taken, also by a worker that
checked the binding a moment before another worker took the reset. Two applications on one
database stand for two worker processes (each keeps its own memory of the binding)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from portal_tui.database import Database
from portal_tui.service.api import binding
from portal_tui.service.api.binding import EPOCH_HEADER, FIRM_HEADER
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import PortalMatter
from portal_tui.service.tokens import create_token

from .conftest import matter_body

FIRM = str(uuid.uuid4())


@pytest.fixture
def workers(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    # Each worker's memory of the binding must outlive the test, however slow the machine:
    # the case here is a worker whose memory is still fresh when the restored firm resets.
    monkeypatch.setattr(binding, "BINDING_TTL_S", 3600.0)
    config = ServiceConfig(
        database_url=database_url,
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )
    with TestClient(create_app(config)) as first, TestClient(create_app(config)) as second:
        yield first, second


def put(worker: TestClient, token: str, epoch: int, path: str, body: object) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": uuid.uuid4().hex,
        FIRM_HEADER: FIRM,
        EPOCH_HEADER: str(epoch),
    }
    return worker.request(
        "POST" if path == "/firm/reset" else "PUT", f"/api/v1{path}", json=body, headers=headers
    )


def test_a_write_from_before_a_restore_is_refused_by_a_worker_that_saw_the_old_epoch(
    workers: tuple[TestClient, TestClient], database_url: str
) -> None:
    """After the reset of a restored firm (epoch 2), the old copy's write (epoch 1) must not
    be applied, even by the worker that served epoch 1 a moment ago: its version would beat
    the restored firm's. It is answered "not now" (409), then refused (421)."""
    first, second = workers
    db = Database(database_url)
    try:
        token = create_token(db, "relay")
        assert put(first, token, 1, "/matters/7", matter_body(7, 3)).status_code == 200
        reset = put(second, token, 2, "/firm/reset", {"epoch": 2, "contacts": []})
        assert reset.status_code == 200 and reset.json()["applied"] is True, reset.text

        late = put(first, token, 1, "/matters/7", matter_body(7, 9, name="From the old copy"))
        assert late.status_code == 409, late.text
        again = put(first, token, 1, "/matters/7", matter_body(7, 9, name="From the old copy"))
        assert again.status_code == 421 and again.json()["code"] == "stale_epoch", again.text
        with db.read() as s:
            matter = s.get(PortalMatter, 7)
            assert matter is not None and matter.version == 0 and matter.name != "From the old copy"
    finally:
        db.dispose()

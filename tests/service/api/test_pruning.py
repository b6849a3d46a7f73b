"""The portal keeps itself tidy: answered idempotency keys, changes the firm has read, emails
sent or given up, ended client sessions and old failed logins are pruned once retention says
they are done with, and nothing else is. A late retry of a pruned key still cannot double a
share or bring back an unshared item: the item's version protects it."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from portal_tui.database import Database
from portal_tui.service import feed
from portal_tui.service.app import create_app
from portal_tui.service.config import Retention, ServiceConfig
from portal_tui.service.models import (
    Account,
    Change,
    ClientSession,
    IdempotencyRecord,
    LoginFailure,
    MailMessage,
    PortalItem,
)
from portal_tui.service.pruning import Pruned, prune
from portal_tui.sqltypes import utcnow

from .conftest import Api, matter_body, publish_body


@pytest.fixture(autouse=True)
def matter(api: Api) -> int:
    assert api.put("/matters/7", matter_body()).status_code == 200
    return 7


FIRM = {"X-Portal-Firm": str(uuid.uuid4()), "X-Portal-Firm-Epoch": "1"}


def _count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _changes(api: Api, cursor: str | None = None, limit: int = 2) -> dict[str, object]:
    params: dict[str, object] = {"limit": limit}
    if cursor:
        params["cursor"] = cursor
    headers = {"Authorization": f"Bearer {api.token}", **FIRM}
    response = api.client.get("/api/v1/changes", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_only_what_the_firm_has_read_and_retention_lets_go_is_pruned(
    api: Api, service_db: Database, service_config: ServiceConfig
) -> None:
    with service_db.write() as s:
        for n in range(5):
            feed.record_change(s, feed.REPLY, 7, {"message_id": n, "body": f"reply {n}"})
    first = _changes(api)  # binds the firm, reads seq 1-2
    second = _changes(api, str(first["cursor"]))  # the firm has stored 1-2; reads 3-4
    now = utcnow()
    later = now + timedelta(days=31)
    # Not old enough yet: nothing goes.
    assert prune(service_db, service_config, now).feed == 0
    assert prune(service_db, service_config, later).feed == 2  # seq 1-2: read and old
    with service_db.read() as s:
        assert list(s.scalars(select(Change.seq).order_by(Change.seq))) == [3, 4, 5]
    # The firm's next read carries on where it was, whatever was pruned behind it.
    third = _changes(api, str(second["cursor"]))
    assert [c["payload"]["message_id"] for c in third["changes"]] == [4]  # type: ignore[attr-defined, index]
    assert prune(service_db, service_config, later).feed == 2  # 3-4, now read too
    assert _count(service_db, Change) == 1


def test_keys_mail_sessions_and_failures_each_kept_for_their_time(
    api: Api, service_db: Database, service_config: ServiceConfig
) -> None:
    config = replace(
        service_config,
        retention=Retention(
            feed_days=30, idempotency_days=7, mail_days=20, sessions_days=10, login_failures_days=2
        ),
    )
    now = utcnow()
    api.put("/items/invoice/11", publish_body(version=1), key="old")
    api.put("/items/invoice/12", publish_body(item_id=12, version=1), key="young")
    with service_db.write() as s:
        s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "old")
            .values(created_at=now - timedelta(days=8))
        )
        # A request still being answered is never pruned, however old it looks.
        token_id = s.scalar(select(IdempotencyRecord.token_id))
        s.add(
            IdempotencyRecord(
                token_id=token_id,
                key="in-flight",
                method="PUT",
                path="/x",
                body_hash="0" * 64,
                status_code=None,
                created_at=now - timedelta(days=90),
            )
        )
        mail = {
            "sent-old": dict(sent_at=now - timedelta(days=21)),
            "dropped-old": dict(dropped_at=now - timedelta(days=21)),
            "sent-young": dict(sent_at=now - timedelta(days=19)),
            "unsent-old": dict(created_at=now - timedelta(days=90)),
        }
        for name, when in mail.items():
            s.add(
                MailMessage(
                    message_id=f"<{name}@test>",
                    kind="invitation",
                    to_addr="a@example.test",
                    subject=name,
                    body=name,
                    **when,
                )
            )
        s.add(Account(id=21, email="ann@example.test", name="Ann"))
        s.flush()
        idle = timedelta(seconds=config.session_idle_seconds)
        sessions = {
            "ended-11-days-ago": (now - timedelta(days=11) - idle, now - timedelta(days=11)),
            "ended-9-days-ago": (now - timedelta(days=9) - idle, now - timedelta(days=9)),
            "live": (now - timedelta(hours=1), now),
        }
        for name, (last_seen, created) in sessions.items():
            s.add(
                ClientSession(
                    id_hash=name,
                    account_id=21,
                    csrf_token="c",
                    created_at=created,
                    last_seen_at=last_seen,
                )
            )
        for days in (3, 1, 0):
            s.add(LoginFailure(key="addr:203.0.113.9", at=now - timedelta(days=days)))

    pruned = prune(service_db, config, now)
    assert pruned == Pruned(feed=0, idempotency=1, mail=2, sessions=1, login_failures=1)
    with service_db.read() as s:
        keys = set(s.scalars(select(IdempotencyRecord.key)))
        assert {"young", "in-flight"} <= keys and "old" not in keys
        assert set(s.scalars(select(MailMessage.subject))) == {"sent-young", "unsent-old"}
        assert set(s.scalars(select(ClientSession.id_hash))) == {"ended-9-days-ago", "live"}
        assert _count(service_db, LoginFailure) == 2
    assert prune(service_db, config, now).total == 0


def test_login_failures_inside_the_limits_window_are_kept_whatever_retention_says(
    service_db: Database, service_config: ServiceConfig
) -> None:
    now = utcnow()
    with service_db.write() as s:
        s.add(LoginFailure(key="addr:203.0.113.9", at=now - timedelta(minutes=10)))
    later = now + timedelta(minutes=2)
    config = replace(service_config, login_window_seconds=15 * 60)
    assert prune(service_db, config, later).login_failures == 0


def _item(db: Database, item_id: int) -> tuple[bool, int]:
    with db.read() as s:
        item = s.get(PortalItem, ("invoice", item_id))
        assert item is not None
        return item.published, item.version


def test_a_late_retry_of_a_pruned_key_cannot_double_a_share_or_undo_an_unshare(
    api: Api, service_db: Database, service_config: ServiceConfig
) -> None:
    shared = publish_body(version=1, batch="b-1")
    assert api.put("/items/invoice/11", shared, key="share-1").json()["applied"] is True
    assert api.delete("/items/invoice/11?version=2", key="unshare-2").json()["applied"] is True
    again = publish_body(version=3, batch="b-3")
    assert api.put("/items/invoice/11", again, key="share-3").json()["applied"] is True
    assert api.delete("/items/invoice/11?version=4", key="unshare-4").json()["applied"] is True
    assert prune(service_db, service_config, utcnow() + timedelta(days=8)).idempotency == 5
    assert _count(service_db, IdempotencyRecord) == 0

    # The same requests, arriving again long after: each is a new request now, and each is
    # older than what the portal holds.
    for path, body, key in (
        ("/items/invoice/11", shared, "share-1"),
        ("/items/invoice/11", again, "share-3"),
    ):
        late = api.put(path, body, key=key)
        assert late.status_code == 200 and late.json()["applied"] is False
    assert _item(service_db, 11) == (False, 4)
    late_unshare = api.delete("/items/invoice/11?version=4", key="unshare-4")
    assert late_unshare.json()["applied"] is False
    assert _item(service_db, 11) == (False, 4)


def test_the_service_prunes_by_itself_from_start_up(
    api: Api, service_db: Database, service_config: ServiceConfig, client: TestClient
) -> None:
    """No cron: the service's own background task prunes (worker 0 of `serve --workers`)."""
    api.put("/items/invoice/11", publish_body(version=1), key="old")
    with service_db.write() as s:
        s.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(days=8)))
    assert _count(service_db, IdempotencyRecord) == 2  # the matter's and the item's
    started = create_app(replace(service_config, prune=True))
    with TestClient(started) as other:
        db: Database = other.app.state.db  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while _count(db, IdempotencyRecord) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(db, IdempotencyRecord) == 0

"""The changes feed, client uploads' bytes, and a batch's "new items" email."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from portal_tui.database import Database
from portal_tui.service import feed
from portal_tui.service.models import Account, ClientUpload, MailMessage, PortalContact

from .conftest import Api, contact_body, firm_body, matter_body, publish_body


def record(db: Database, count: int) -> None:
    with db.write() as s:
        for n in range(count):
            feed.record_change(s, feed.REPLY, 7, {"message_id": n, "body": f"reply {n}"})


def test_the_feed_pages_in_order_and_a_cursor_can_be_used_twice(
    api: Api, service_db: Database
) -> None:
    record(service_db, 5)
    first = api.get("/changes", limit=2).json()
    assert [c["payload"]["message_id"] for c in first["changes"]] == [0, 1]
    assert first["more"] is True
    second = api.get("/changes", cursor=first["cursor"], limit=2).json()
    assert [c["payload"]["message_id"] for c in second["changes"]] == [2, 3]
    assert api.get("/changes", cursor=first["cursor"], limit=2).json() == second
    third = api.get("/changes", cursor=second["cursor"], limit=2).json()
    assert [c["type"] for c in third["changes"]] == ["reply"]
    assert third["more"] is False
    # At the end the cursor stays put until something new happens.
    end = api.get("/changes", cursor=third["cursor"]).json()
    assert end == {"changes": [], "cursor": third["cursor"], "more": False}
    record(service_db, 1)
    assert len(api.get("/changes", cursor=third["cursor"]).json()["changes"]) == 1
    change = first["changes"][0]
    assert set(change) == {"seq", "type", "at", "matter_id", "payload"}
    assert change["matter_id"] == 7


def test_a_forged_or_garbled_cursor_is_400(api: Api, service_db: Database) -> None:
    record(service_db, 3)
    cursor = api.get("/changes", limit=1).json()["cursor"]
    body, mac = cursor.split(".")
    forged_body = base64.urlsafe_b64encode(json.dumps({"v": 1, "after": 0}).encode()).decode()
    for bad in (
        "garbage",
        f"{forged_body.rstrip('=')}.{mac}",
        f"{body}.{mac[:-2]}AA",
        f"{body}.",
        ".",
        "é.é",
        feed.sign_cursor(b"another service's key", 1),
    ):
        response = api.get("/changes", cursor=bad)
        assert response.status_code == 400, bad
        assert "cursor" in response.json()["detail"]
    assert api.get("/changes", limit=0).status_code == 422
    assert api.get("/changes", limit=10_000).status_code == 422


def test_record_change_refuses_an_unknown_type(service_db: Database) -> None:
    with service_db.write() as s, pytest.raises(ValueError, match="unknown change type"):
        feed.record_change(s, "uplaod", 7, {})


def _portal_with_active_contact(api: Api, service_db: Database) -> None:
    api.put("/firm", firm_body())
    api.put("/matters/7", matter_body())
    api.put("/contacts/3", contact_body())
    with service_db.write() as s:
        row = s.get(PortalContact, 3)
        assert row is not None
        row.status = "active"


def test_a_batch_gets_one_email_per_client_and_only_once(api: Api, service_db: Database) -> None:
    _portal_with_active_contact(api, service_db)
    api.put("/items/invoice/11", publish_body(batch="b-1"))
    api.put("/items/invoice/12", publish_body(item_id=12, batch="b-1"))
    response = api.post("/batches/b-1/notify")
    assert response.status_code == 200, response.text
    assert response.json() == {"batch": "b-1", "queued": 1}
    assert api.post("/batches/b-1/notify").json() == {"batch": "b-1", "queued": 0}
    with service_db.read() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(MailMessage).where(MailMessage.kind == "new_items")
            )
            == 1
        )
    assert api.post("/batches/bad batch!/notify").status_code in (404, 422)


def test_an_upload_is_fetched_as_an_attachment(api: Api, service_db: Database) -> None:
    _portal_with_active_contact(api, service_db)
    with service_db.write() as s:
        assert s.get(Account, 21) is not None
        upload = ClientUpload(
            matter_id=7,
            contact_id=3,
            name="Passport scan – Jörg.pdf",
            content_type="application/pdf",
            size=4,
            sha256="a" * 64,
            content=b"%PDF",
        )
        s.add(upload)
        s.flush()
        upload_id = upload.id
    response = api.get(f"/uploads/{upload_id}/content")
    assert response.status_code == 200
    assert response.content == b"%PDF"
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Passport%20scan%20%E2%80%93%20J%C3%B6rg.pdf" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"
    assert api.get("/uploads/999/content").status_code == 404

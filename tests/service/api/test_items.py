"""Publishing and revoking items, and a document's bytes (S0-S7 on the portal's side)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tui.database import Database
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import DocumentBlob, InvoicePdf, PortalItem
from portal_tui.service.tokens import create_token

from .conftest import DOCUMENT_DATA, INVOICE_DATA, Api, matter_body, publish_body

DATA: dict[str, dict[str, Any]] = {
    "invoice": INVOICE_DATA,
    "event": {
        "title": "Signing",
        "starts_at": "2025-04-01T09:00:00+00:00",
        "ends_at": None,
        "location": "Office",
        "description": None,
    },
    "task": {"title": "Send ID", "due_on": "2025-04-02", "done": False, "description": "x"},
    "note": {"subject": "Call", "body": "Spoke", "created_at": "2025-03-01T10:00:00+00:00"},
    "document": DOCUMENT_DATA,
    "message": {
        "subject": "Hello",
        "body": "Your will is ready.",
        "author_name": "Alice",
        "from_client": False,
        "sent_at": "2025-03-01T10:00:00+00:00",
    },
    "form": {
        "name": "Questionnaire",
        "description": None,
        "fields": [
            {
                "key": "phone",
                "label": "Phone",
                "type": "phone",
                "required": True,
                "choices": [],
                "target": "client.phone",
            }
        ],
    },
}


@pytest.fixture
def matter(api: Api) -> int:
    assert api.put("/matters/7", matter_body()).status_code == 200
    return 7


def item(db: Database, kind: str, item_id: int) -> PortalItem | None:
    with db.read() as s:
        return s.get(PortalItem, (kind, item_id))


@pytest.mark.parametrize("kind", list(DATA))
def test_each_kind_is_published_and_revoked(
    api: Api, service_db: Database, matter: int, kind: str
) -> None:
    response = api.put(f"/items/{kind}/11", publish_body(kind, data=DATA[kind], batch="b-1"))
    assert response.status_code == 200, response.text
    assert response.json()["applied"] is True
    stored = item(service_db, kind, 11)
    assert stored is not None and stored.published and stored.batch == "b-1"
    assert stored.data is not None and set(DATA[kind]) <= set(stored.data)
    assert api.get(f"/items/{kind}/11").json()["published"] is True

    response = api.delete(f"/items/{kind}/11?version=2")
    assert response.json()["applied"] is True
    stored = item(service_db, kind, 11)
    assert stored is not None and not stored.published
    assert (stored.data, stored.version, stored.batch) == (None, 2, None)


def test_a_late_publish_after_a_newer_revoke_changes_nothing(
    api: Api, service_db: Database, matter: int
) -> None:
    api.put("/items/invoice/11", publish_body(version=1))
    assert api.delete("/items/invoice/11?version=3").json()["applied"] is True
    late = api.put("/items/invoice/11", publish_body(version=2))
    assert late.status_code == 200
    assert late.json() | {} == {
        "kind": "invoice",
        "item_id": 11,
        "matter_id": 7,
        "applied": False,
        "published": False,
        "version": 3,
        "has_content": None,
    }
    stored = item(service_db, "invoice", 11)
    assert stored is not None and not stored.published and stored.data is None


def test_a_replayed_old_publish_does_not_undo_a_newer_one(
    api: Api, service_db: Database, matter: int
) -> None:
    api.put("/items/invoice/11", publish_body(version=1))
    newer = {**INVOICE_DATA, "paid_cents": 150000}
    assert api.put("/items/invoice/11", publish_body(version=2, data=newer)).json()["applied"]
    old = api.put("/items/invoice/11", publish_body(version=1))
    assert old.json()["applied"] is False and old.json()["version"] == 2
    stored = item(service_db, "invoice", 11)
    assert stored is not None and stored.data is not None
    assert stored.data["paid_cents"] == 150000
    # A stale revoke does not hide the newer share either.
    assert api.delete("/items/invoice/11?version=2").json()["applied"] is False
    assert api.get("/items/invoice/11").json()["published"] is True


def test_a_revoke_of_an_item_never_seen_keeps_a_tombstone(api: Api, service_db: Database) -> None:
    # The revoke overtook its publish (and even the matter): the publish must not win later.
    response = api.delete("/items/task/5?version=2&matter_id=9")
    assert response.json()["applied"] is True
    api.put("/matters/9", matter_body(matter_id=9))
    late = api.put(
        "/items/task/5", publish_body("task", 5, version=1, matter_id=9, data=DATA["task"])
    )
    assert late.json()["applied"] is False
    # Without the matter there is nowhere to keep a tombstone: acknowledged, nothing stored.
    bare = api.delete("/items/task/6?version=2")
    assert bare.status_code == 200 and bare.json()["applied"] is False
    assert api.get("/items/task/6").status_code == 404


def test_publishing_into_an_unknown_matter_is_409(api: Api) -> None:
    response = api.put("/items/invoice/11", publish_body(matter_id=99))
    assert response.status_code == 409
    assert response.headers["Retry-After"]
    assert "PUT /api/v1/matters/99" in response.json()["detail"]
    # Not a final answer: once the matter is there, the same key goes through.
    api.put("/matters/99", matter_body(matter_id=99))
    again = api.put("/items/invoice/11", publish_body(matter_id=99))
    assert again.status_code == 200


def test_data_that_does_not_fit_the_kind_is_422(api: Api, matter: int) -> None:
    for kind, data in (
        ("invoice", DATA["task"]),
        ("event", {**DATA["event"], "starts_at": "2025-04-01T09:00:00"}),  # no zone
        ("form", {**DATA["form"], "fields": [DATA["form"]["fields"][0]] * 2}),
        ("document", {**DOCUMENT_DATA, "sha256": "nope"}),
        ("note", {**DATA["note"], "body": "\ud800"}),  # a lone surrogate: no database takes it
        ("note", {**DATA["note"], "body": "a\x00b"}),
    ):
        # json.dumps escapes what httpx would refuse to encode.
        response = api.client.put(
            f"/api/v1/items/{kind}/11",
            content=json.dumps(publish_body(kind, data=data)).encode(),
            headers=api.headers(**{"Content-Type": "application/json"}),
        )
        assert response.status_code == 422, (kind, response.text)
        assert response.json()["detail"].startswith("Invalid request")
    mismatch = api.put("/items/task/11", publish_body("invoice", data=DATA["task"]))
    assert mismatch.status_code == 422


def test_an_all_day_event_is_kept_with_its_days_and_an_old_payload_is_timed(
    api: Api, service_db: Database, matter: int
) -> None:
    days = {"all_day": True, "first_day": "2027-01-04", "last_day": "2027-01-06"}
    all_day = {**DATA["event"], "starts_at": "2027-01-04T05:00:00+00:00", **days}
    assert api.put("/items/event/12", publish_body("event", 12, data=all_day)).json()["applied"]
    stored = item(service_db, "event", 12)
    assert stored is not None and stored.data is not None
    assert {k: stored.data[k] for k in days} == days
    # A payload of before all-day events (no all_day, no days) is a timed event.
    assert api.put("/items/event/13", publish_body("event", 13, data=DATA["event"])).json()[
        "applied"
    ]
    old = item(service_db, "event", 13)
    assert old is not None and old.data is not None
    assert (old.data["all_day"], old.data["first_day"], old.data["last_day"]) == (
        False,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        ({"all_day": True}, "an all-day event needs first_day and last_day"),
        ({"all_day": True, "first_day": "2027-01-04"}, "needs first_day and last_day"),
        (
            {"all_day": True, "first_day": "2027-01-04", "last_day": "2027-01-03"},
            "last_day is before first_day",
        ),
        ({"first_day": "2027-01-04", "last_day": "2027-01-04"}, "for an all-day event only"),
        ({"all_day": True, "first_day": "2027-02-30", "last_day": "2027-03-01"}, "date"),
    ],
)
def test_an_event_whose_days_do_not_agree_is_422_and_not_stored(
    api: Api, service_db: Database, matter: int, days: dict[str, Any], reason: str
) -> None:
    response = api.put("/items/event/14", publish_body("event", 14, data=DATA["event"] | days))
    assert response.status_code == 422
    assert reason in response.text
    assert item(service_db, "event", 14) is None


def test_unknown_kinds_and_bad_ids_are_4xx(api: Api, matter: int) -> None:
    unknown = api.put("/items/widget/11", publish_body())
    assert unknown.status_code == 422 and "widget" in unknown.json()["detail"]
    assert api.delete("/items/widget/11?version=1").status_code == 422
    assert api.get("/items/widget/11").status_code == 422
    assert api.put("/items/invoice/abc", publish_body()).status_code == 422
    assert api.delete("/items/invoice/11").status_code == 422  # no version
    assert api.get("/items/invoice/404").status_code == 404


def test_malformed_json_is_422_not_500(api: Api, client: TestClient, matter: int) -> None:
    for content in (b"{", b"[]", b"null", b"", b'{"a": NaN}', b"\xff\xfe"):
        response = client.put(
            "/api/v1/items/invoice/11",
            content=content,
            headers=api.headers(**{"Content-Type": "application/json"}),
        )
        assert response.status_code == 422, (content, response.text)
        assert isinstance(response.json()["detail"], str)


def test_an_oversize_json_body_is_413(api: Api, client: TestClient, matter: int) -> None:
    huge = publish_body(data={**INVOICE_DATA, "memo": "x" * (6 * 1024 * 1024)})
    response = api.put("/items/invoice/11", huge)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


# Documents ------------------------------------------------------------------------------------


def test_document_content_is_stored_once_published(
    api: Api, service_db: Database, matter: int
) -> None:
    early = api.put_bytes("/items/document/12/content?version=1", b"%PDF-")
    assert early.status_code == 409  # the publish has not arrived yet
    published = api.put("/items/document/12", publish_body("document", 12))
    assert published.json()["has_content"] is False
    response = api.put_bytes("/items/document/12/content?version=1", b"%PDF-")
    assert response.status_code == 200 and response.json()["has_content"] is True
    with service_db.read() as s:
        blob = s.get(DocumentBlob, 12)
        assert blob is not None and blob.content == b"%PDF-"
        assert blob.sha256 == hashlib.sha256(b"%PDF-").hexdigest()
    assert (
        api.put_bytes("/items/document/12/content?version=1", b"%PDF-").json()["applied"] is False
    )

    # Unsharing drops the bytes with the copy; the late content of the old version stays out.
    assert api.delete("/items/document/12?version=2").json()["has_content"] is False
    with service_db.read() as s:
        assert s.get(DocumentBlob, 12) is None
    late = api.put_bytes("/items/document/12/content?version=1", b"%PDF-")
    assert late.status_code == 200 and late.json()["applied"] is False
    with service_db.read() as s:
        assert s.get(DocumentBlob, 12) is None


def test_a_new_version_keeps_the_bytes_only_when_they_are_the_same(
    api: Api, service_db: Database, matter: int
) -> None:
    digest = hashlib.sha256(b"%PDF-").hexdigest()
    data = {**DOCUMENT_DATA, "sha256": digest}
    api.put("/items/document/12", publish_body("document", 12, data=data))
    api.put_bytes("/items/document/12/content?version=1", b"%PDF-")
    renamed = api.put(
        "/items/document/12", publish_body("document", 12, 2, data={**data, "name": "W.pdf"})
    )
    assert renamed.json()["has_content"] is True
    changed = {**data, "sha256": hashlib.sha256(b"other").hexdigest()}
    replaced = api.put("/items/document/12", publish_body("document", 12, 3, data=changed))
    assert replaced.json()["has_content"] is False


def test_empty_and_oversize_document_content_are_refused(
    api: Api, service_config: ServiceConfig, tmp_path: Any
) -> None:
    config = replace(service_config, upload_limit_bytes=1000)
    with TestClient(create_app(config)) as client:
        small = Api(client, create_token(client.app.state.db, "alice"))  # type: ignore[attr-defined]
        small.put("/matters/7", matter_body())
        small.put("/items/document/12", publish_body("document", 12))
        empty = small.put_bytes("/items/document/12/content?version=1", b"")
        assert empty.status_code == 422 and "empty" in empty.json()["detail"]
        big = small.put_bytes("/items/document/12/content?version=1", b"x" * 1001)
        assert big.status_code == 413
        # Without a Content-Length (streamed), the cap holds all the same.
        streamed = client.put(
            "/api/v1/items/document/12/content?version=1",
            content=iter([b"x" * 600, b"x" * 600]),
            headers=small.headers(),
        )
        assert streamed.status_code == 413
        exact = small.put_bytes("/items/document/12/content?version=1", b"x" * 1000)
        assert exact.status_code == 200


# An invoice's own PDF -------------------------------------------------------------------------

PDF = b"%PDF-1.4 the firm's own invoice"
PDF_DIGEST = hashlib.sha256(PDF).hexdigest()


def held_pdf(db: Database, item_id: int) -> InvoicePdf | None:
    with db.read() as s:
        pdf = s.get(InvoicePdf, item_id)
        if pdf is not None:
            _ = pdf.content  # deferred: loaded while the session is open
        return pdf


def test_p2_an_invoice_pdf_is_asked_for_once_and_kept_while_the_copy_names_it(
    api: Api, service_db: Database, matter: int
) -> None:
    with_pdf = {**INVOICE_DATA, "pdf_sha256": PDF_DIGEST}
    first = api.put("/items/invoice/11", publish_body(data=with_pdf))
    assert first.json()["has_content"] is False  # the firm sends the bytes only now
    stored = api.put_bytes("/items/invoice/11/content?version=1", PDF)
    assert stored.status_code == 200 and stored.json()["has_content"] is True
    pdf = held_pdf(service_db, 11)
    assert pdf is not None and pdf.content == PDF and pdf.sha256 == PDF_DIGEST

    # A republish naming the same PDF keeps it, and says so: no megabytes sent again.
    memo = api.put("/items/invoice/11", publish_body(version=2, data={**with_pdf, "memo": "x"}))
    assert memo.json()["has_content"] is True and held_pdf(service_db, 11) is not None
    # An invoice without a PDF of its own says nothing of content.
    assert api.put("/items/invoice/12", publish_body(item_id=12)).json()["has_content"] is None

    # Its PDF removed: the bytes go with it.
    removed = api.put("/items/invoice/11", publish_body(version=3))
    assert removed.json()["has_content"] is None and held_pdf(service_db, 11) is None


def test_s7_a_replaced_invoice_pdf_drops_the_old_bytes_and_an_unshare_drops_all(
    api: Api, service_db: Database, matter: int
) -> None:
    api.put("/items/invoice/11", publish_body(data={**INVOICE_DATA, "pdf_sha256": PDF_DIGEST}))
    api.put_bytes("/items/invoice/11/content?version=1", PDF)
    new = b"%PDF-1.7 replaced"
    new_digest = hashlib.sha256(new).hexdigest()
    replaced = api.put(
        "/items/invoice/11",
        publish_body(version=2, data={**INVOICE_DATA, "pdf_sha256": new_digest}),
    )
    assert replaced.json()["has_content"] is False and held_pdf(service_db, 11) is None
    # The old bytes again, for the new version, are not what it names.
    wrong = api.put_bytes("/items/invoice/11/content?version=2", PDF)
    assert wrong.status_code == 409 and held_pdf(service_db, 11) is None
    assert api.put_bytes("/items/invoice/11/content?version=2", new).status_code == 200
    pdf = held_pdf(service_db, 11)
    assert pdf is not None and pdf.content == new

    assert api.delete("/items/invoice/11?version=3").json()["applied"] is True
    assert held_pdf(service_db, 11) is None
    late = api.put_bytes("/items/invoice/11/content?version=2", new)
    assert late.status_code == 200 and late.json()["applied"] is False
    assert held_pdf(service_db, 11) is None


def test_p2_invoice_content_that_is_not_a_pdf_or_too_early_is_refused(
    api: Api, service_db: Database, matter: int
) -> None:
    early = api.put_bytes("/items/invoice/11/content?version=1", PDF)
    assert early.status_code == 409  # the publish has not arrived yet
    html = b"<html>"
    named = {**INVOICE_DATA, "pdf_sha256": hashlib.sha256(html).hexdigest()}
    api.put("/items/invoice/11", publish_body(data=named))
    not_pdf = api.put_bytes("/items/invoice/11/content?version=1", html)
    assert not_pdf.status_code == 422 and "PDF" in not_pdf.json()["detail"]
    assert held_pdf(service_db, 11) is None

"""Helpers for the staff API tests: a token, a client that sends it with a fresh
Idempotency-Key per write, and bodies shaped like the firm's outbox payloads."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal_tui.database import Database
from portal_tui.service.tokens import create_token


class Api:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": key or uuid.uuid4().hex,
            **extra,
        }

    def put(self, path: str, body: Any, *, key: str | None = None) -> httpx.Response:
        return self.client.put(f"/api/v1{path}", json=body, headers=self.headers(key))

    def put_bytes(self, path: str, content: bytes, *, key: str | None = None) -> httpx.Response:
        headers = self.headers(key, **{"Content-Type": "application/octet-stream"})
        return self.client.put(f"/api/v1{path}", content=content, headers=headers)

    def post(self, path: str, *, key: str | None = None) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", headers=self.headers(key))

    def delete(self, path: str, *, key: str | None = None) -> httpx.Response:
        return self.client.delete(f"/api/v1{path}", headers=self.headers(key))

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(
            f"/api/v1{path}", params=params, headers={"Authorization": f"Bearer {self.token}"}
        )


@pytest.fixture
def token(service_db: Database) -> str:
    return create_token(service_db, "alice")


@pytest.fixture
def api(client: TestClient, token: str) -> Api:
    return Api(client, token)


def firm_body(version: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Smith & Jones LLP",
        "enabled": True,
        "permissions": [
            "invoices",
            "calendar_events",
            "tasks",
            "notes",
            "documents",
            "messages",
            "forms",
        ],
        "notify_new_items": True,
        "daily_digest": False,
        "notify_staff_on_upload": True,
        "version": version,
        **changes,
    }


def matter_body(matter_id: int = 7, version: int = 1, **changes: Any) -> dict[str, Any]:
    # As repository.matters.matter_payload, plus the version.
    return {
        "matter_id": matter_id,
        "number": "00042",
        "name": "Estate of Smith [Deceased]",
        "enabled": True,
        "permissions": ["invoices", "documents", "tasks"],
        "version": version,
        **changes,
    }


INVOICE_DATA: dict[str, Any] = {
    "number": "INV-1",
    "issued_on": "2025-03-01",
    "due_on": "2025-03-31",
    "status": "final",
    "total_cents": 150000,
    "paid_cents": 0,
    "memo": None,
    "lines": [
        {"description": "Drafting", "quantity": "1.5", "rate_cents": 100000, "amount_cents": 150000}
    ],
    "pdf_sha256": None,
}

DOCUMENT_DATA: dict[str, Any] = {
    "name": "Will.pdf",
    "content_type": "application/pdf",
    "size": 5,
    "sha256": None,
    "created_at": "2025-03-01T10:00:00+00:00",
    "folder": "Estate",
}


def publish_body(
    kind: str = "invoice",
    item_id: int = 11,
    version: int = 1,
    matter_id: int = 7,
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> dict[str, Any]:
    # As repository.sharing._publish's payload, plus version and batch.
    default = DOCUMENT_DATA if kind == "document" else INVOICE_DATA
    return {
        "kind": kind,
        "item_id": item_id,
        "matter_id": matter_id,
        "version": version,
        "notify": True,
        "data": data if data is not None else default,
        **changes,
    }


def contact_body(
    action: str = "invite", status: str = "invited", version: int = 1, **changes: Any
) -> dict[str, Any]:
    # As repository.contacts.contact_payload.
    return {
        "contact_id": 3,
        "matter_id": 7,
        "client_id": 21,
        "name": "Jörg Müller",
        "email": "jorg@example.com",
        "status": status,
        "action": action,
        "version": version,
        "invitations_sent": 1,
        **changes,
    }

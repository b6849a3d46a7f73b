"""Factories for the client pages: service rows written straight through the models, so each
test sets up exactly the firm, matters, accounts, contacts and shared items it needs."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from portal_tui.database import Database
from portal_tui.domain.kinds import ALL_CATEGORIES, Category, ItemKind, categories_to_names
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import (
    Account,
    ClientSession,
    DocumentBlob,
    PortalContact,
    PortalFirm,
    PortalItem,
    PortalMatter,
)
from portal_tui.sqltypes import utcnow

PASSWORD = "correct horse battery staple"
FIRM_NAME = "Harbor & Vale LLP"


@lru_cache(maxsize=4)
def password_hash(password: str = PASSWORD) -> str:
    # argon2id, hashed once per password: the hash is deliberately slow.
    return PasswordHasher().hash(password)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def iso(value: date | datetime) -> str:
    return value.isoformat()


# Snapshot data, shaped like repository.sharing.snapshot() after JSON ------------------------


def invoice_data(
    number: str, total: int = 150_000, paid: int = 0, memo: str = ""
) -> dict[str, Any]:
    return {
        "number": number,
        "issued_on": iso(date(2025, 3, 1)),
        "due_on": iso(date(2025, 3, 31)),
        "status": "final",
        "total_cents": total,
        "paid_cents": paid,
        "memo": memo,
        "lines": [
            {
                "description": f"Consultation {number}",
                "quantity": "1.5",
                "rate_cents": total // 3 * 2,
                "amount_cents": total,
            }
        ],
    }


def event_data(title: str, starts: datetime | None = None, **extra: Any) -> dict[str, Any]:
    starts = starts or utcnow() + timedelta(days=3)
    return {
        "title": title,
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=1)),
        "location": extra.get("location", "Court 4"),
        "description": extra.get("description", ""),
    }


def task_data(title: str, done: bool = False, due: date | None = None) -> dict[str, Any]:
    return {
        "title": title,
        "due_on": iso(due or (utcnow() + timedelta(days=5)).date()),
        "done": done,
        "description": "",
    }


def note_data(subject: str, body: str = "A note body.") -> dict[str, Any]:
    return {"subject": subject, "body": body, "created_at": iso(utcnow())}


def document_data(name: str, size: int = 11) -> dict[str, Any]:
    return {
        "name": name,
        "content_type": "application/pdf",
        "size": size,
        "sha256": "0" * 64,
        "created_at": iso(utcnow()),
        "folder": "Correspondence",
    }


def message_data(subject: str, body: str = "Please see the attached.") -> dict[str, Any]:
    return {
        "subject": subject,
        "body": body,
        "author_name": "Vera Vale",
        "from_client": False,
        "sent_at": iso(utcnow() - timedelta(hours=2)),
    }


def form_data(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Tell us about yourself.",
        "fields": [
            {"key": "full_name", "label": "Full name", "type": "text", "required": True},
            {"key": "story", "label": "What happened", "type": "multiline", "required": False},
            {"key": "dob", "label": "Date of birth", "type": "date", "required": True},
            {
                "key": "contact_by",
                "label": "Contact me by",
                "type": "choice",
                "required": True,
                "choices": ["Email", "Phone"],
            },
            {"key": "email", "label": "Email", "type": "email", "required": False},
            {"key": "phone", "label": "Phone", "type": "phone", "required": False},
        ],
    }


GOOD_ANSWERS = {
    "field-full_name": "Ann Smith",
    "field-story": "It began\non a Tuesday.",
    "field-dob": "1980-02-29",
    "field-contact_by": "Email",
    "field-email": "ann@example.com",
    "field-phone": "+1 (555) 010-2030",
}

DATA_OF = {
    ItemKind.INVOICE: lambda m: invoice_data(m),
    ItemKind.EVENT: lambda m: event_data(m),
    ItemKind.TASK: lambda m: task_data(m),
    ItemKind.NOTE: lambda m: note_data(m),
    ItemKind.DOCUMENT: lambda m: document_data(m + ".pdf"),
    ItemKind.MESSAGE: lambda m: message_data(m),
    ItemKind.FORM: lambda m: form_data(m),
}


# The service, driven through its models ------------------------------------------------------


@dataclass
class Rows:
    """Factories writing the portal database's rows directly."""

    db: Database

    def firm(
        self, *, enabled: bool = True, permissions: frozenset[Category] = ALL_CATEGORIES
    ) -> None:
        with self.db.write() as s:
            row = s.get(PortalFirm, 1) or PortalFirm(id=1)
            row.name = FIRM_NAME
            row.enabled = enabled
            row.permissions = categories_to_names(permissions)
            s.merge(row)

    def matter(
        self,
        matter_id: int,
        *,
        number: str = "",
        name: str = "",
        enabled: bool = True,
        permissions: frozenset[Category] = ALL_CATEGORIES,
    ) -> None:
        with self.db.write() as s:
            s.merge(
                PortalMatter(
                    id=matter_id,
                    number=number or f"2025-{matter_id:04d}",
                    name=name or f"Matter {matter_id}",
                    enabled=enabled,
                    permissions=categories_to_names(permissions),
                    notify=[{"name": "Vera Vale", "email": "vera@harborvale.example"}],
                )
            )

    def account(
        self, account_id: int, *, email: str, name: str, password: str | None = PASSWORD
    ) -> None:
        with self.db.write() as s:
            s.merge(
                Account(
                    id=account_id,
                    email=email,
                    name=name,
                    password_hash=password_hash(password) if password else None,
                    activated_at=utcnow() if password else None,
                )
            )

    def contact(
        self,
        contact_id: int,
        *,
        matter_id: int,
        account_id: int,
        status: str = "active",
        invite_secret: str | None = None,
        expires_in: timedelta = timedelta(days=14),
    ) -> None:
        with self.db.write() as s:
            account = s.get(Account, account_id)
            assert account is not None
            s.merge(
                PortalContact(
                    id=contact_id,
                    matter_id=matter_id,
                    account_id=account_id,
                    name=account.name,
                    email=account.email,
                    status=status,
                    invite_hash=sha256(invite_secret) if invite_secret else None,
                    invite_expires_at=utcnow() + expires_in if invite_secret else None,
                    invitations_sent=1,
                )
            )

    def set_contact(self, contact_id: int, **changes: Any) -> None:
        with self.db.write() as s:
            row = s.get(PortalContact, contact_id)
            assert row is not None
            for key, value in changes.items():
                setattr(row, key, value)

    def set_matter(self, matter_id: int, **changes: Any) -> None:
        with self.db.write() as s:
            row = s.get(PortalMatter, matter_id)
            assert row is not None
            for key, value in changes.items():
                if key == "permissions":
                    value = categories_to_names(value)
                setattr(row, key, value)

    def item(
        self,
        kind: ItemKind,
        item_id: int,
        *,
        matter_id: int,
        data: dict[str, Any] | None = None,
        marker: str | None = None,
        published: bool = True,
    ) -> None:
        if data is None:
            data = DATA_OF[kind](marker or f"{kind.value}-{item_id}")
        with self.db.write() as s:
            s.merge(
                PortalItem(
                    kind=kind.value,
                    item_id=item_id,
                    matter_id=matter_id,
                    published=published,
                    version=1,
                    data=data,
                    published_at=utcnow() if published else None,
                )
            )

    def blob(self, item_id: int, content: bytes) -> None:
        with self.db.write() as s:
            s.merge(
                DocumentBlob(
                    item_id=item_id,
                    version=1,
                    sha256=hashlib.sha256(content).hexdigest(),
                    content=content,
                )
            )

    def revoke(self, kind: ItemKind, item_id: int) -> None:
        """As the staff API leaves an unshared item: a tombstone without data."""
        with self.db.write() as s:
            row = s.get(PortalItem, (kind.value, item_id))
            assert row is not None
            row.published, row.data, row.version = False, None, row.version + 1
            if kind is ItemKind.DOCUMENT:
                blob = s.get(DocumentBlob, item_id)
                if blob is not None:
                    s.delete(blob)

    def session(self, account_id: int) -> tuple[str, str]:
        """A live session for the account, as a log-in makes: (cookie value, CSRF token)."""
        raw = secrets.token_urlsafe(32)
        token = secrets.token_urlsafe(32)
        with self.db.write() as s:
            s.add(
                ClientSession(
                    id_hash=sha256(raw),
                    account_id=account_id,
                    csrf_token=token,
                    created_at=utcnow(),
                    last_seen_at=utcnow(),
                )
            )
        return raw, token


@dataclass
class Portal(Rows):
    """A running portal service (in-process), with the factories for its database."""

    client: TestClient
    config: ServiceConfig
    csrf_cookie: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def as_user(self, account_id: int) -> Browser:
        raw, token = self.session(account_id)
        return Browser(self, {"portal_session": raw}, token)

    def anonymous(self) -> Browser:
        return Browser(self, {}, None)


@dataclass
class Browser:
    """Requests as one visitor: its cookies sent by hand (never the test client's jar, which
    would carry one actor's cookies into the next), redirects not followed."""

    portal: Portal
    cookies: dict[str, str]
    csrf: str | None
    headers: dict[str, str] = field(default_factory=dict)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        client = self.portal.client
        client.cookies.clear()
        headers = dict(self.headers)
        headers.update(kwargs.pop("headers", {}))
        cookies = dict(self.cookies)
        cookies.update(kwargs.pop("cookies", {}))
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        response = client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
        client.cookies.clear()
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._send("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """A form post with this visitor's session CSRF token (unless `data` has one)."""
        body = dict(data or {})
        if self.csrf is not None:
            body.setdefault("csrf", self.csrf)
        return self._send("POST", url, data=body, **kwargs)

    def post_prelogin(self, url: str, data: dict[str, str]) -> httpx.Response:
        """A pre-login form post (log-in, invitation): the double-submit cookie and field."""
        token = self.portal.csrf_cookie
        return self._send("POST", url, data={"csrf": token, **data}, cookies={"portal_csrf": token})

    def upload(
        self, url: str, name: str, content: bytes, *, csrf: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self._send(
            "POST",
            url,
            data={"csrf": csrf if csrf is not None else (self.csrf or "")},
            files={"file": (name, content, "application/pdf")},
            **kwargs,
        )

    def set_cookies(self, response: httpx.Response) -> None:
        """Keep what the response set (a log-in's new session)."""
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or "expires=Thu, 01 Jan 1970" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value.strip('"')


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


# The usual scene -----------------------------------------------------------------------------

ANN, BOB, CAT = 1, 2, 3
MATTER_A, MATTER_B, MATTER_C = 1, 2, 3
CONTACT_ANN_A, CONTACT_BOB_B, CONTACT_CAT_A, CONTACT_ANN_C = 101, 102, 103, 104
INVITE_CAT = "cat-invitation-secret-0123456789"
INVITE_ANN_C = "ann-matter-c-invitation-secret-01"

# Item ids of matter A, published (visible) and one unpublished per kind.
SHOWN = {
    ItemKind.INVOICE: 11,
    ItemKind.EVENT: 21,
    ItemKind.TASK: 31,
    ItemKind.NOTE: 41,
    ItemKind.DOCUMENT: 51,
    ItemKind.MESSAGE: 61,
    ItemKind.FORM: 71,
}
HIDDEN = {kind: item_id + 1 for kind, item_id in SHOWN.items()}
# Items of matter B (Bob's).
OTHERS = {kind: item_id + 100 for kind, item_id in SHOWN.items()}


def marker(kind: ItemKind, what: str = "shown") -> str:
    return f"{what.upper()}-{kind.value.upper()}-SECRET"


@dataclass(frozen=True)
class Scene:
    """Ann: active on matter A (all seven kinds shared, one more of each not published), and
    invited to matter C. Bob: active on matter B. Cat: invited to matter A, no password yet."""

    portal: Rows
    document_bytes: bytes = b"%PDF-1.4 the engagement letter\n"


def build_scene(portal: Rows) -> Scene:
    portal.firm()
    portal.matter(MATTER_A, number="2025-0001", name="Estate of Smith [Deceased]")
    portal.matter(MATTER_B, number="2025-0002", name="Jones v. Jones")
    portal.matter(MATTER_C, number="2025-0003", name="Smith Trust")
    portal.account(ANN, email="ann@example.com", name="Ann Smith")
    portal.account(BOB, email="bob@example.com", name="Bob Jones")
    portal.account(CAT, email="cat@example.com", name="Cat Smith", password=None)
    portal.contact(CONTACT_ANN_A, matter_id=MATTER_A, account_id=ANN)
    portal.contact(CONTACT_BOB_B, matter_id=MATTER_B, account_id=BOB)
    portal.contact(
        CONTACT_CAT_A,
        matter_id=MATTER_A,
        account_id=CAT,
        status="invited",
        invite_secret=INVITE_CAT,
    )
    portal.contact(
        CONTACT_ANN_C,
        matter_id=MATTER_C,
        account_id=ANN,
        status="invited",
        invite_secret=INVITE_ANN_C,
    )
    scene = Scene(portal)
    for kind in ItemKind:
        portal.item(kind, SHOWN[kind], matter_id=MATTER_A, marker=marker(kind))
        portal.item(
            kind, HIDDEN[kind], matter_id=MATTER_A, marker=marker(kind, "hidden"), published=False
        )
        portal.item(kind, OTHERS[kind], matter_id=MATTER_B, marker=marker(kind, "bobs"))
    portal.blob(SHOWN[ItemKind.DOCUMENT], scene.document_bytes)
    portal.blob(OTHERS[ItemKind.DOCUMENT], b"Bob's document")
    return scene


@pytest.fixture
def portal(client: TestClient, service_db: Database, service_config: ServiceConfig) -> Portal:
    return Portal(db=service_db, client=client, config=service_config)


@pytest.fixture
def scene(portal: Portal) -> Scene:
    return build_scene(portal)


@pytest.fixture
def ann(portal: Portal, scene: Scene) -> Browser:
    return portal.as_user(ANN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)

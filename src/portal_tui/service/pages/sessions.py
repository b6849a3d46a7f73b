"""Server-side client sessions.

The cookie holds a random id; only its SHA-256 is stored, so a copy of the database does not
hand out live sessions. A log-in always starts a new session (no fixation); a session ends
after `session_idle_seconds` without a request, `session_absolute_seconds` after it began, or
at log-out. The session holds who is logged in and the matter chosen (C4), never what they may
see: that is decided afresh on every request (visibility).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..models import Account, ClientSession

# Writing last_seen_at on every request would turn every page view into a write; a minute's
# slack on the idle time-out is worth avoiding that.
TOUCH_AFTER = timedelta(seconds=60)


def session_cookie_name(config: ServiceConfig) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only
    # and for path /, so a sibling subdomain cannot plant one.
    return "__Host-portal_session" if config.secure_cookies else "portal_session"


def hash_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Visitor:
    """A logged-in client, for one request."""

    session_hash: str
    account_id: int
    name: str
    email: str
    csrf_token: str
    matter_id: int | None


def expired(row: ClientSession, config: ServiceConfig, now: datetime) -> bool:
    return now - row.last_seen_at >= timedelta(
        seconds=config.session_idle_seconds
    ) or now - row.created_at >= timedelta(seconds=config.session_absolute_seconds)


def start_session(
    s: Session, config: ServiceConfig, account_id: int, *, replacing: str | None
) -> str:
    """A new session for the account; returns the raw id for the cookie. The session the
    browser had (if any) ends, and so do the account's expired ones."""
    now = utcnow()
    if replacing:
        s.execute(delete(ClientSession).where(ClientSession.id_hash == hash_id(replacing)))
    s.execute(
        delete(ClientSession).where(
            ClientSession.account_id == account_id,
            (ClientSession.last_seen_at <= now - timedelta(seconds=config.session_idle_seconds))
            | (
                ClientSession.created_at <= now - timedelta(seconds=config.session_absolute_seconds)
            ),
        )
    )
    raw = secrets.token_urlsafe(32)
    s.add(
        ClientSession(
            id_hash=hash_id(raw),
            account_id=account_id,
            csrf_token=secrets.token_urlsafe(32),
            matter_id=None,
            created_at=now,
            last_seen_at=now,
        )
    )
    return raw


def end_session(s: Session, raw: str) -> None:
    s.execute(delete(ClientSession).where(ClientSession.id_hash == hash_id(raw)))


def load_visitor(db: Database, config: ServiceConfig, raw: str | None) -> Visitor | None:
    if not raw or len(raw) > 200:
        return None
    key = hash_id(raw)
    now = utcnow()
    with db.read() as s:
        row = s.get(ClientSession, key)
        account = s.get(Account, row.account_id) if row is not None else None
        if row is None or account is None:
            return None
        visitor = Visitor(
            key, account.id, account.name, account.email, row.csrf_token, row.matter_id
        )
        is_expired = expired(row, config, now)
        stale = now - row.last_seen_at >= TOUCH_AFTER
    if is_expired:
        with db.write() as s:
            s.execute(delete(ClientSession).where(ClientSession.id_hash == key))
        return None
    if stale:
        with db.write() as s:
            s.execute(
                update(ClientSession).where(ClientSession.id_hash == key).values(last_seen_at=now)
            )
    return visitor


def visitor_of(request: Request) -> Visitor | None:
    """The request's logged-in client, looked up once per request."""
    cached: Visitor | bool | None = getattr(request.state, "visitor", False)
    if cached is not False:
        assert cached is None or isinstance(cached, Visitor)
        return cached
    config = config_of(request)
    visitor = load_visitor(db_of(request), config, request.cookies.get(session_cookie_name(config)))
    request.state.visitor = visitor
    return visitor


def raw_session_id(request: Request) -> str | None:
    return request.cookies.get(session_cookie_name(config_of(request)))


def remember_matter(db: Database, visitor: Visitor, matter_id: int) -> None:
    """The matter the client is in (C4); only a convenience for "/", never a permission."""
    if visitor.matter_id == matter_id:
        return
    with db.write() as s:
        s.execute(
            update(ClientSession)
            .where(ClientSession.id_hash == visitor.session_hash)
            .values(matter_id=matter_id)
        )


def set_session_cookie(response: Response, config: ServiceConfig, raw: str) -> None:
    # No Max-Age: the cookie dies with the browser; the server-side time-outs do the rest.
    response.set_cookie(
        session_cookie_name(config),
        raw,
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, config: ServiceConfig) -> None:
    response.delete_cookie(
        session_cookie_name(config),
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
        path="/",
    )

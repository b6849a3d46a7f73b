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
from typing import Any

from fastapi import Request, Response
from sqlalchemy import bindparam, delete, select, update
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


def start_session(
    s: Session,
    config: ServiceConfig,
    account_id: int,
    *,
    replacing: str | None,
    device: str | None = None,
    address: str | None = None,
) -> str:
    """A new session for the account; returns the raw id for the cookie. The session the
    browser had (if any) ends, and so do the account's expired ones. `device` and `address`
    are what the account page lists of it (the address only where the firm keeps it)."""
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
            device=device,
            address=address if config.session_places else None,
        )
    )
    return raw


def end_session(s: Session, raw: str) -> None:
    s.execute(delete(ClientSession).where(ClientSession.id_hash == hash_id(raw)))


# The columns a request needs of its session and account, read by one Core statement (no ORM
# objects): load_visitor here, and the matter pages' own combined read (common.open_page).
SESSION_TABLE = _SESSION = ClientSession.__table__
_ACCOUNT = Account.__table__
SESSION_COLUMNS = (
    _SESSION.c.id_hash.label("s_hash"),
    _SESSION.c.account_id.label("s_account_id"),
    _SESSION.c.csrf_token.label("s_csrf"),
    _SESSION.c.matter_id.label("s_matter_id"),
    _SESSION.c.created_at.label("s_created_at"),
    _SESSION.c.last_seen_at.label("s_last_seen_at"),
    _ACCOUNT.c.name.label("a_name"),
    _ACCOUNT.c.email.label("a_email"),
)
SESSION_FROM = _SESSION.join(_ACCOUNT, _ACCOUNT.c.id == _SESSION.c.account_id)
_VISITOR = (
    select(*SESSION_COLUMNS).select_from(SESSION_FROM).where(_SESSION.c.id_hash == bindparam("key"))
)

FRESH, STALE, EXPIRED = "fresh", "stale", "expired"


def session_key(raw: str | None) -> str | None:
    """The stored hash of a cookie's session id; None for no (or an absurd) cookie."""
    if not raw or len(raw) > 200:
        return None
    return hash_id(raw)


def visitor_from_row(row: Any) -> Visitor:
    return Visitor(
        row.s_hash, row.s_account_id, row.a_name, row.a_email, row.s_csrf, row.s_matter_id
    )


def session_state(row: Any, config: ServiceConfig, now: datetime) -> str:
    """EXPIRED (the session ends), STALE (alive; last_seen_at is due a write) or FRESH."""
    if now - row.s_last_seen_at >= timedelta(
        seconds=config.session_idle_seconds
    ) or now - row.s_created_at >= timedelta(seconds=config.session_absolute_seconds):
        return EXPIRED
    return STALE if now - row.s_last_seen_at >= TOUCH_AFTER else FRESH


# The sessions whose last_seen_at this process has written lately: requests on one session
# that find it stale at the same moment (a page and its stylesheet, a client's tabs) write it
# once, not once each. Only a hint: another worker may write it too, which is harmless.
_TOUCHED: dict[str, datetime] = {}
_TOUCHED_MAX = 10_000


def _claim_touch(key: str, now: datetime) -> bool:
    last = _TOUCHED.get(key)
    if last is not None and now - last < TOUCH_AFTER:
        return False
    if len(_TOUCHED) >= _TOUCHED_MAX:
        _TOUCHED.clear()
    _TOUCHED[key] = now
    return True


def settle_session(
    db: Database, config: ServiceConfig, key: str, state: str, now: datetime
) -> None:
    """The write a session's state asks for, if any: an expired session is deleted, a stale
    one gets its last_seen_at (at most once per TOUCH_AFTER, so reads stay reads).

    Each write holds only while the row is still as it was read: a request of the same
    session that touched it meanwhile keeps it alive, and last_seen_at never goes back."""
    if state == EXPIRED:
        idle = now - timedelta(seconds=config.session_idle_seconds)
        begun = now - timedelta(seconds=config.session_absolute_seconds)
        with db.write() as s:
            s.execute(
                delete(ClientSession).where(
                    ClientSession.id_hash == key,
                    (ClientSession.last_seen_at <= idle) | (ClientSession.created_at <= begun),
                )
            )
    elif state == STALE and _claim_touch(key, now):
        with db.write() as s:
            s.execute(
                update(ClientSession)
                .where(ClientSession.id_hash == key, ClientSession.last_seen_at < now)
                .values(last_seen_at=now)
            )


def load_visitor(db: Database, config: ServiceConfig, raw: str | None) -> Visitor | None:
    key = session_key(raw)
    if key is None:
        return None
    now = utcnow()
    with db.reader.connect() as conn:
        row = conn.execute(_VISITOR, {"key": key}).first()
    if row is None:
        return None
    state = session_state(row, config, now)
    settle_session(db, config, key, state, now)
    return None if state == EXPIRED else visitor_from_row(row)


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


def end_request_session(request: Request) -> None:
    """The session the request came with, deleted (if it is still there)."""
    raw = raw_session_id(request)
    if raw:
        with db_of(request).write() as s:
            end_session(s, raw)


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

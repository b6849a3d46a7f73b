"""The changes feed: what clients did, offered back to the firm in `seq` order by cursor.

Client actions (pages) call `record_change` inside the same transaction that stores what the
client did, so a change is in the feed exactly when its effect is committed. The staff API
reads the feed with `read_changes`; its cursor is opaque and HMAC-signed, so a firm client
cannot forge or garble one into an unexpected query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.database import Database

from .models import Change, PortalBinding, ServiceSecret

# The change types the firm's sync understands; pages pass one of these as `type`.
UPLOAD = "upload"  # payload: {upload_id, contact_id, name, content_type, size, sha256}
FORM_SUBMISSION = "form_submission"  # payload: {submission_id, form_id, contact_id, answers}
REPLY = "reply"  # payload: {message_id, contact_id, author_name, body}
FIRST_VIEW = "first_view"  # payload: {kind, item_id, contact_id}
FIRST_DOWNLOAD = "first_download"  # payload: {kind, item_id, contact_id}
ACTIVATION = "activation"  # payload: {contact_id, account_id}
LOGIN = "login"  # payload: {account_id}

CHANGE_TYPES = frozenset(
    {UPLOAD, FORM_SUBMISSION, REPLY, FIRST_VIEW, FIRST_DOWNLOAD, ACTIVATION, LOGIN}
)

CURSOR_SECRET_NAME = "feed_cursor_key"
# Any fixed 64-bit number; it names the advisory lock that orders feed writers on PostgreSQL.
FEED_LOCK_KEY = 0x706F7274616C_01


def record_change(s: Session, type: str, matter_id: int | None, payload: dict[str, Any]) -> Change:
    """Append one change to the feed in the caller's transaction (committed with it).

    `payload` must be JSON-serialisable; it is copied, so later edits to the dict do not
    leak into the row.
    """
    if type not in CHANGE_TYPES:
        # A typo here would silently never reach the firm; fail loudly in development.
        raise ValueError(f"unknown change type {type!r}")
    if s.get_bind().dialect.name == "postgresql":
        # A sequence hands out seq before commit, so two transactions could commit out of
        # order and a reader holding "after 7" would skip a late-committing 6. Holding this
        # lock until commit makes seq order equal commit order. (SQLite writers are already
        # serialised by BEGIN IMMEDIATE.)
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY})
    change = Change(type=type, matter_id=matter_id, payload=json.loads(json.dumps(payload)))
    s.add(change)
    s.flush()
    return change


class CursorError(ValueError):
    """A cursor that was not made by this service (forged, garbled or from another one)."""


def cursor_key(db: Database) -> bytes:
    """The service's cursor signing key, made on first use and kept in ServiceSecret."""
    return named_secret(db, CURSOR_SECRET_NAME)


def named_secret(db: Database, name: str) -> bytes:
    """A key of the service's own, made on first use and kept in ServiceSecret. Read in a
    transaction of its own: call it before opening one."""
    with db.read() as s:
        row = s.get(ServiceSecret, name)
        if row is not None:
            return row.value.encode()
    value = secrets.token_urlsafe(48)
    try:
        with db.write() as s:
            # Another worker may have made it meanwhile: the first one stored wins.
            if s.get(ServiceSecret, name) is None:
                s.add(ServiceSecret(name=name, value=value))
    except IntegrityError:
        pass
    with db.read() as s:
        row = s.get(ServiceSecret, name)
        assert row is not None
        return row.value.encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# What every cursor sign_cursor gives looks like: base64url, a dot, base64url.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"


def sign_cursor(key: bytes, seq: int) -> str:
    """An opaque cursor meaning "after seq"."""
    body = _b64(json.dumps({"v": 1, "after": seq}, separators=(",", ":")).encode())
    mac = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def verify_cursor(key: bytes, cursor: str) -> int:
    """The seq a cursor stands for; CursorError if this service did not sign it."""
    body, sep, mac = cursor.partition(".")
    if not sep or not body or not mac:
        raise CursorError("the cursor is not one this portal service gave out")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest()).encode()
    # Bytes, not str: compare_digest refuses non-ASCII text, and a cursor is anything sent.
    if not hmac.compare_digest(expected, mac.encode("utf-8", "replace")):
        raise CursorError("the cursor is not one this portal service gave out")
    try:
        data = json.loads(_unb64(body))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise CursorError("the cursor is not one this portal service gave out") from exc
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise CursorError("the cursor is not one this portal service gave out")
    return after


@dataclass(frozen=True, slots=True)
class FeedPage:
    changes: list[Change]
    last_seq: int
    more: bool


def read_changes(s: Session, after: int, limit: int) -> FeedPage:
    """Up to `limit` changes with seq > after, in seq order; `more` if others follow."""
    rows = list(
        s.scalars(select(Change).where(Change.seq > after).order_by(Change.seq).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].seq if rows else after
    return FeedPage(changes=rows, last_seq=last, more=more)


def consumed_up_to(s: Session) -> int | None:
    """How far the bound firm has read the feed; None while no firm is bound."""
    return s.scalar(select(PortalBinding.feed_consumed_seq).where(PortalBinding.id == 1))


def note_consumed(s: Session, after: int) -> None:
    """The firm asked for changes after `after`: it has stored every change up to it (its
    cursor moves only once a page is applied), so those may be pruned once old enough. Only
    ever moves forward, in SQL: two relays reading at once cannot move it back."""
    s.execute(
        update(PortalBinding)
        .where(PortalBinding.id == 1, PortalBinding.feed_consumed_seq < after)
        .values(feed_consumed_seq=after)
    )

"""Idempotency-Key for every write of the staff API.

Two ways to hold a key, with the same promises (a replay gets the first answer, a key used for
another request is refused, a request never runs twice at once):

- One transaction (the item writes: publish, revoke, a document's bytes, a batch of them). The
  handler looks the key up, does the work and stores its answer in the same transaction
  (`look_up`, then `record`), so a publish is one commit. On SQLite writers queue, so a
  duplicate sent meanwhile waits and then gets the stored answer; on PostgreSQL it finds the
  first one's key row locked and, once that commits, answers 409 like a claim would. A handler
  that fails or answers "not now" rolls everything back, its key with it.
- A claim in a transaction of its own, committed before the handler runs (every other write):
  a second request with the same key then finds the claim (or, racing on PostgreSQL, the unique
  constraint) and gets 409 instead of running the handler twice. When the handler is done its
  answer is stored on the claim.

Crash safety: a claim whose process died stays without an answer. It is treated as abandoned
after ABANDONED_AFTER, and the next retry takes it over (compare-and-set on the claim time, so
only one retry does). Running the handler again is safe because every write is versioned: a
request that was in fact applied before the crash is acknowledged as not applied the second
time and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import HTTPException
from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from ..models import IdempotencyRecord, StaffToken

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
_KEY = re.compile(KEY_PATTERN)
# Longer than any write takes (the body is read before the claim, so only database work
# remains, bounded by the 30 s busy timeout); short enough that a crash delays the
# delivery worker's retry by minutes, not forever.
ABANDONED_AFTER = timedelta(seconds=120)
RETRY_AFTER_SECONDS = 2
# Answers that say "not now" rather than "this is the result": the key is released so that a
# retry with it runs again (a matter not delivered yet, a conflict that may clear).
NOT_STORED = frozenset({408, 409, 423, 425, 429})


@dataclass(frozen=True, slots=True)
class Claim:
    record_id: int
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    media_type: str
    body: str


def check_key(value: str | None) -> str:
    if value is None or value == "":
        raise HTTPException(
            400, f"This request changes data and needs an {HEADER} header (any unique text)."
        )
    if not _KEY.fullmatch(value):
        raise HTTPException(
            400, f"The {HEADER} header must be 1 to 200 visible ASCII characters, no spaces."
        )
    return value


NOT_JSON = object()  # what `fingerprint` gives for a body that is not JSON


def request_hash(body: bytes) -> str:
    """The body's fingerprint. JSON is compared by meaning, so a retry that serialises the
    same payload with other spacing or key order is still the same request."""
    return fingerprint(body)[0]


def fingerprint(body: bytes) -> tuple[str, Any]:
    """`request_hash`, and the body parsed as JSON (NOT_JSON if it is not)."""
    try:
        parsed = json.loads(body)
        canonical = json.dumps(
            parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed, canonical = NOT_JSON, body
    return hashlib.sha256(canonical).hexdigest(), parsed


@dataclass(frozen=True, slots=True)
class Pending:
    """A write's key and what identifies its request, not looked up yet: a one-transaction
    handler looks it up and stores its answer in its own transaction."""

    token_id: int
    key: str
    method: str
    path: str
    body_hash: str


_RECORDS = IdempotencyRecord.__table__
_TOKENS = StaffToken.__table__
_RECORD_COLUMNS = (
    _RECORDS.c.id,
    _RECORDS.c.method,
    _RECORDS.c.path,
    _RECORDS.c.body_hash,
    _RECORDS.c.status_code,
    _RECORDS.c.response,
    _RECORDS.c.created_at,
)
# Built once: building and keying a statement costs more than running it.
_LOOK_UP = select(*_RECORD_COLUMNS).where(
    _RECORDS.c.token_id == bindparam("token_id"), _RECORDS.c.key == bindparam("key")
)
# The token's revocation and the key, in one look.
_LOOK_UP_LIVE = (
    select(_TOKENS.c.revoked_at, *_RECORD_COLUMNS)
    .select_from(
        _TOKENS.outerjoin(
            _RECORDS,
            and_(_RECORDS.c.token_id == _TOKENS.c.id, _RECORDS.c.key == bindparam("key")),
        )
    )
    .where(_TOKENS.c.id == bindparam("token_id"))
)
_INSERT = insert(IdempotencyRecord)


class TokenRevoked(Exception):
    """The request's staff token was revoked (or removed) since it was checked."""


def look_up(s: Session, pending: Pending, now: datetime) -> Claim | Replay | None:
    """Within `s`: the first answer given for this key (Replay), an abandoned claim taken over
    (Claim), or None for a key never seen.

    Raises HTTPException 422 when the key was used for a different request, 409 while the
    first request with it is still running.
    """
    params = {"token_id": pending.token_id, "key": pending.key}
    return _judge(s, pending, s.connection().execute(_LOOK_UP, params).first(), now)


def look_up_live(s: Session, pending: Pending, now: datetime) -> Claim | Replay | None:
    """`look_up`, and first that the request's token is still live (TokenRevoked if not)."""
    params = {"token_id": pending.token_id, "key": pending.key}
    row = s.connection().execute(_LOOK_UP_LIVE, params).first()
    if row is None or row.revoked_at is not None:
        raise TokenRevoked
    return _judge(s, pending, row if row.id is not None else None, now)


def _judge(s: Session, pending: Pending, record: Any, now: datetime) -> Claim | Replay | None:
    if record is None:
        return None
    if (record.method, record.path, record.body_hash) != (
        pending.method,
        pending.path,
        pending.body_hash,
    ):
        raise HTTPException(
            422,
            f"This {HEADER} was already used for a different request "
            f"({record.method} {record.path}); use a new key for a new request.",
        )
    if record.status_code is not None:
        stored = record.response or {}
        return Replay(
            record.status_code,
            str(stored.get("media_type", "application/json")),
            str(stored.get("body", "")),
        )
    if now - record.created_at < ABANDONED_AFTER:
        raise _in_progress()
    taken = s.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == record.id,
            IdempotencyRecord.created_at == record.created_at,
            IdempotencyRecord.status_code.is_(None),
        )
        .values(created_at=now)
    )
    if not getattr(taken, "rowcount", 0):
        raise _in_progress()
    return Claim(record.id, now)


def record(
    s: Session,
    pending: Pending,
    claimed: Claim | None,
    now: datetime,
    answer: tuple[int, str, str] | None,
) -> None:
    """Within `s`, after the work: keep `answer` (status, media type, body) for replays, or
    with None leave no trace of the key, so that a retry with it runs again."""
    if claimed is not None:
        if answer is None:
            _delete_claim(s, claimed)
        else:
            _store_answer(s, claimed, *answer)
        return
    if answer is None:
        return
    status_code, media_type, body = answer
    s.flush()  # the work's own conflicts are the caller's to retry, not a duplicate key
    try:
        s.connection().execute(
            _INSERT,
            {
                "token_id": pending.token_id,
                "key": pending.key,
                "method": pending.method,
                "path": pending.path,
                "body_hash": pending.body_hash,
                "status_code": status_code,
                "response": {"media_type": media_type, "body": body},
                "created_at": now,
            },
        )
    except IntegrityError:
        # A duplicate of this request committed first (PostgreSQL: its key's row held ours
        # until then): this one must not count as well, and its transaction is rolled back.
        raise _in_progress() from None


def claim(
    db: Database, token_id: int, key: str, method: str, path: str, body_hash: str
) -> Claim | Replay:
    """Claim `key` for this request, or return the first answer given for it.

    Raises HTTPException 422 when the key was used for a different request, 409 while the
    first request with it is still running.
    """
    now = utcnow()
    pending = Pending(token_id, key, method, path, body_hash)
    try:
        with db.write() as s:
            found = look_up(s, pending, now)
            if found is not None:
                return found
            row = IdempotencyRecord(
                token_id=token_id,
                key=key,
                method=method,
                path=path,
                body_hash=body_hash,
                created_at=now,
            )
            s.add(row)
            s.flush()
            return Claim(row.id, now)
    except IntegrityError:
        # Another request inserted the same key between our look and our insert.
        raise _in_progress() from None


def _in_progress() -> HTTPException:
    return HTTPException(
        409,
        f"A request with this {HEADER} is still being handled; retry in a moment.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def storable(status_code: int) -> bool:
    """Whether an answer is the result of the request (kept for replays) rather than "try
    again": 5xx and the not-now statuses release the key instead."""
    return status_code < 500 and status_code not in NOT_STORED


def finish(db: Database, claimed: Claim, status_code: int, media_type: str, body: bytes) -> None:
    """Keep the answer for replays, or release the key if the answer means "try again"."""
    if not storable(status_code):
        release(db, claimed)
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        release(db, claimed)
        return
    with db.write() as s:
        _store_answer(s, claimed, status_code, media_type, text)


def _store_answer(s: Session, claimed: Claim, status_code: int, media_type: str, text: str) -> None:
    # Only while the claim is still ours: a retry may have taken an abandoned one over.
    s.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == claimed.record_id,
            IdempotencyRecord.created_at == claimed.claimed_at,
            IdempotencyRecord.status_code.is_(None),
        )
        .values(status_code=status_code, response={"media_type": media_type, "body": text})
    )


def release(db: Database, claimed: Claim) -> None:
    with db.write() as s:
        _delete_claim(s, claimed)


def _delete_claim(s: Session, claimed: Claim) -> None:
    s.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.id == claimed.record_id,
            IdempotencyRecord.created_at == claimed.claimed_at,
            IdempotencyRecord.status_code.is_(None),
        )
    )

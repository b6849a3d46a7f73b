"""Idempotency-Key for every write of the staff API.

The key is claimed in a transaction of its own, committed before the handler runs: a second
request with the same key then finds the claim (or, racing on PostgreSQL, the unique
constraint) and gets 409 instead of running the handler twice. When the handler is done its
answer is stored on the claim, and a replay gets that answer back.

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

from fastapi import HTTPException
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from ..models import IdempotencyRecord

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


def request_hash(body: bytes) -> str:
    """The body's fingerprint. JSON is compared by meaning, so a retry that serialises the
    same payload with other spacing or key order is still the same request."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def claim(
    db: Database, token_id: int, key: str, method: str, path: str, body_hash: str
) -> Claim | Replay:
    """Claim `key` for this request, or return the first answer given for it.

    Raises HTTPException 422 when the key was used for a different request, 409 while the
    first request with it is still running.
    """
    now = utcnow()
    try:
        with db.write() as s:
            record = s.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key
                )
            )
            if record is None:
                record = IdempotencyRecord(
                    token_id=token_id,
                    key=key,
                    method=method,
                    path=path,
                    body_hash=body_hash,
                    created_at=now,
                )
                s.add(record)
                s.flush()
                return Claim(record.id, now)
            if (record.method, record.path, record.body_hash) != (method, path, body_hash):
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
    except IntegrityError:
        # Another request inserted the same key between our look and our insert.
        raise _in_progress() from None


def _in_progress() -> HTTPException:
    return HTTPException(
        409,
        f"A request with this {HEADER} is still being handled; retry in a moment.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def finish(db: Database, claimed: Claim, status_code: int, media_type: str, body: bytes) -> None:
    """Keep the answer for replays, or release the key if the answer means "try again"."""
    if status_code >= 500 or status_code in NOT_STORED:
        release(db, claimed)
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        release(db, claimed)
        return
    with db.write() as s:
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
        s.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.id == claimed.record_id,
                IdempotencyRecord.created_at == claimed.claimed_at,
                IdempotencyRecord.status_code.is_(None),
            )
        )

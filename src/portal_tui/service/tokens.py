"""Bearer tokens of the staff API, one or more per staff user.

A token is shown once, when it is made; the service keeps only its SHA-256, so a copy of the
database does not hand out working tokens. A revoked token stays as a row (revoked_at set) so
the audit of who used the API keeps its subject.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, literal, select, update

from portal_tui.database import Database
from portal_tui.sqltypes import UTCDateTime, utcnow

from .models import StaffToken

TOKEN_PREFIX = "ptk_"
MAX_LOGIN_LENGTH = 120
MAX_TOKEN_LENGTH = 200
# last_used_at is a hint for people, not an audit trail: writing it on every request would
# turn each read of the API into a write (and, on SQLite, a wait for the writer's lock).
LAST_USED_GRANULARITY = timedelta(seconds=60)


class TokenError(ValueError):
    """A token request that cannot be done: a bad login, nothing to revoke."""


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    token_id: int
    staff_login: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _check_login(staff_login: str) -> str:
    login = staff_login.strip()
    if not login:
        raise TokenError("the staff login is empty")
    if len(login) > MAX_LOGIN_LENGTH:
        raise TokenError(f"the staff login is longer than {MAX_LOGIN_LENGTH} characters")
    if any(not ch.isprintable() for ch in login):
        raise TokenError("the staff login contains control characters")
    return login


def create_token(db: Database, staff_login: str) -> str:
    """Make a new token for `staff_login` and return it; this is the only time it is seen."""
    login = _check_login(staff_login)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        s.add(StaffToken(staff_login=login, token_hash=hash_token(token)))
    return token


def revoke_tokens(db: Database, staff_login: str | None = None, token: str | None = None) -> int:
    """Revoke every live token of a staff user, or one token; returns how many were live."""
    if (staff_login is None) == (token is None):
        raise TokenError("name either a staff login or a token to revoke")
    stmt = update(StaffToken).where(StaffToken.revoked_at.is_(None))
    if staff_login is not None:
        stmt = stmt.where(StaffToken.staff_login == _check_login(staff_login))
    else:
        assert token is not None
        stmt = stmt.where(StaffToken.token_hash == hash_token(token.strip()))
    with db.write() as s:
        result = s.execute(stmt.values(revoked_at=utcnow()))
        return int(getattr(result, "rowcount", 0) or 0)


def authenticate(db: Database, token: str) -> StaffIdentity | None:
    """The staff user a live token belongs to, or None (unknown, revoked or malformed)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(token)
    with db.read() as s:
        row = s.scalar(select(StaffToken).where(StaffToken.token_hash == digest))
        if row is None or row.revoked_at is not None:
            return None
        identity = StaffIdentity(row.id, row.staff_login)
        last_used = row.last_used_at
    now = utcnow()
    if last_used is None or now - last_used >= LAST_USED_GRANULARITY:
        with db.write() as s:
            result = s.execute(
                update(StaffToken)
                .where(StaffToken.id == identity.token_id, StaffToken.revoked_at.is_(None))
                # Never back: another worker may have written a later time meanwhile.
                .values(
                    last_used_at=case(
                        (StaffToken.last_used_at > now, StaffToken.last_used_at),
                        else_=literal(now, UTCDateTime()),
                    )
                )
            )
            if not getattr(result, "rowcount", 0):
                return None  # revoked between the two transactions
    return identity

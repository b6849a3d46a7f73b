"""Failed log-ins, limited per account (guessing one client's password) and per address
(trying many clients from one place). The limit is checked before the password is: once over
it, even the right password gets the 429 page until the window has passed, so guessing gains
nothing.

Each attempt is counted as a failure before its password is checked (`reserve`), in the same
transaction as the check and with the attempt's two counters locked, and given back only if
the password was right (`release`). So a burst of concurrent attempts, on any number of
workers, gets no more password checks than the limit: checked first and counted later, each
would have seen the counter below it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..config import ServiceConfig
from ..models import LoginFailure
from .errors import TooManyAttempts, TooManyRequests

# The key space of pg_advisory_xact_lock(int, int) for "a log-in counter is being decided".
_COUNTER_LOCKS = 0x6C67


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()[:320]


def address_key(address: str) -> str:
    return "addr:" + address[:100]


def _window_start(config: ServiceConfig, now: datetime) -> datetime:
    return now - timedelta(seconds=config.login_window_seconds)


def _retry_after(s: Session, key: str, config: ServiceConfig, now: datetime) -> int:
    oldest = s.scalar(
        select(func.min(LoginFailure.at)).where(
            LoginFailure.key == key, LoginFailure.at > _window_start(config, now)
        )
    )
    if oldest is None:
        return 1
    free_at = oldest + timedelta(seconds=config.login_window_seconds)
    return max(1, int((free_at - now).total_seconds()) + 1)


def check(s: Session, config: ServiceConfig, email: str, address: str, now: datetime) -> None:
    """Raise TooManyAttempts when either counter is at its limit."""
    start = _window_start(config, now)
    for key, limit in (
        (account_key(email), config.login_limit_per_account),
        (address_key(address), config.login_limit_per_address),
    ):
        count = s.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.key == key, LoginFailure.at > start)
        )
        if (count or 0) >= limit:
            raise TooManyAttempts(_retry_after(s, key, config, now))


def _lock(s: Session, keys: list[str]) -> None:
    """Hold the counters of `keys` until the transaction ends (PostgreSQL; SQLite has one
    writer at a time). Always in the same order, so two attempts cannot deadlock."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(keys):
        s.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
            {"space": _COUNTER_LOCKS, "key": key},
        )


def reserve(
    s: Session, config: ServiceConfig, email: str, address: str, now: datetime
) -> list[int]:
    """Check both counters (TooManyAttempts when one is at its limit) and count this attempt
    as a failure of both at once. Returns the rows that count it, for `release`."""
    keys = [account_key(email), address_key(address)]
    _lock(s, keys)
    # Old rows count for nothing; drop them as we go so the table stays small.
    s.execute(
        delete(LoginFailure).where(
            LoginFailure.key.in_(keys), LoginFailure.at <= _window_start(config, now)
        )
    )
    check(s, config, email, address, now)
    rows = [LoginFailure(key=key, at=now) for key in keys]
    s.add_all(rows)
    s.flush()
    return [row.id for row in rows]


def release(s: Session, reserved: list[int]) -> None:
    """The attempt `reserve` counted succeeded: it is not a failure after all."""
    s.execute(delete(LoginFailure).where(LoginFailure.id.in_(reserved)))


def clear_account(s: Session, email: str) -> None:
    """A successful log-in forgets the account's failures (not the address's: one place
    trying many accounts stays limited)."""
    s.execute(delete(LoginFailure).where(LoginFailure.key == account_key(email)))


def count_request(
    s: Session, limits: list[tuple[str, int]], window_seconds: int, now: datetime
) -> None:
    """Count one request against each (key, limit) — TooManyAttempts, counting nothing, when
    one is at its limit within the window. For what is limited whether or not it succeeds:
    asking for a password-reset link, say, which must not tell whether the address exists."""
    keys = [key for key, _ in limits]
    _lock(s, keys)
    start = now - timedelta(seconds=window_seconds)
    s.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= start))
    for key, limit in limits:
        times = s.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.key == key, LoginFailure.at > start)
            .order_by(LoginFailure.at)
        ).all()
        if len(times) >= limit:
            free_at = times[0] + timedelta(seconds=window_seconds)
            raise TooManyRequests(max(1, int((free_at - now).total_seconds()) + 1))
    s.add_all([LoginFailure(key=key, at=now) for key in keys])
    s.flush()

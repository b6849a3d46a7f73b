"""Failed log-ins, limited per account (guessing one client's password) and per address
(trying many clients from one place). The limit is checked before the password is: once over
it, even the right password gets the 429 page until the window has passed, so guessing gains
nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..config import ServiceConfig
from ..models import LoginFailure
from .errors import TooManyAttempts


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


def record_failure(
    s: Session, config: ServiceConfig, email: str, address: str, now: datetime
) -> None:
    keys = (account_key(email), address_key(address))
    # Old rows count for nothing; drop them as we go so the table stays small.
    s.execute(
        delete(LoginFailure).where(
            LoginFailure.key.in_(keys), LoginFailure.at <= _window_start(config, now)
        )
    )
    s.add_all(LoginFailure(key=key, at=now) for key in keys)


def clear_account(s: Session, email: str) -> None:
    """A successful log-in forgets the account's failures (not the address's: one place
    trying many accounts stays limited)."""
    s.execute(delete(LoginFailure).where(LoginFailure.key == account_key(email)))

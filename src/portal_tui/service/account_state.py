"""What the portal knows of a client's sign-ins, for the client's own account page and for the
firm's contact screen alike: the sessions still alive, ending them, and whether two-factor is
on. A session is alive until `session_idle_seconds` without a request or
`session_absolute_seconds` after it began (pages/sessions.py decides the same per request)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, func, select
from sqlalchemy.orm import Session

from .config import ServiceConfig
from .models import ClientSession
from .models import TwoFactor as TwoFactorRow


def alive(config: ServiceConfig, now: datetime) -> ColumnElement[bool]:
    """The condition of a session that has not timed out by `now`."""
    return (ClientSession.last_seen_at > now - timedelta(seconds=config.session_idle_seconds)) & (
        ClientSession.created_at > now - timedelta(seconds=config.session_absolute_seconds)
    )


def live_sessions(
    s: Session, config: ServiceConfig, account_id: int, now: datetime
) -> list[ClientSession]:
    """The account's live sessions, the most recently seen first."""
    return list(
        s.scalars(
            select(ClientSession)
            .where(ClientSession.account_id == account_id, alive(config, now))
            .order_by(ClientSession.last_seen_at.desc(), ClientSession.id_hash)
        )
    )


def live_session_count(s: Session, config: ServiceConfig, account_id: int, now: datetime) -> int:
    return int(
        s.scalar(
            select(func.count())
            .select_from(ClientSession)
            .where(ClientSession.account_id == account_id, alive(config, now))
        )
        or 0
    )


def end_sessions(s: Session, account_id: int, *, keep: str | None = None) -> int:
    """Every session of the account ends but the one whose hash is `keep`; returns how many.
    One DELETE: a session signing in meanwhile either commits before it (and ends) or after."""
    query = delete(ClientSession).where(ClientSession.account_id == account_id)
    if keep is not None:
        query = query.where(ClientSession.id_hash != keep)
    return cast(CursorResult[Any], s.execute(query)).rowcount


def two_factor_on(s: Session, account_id: int) -> bool:
    """Whether the account signs in with a second factor (the one place that answers, for the
    account page and the firm's view of a contact)."""
    return (
        s.scalar(
            select(TwoFactorRow.account_id).where(
                TwoFactorRow.account_id == account_id, TwoFactorRow.enabled_at.is_not(None)
            )
        )
        is not None
    )

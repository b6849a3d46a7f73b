"""The emails of a client's own security (OWASP ASVS V6.3.7 / V6.4): the link to choose a new
password, and the notice that it was changed. Queued in the caller's transaction like every
notice; a reset link's email is not sent once the link was used or has expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..config import ServiceConfig
from ..models import Account, OneTimeLink, PortalFirm
from .compose import portal_link, render
from .outbox import enqueue

KIND_PASSWORD_RESET = "password_reset"
KIND_PASSWORD_CHANGED = "password_changed"


def _firm_name(s: Session) -> str:
    firm = s.get(PortalFirm, 1)
    return firm.name if firm is not None else ""


def _when(at: datetime) -> str:
    return f"{at:%d %B %Y, %H:%M} UTC".lstrip("0")


def queue_password_reset(
    s: Session, config: ServiceConfig, account: Account, link: OneTimeLink, url: str
) -> None:
    firm = _firm_name(s)
    enqueue(
        s,
        kind=KIND_PASSWORD_RESET,
        key=str(link.id),  # see reset_gone
        to_addr=account.email,
        subject=f"Choose a new password for the {firm} client portal"
        if firm
        else "Choose a new password for your client portal",
        content=render(
            "password_reset",
            name=account.name,
            email=account.email,
            firm=firm,
            link=url,
            valid_minutes=config.reset_link_valid_minutes,
            expires=_when(link.expires_at),
        ),
    )


def queue_password_changed(
    s: Session, config: ServiceConfig, account: Account, at: datetime
) -> None:
    firm = _firm_name(s)
    enqueue(
        s,
        kind=KIND_PASSWORD_CHANGED,
        key=f"{account.id}:{at.isoformat()}",
        to_addr=account.email,
        subject="Your client portal password was changed",
        content=render(
            "password_changed",
            name=account.name,
            email=account.email,
            firm=firm,
            changed=_when(at),
            forgot=portal_link(config, "/forgot"),
        ),
    )


def reset_gone(s: Session, key: str, now: datetime) -> str | None:
    """Why the reset email queued under `key` must not go any more, or None."""
    if not key.isdigit():
        return f"not a reset link key: {key!r}"
    link = s.get(OneTimeLink, int(key))
    if link is None:
        return "the link is gone"
    if link.used_at is not None:
        return "the link was used or replaced before it could be sent"
    if link.expires_at <= now:
        return "the link expired before it could be sent"
    return None

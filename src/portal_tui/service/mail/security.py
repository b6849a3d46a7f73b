"""The emails of a client's own security (OWASP ASVS V6.3.7 / V6.4): the link to choose a new
password, the sign-in link, the notice that the password was changed, and the notice that
staff reset the second factor. Queued in the caller's transaction like every notice; a link's
email is not sent once the link was used, replaced or has expired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..config import ServiceConfig
from ..models import Account, OneTimeLink, PortalFirm
from .compose import portal_link, render
from .outbox import enqueue

KIND_PASSWORD_RESET = "password_reset"
KIND_PASSWORD_CHANGED = "password_changed"
KIND_SIGN_IN_LINK = "sign_in_link"
KIND_TWO_FACTOR_RESET = "two_factor_reset"


def _firm_name(s: Session) -> str:
    firm = s.get(PortalFirm, 1)
    return firm.name if firm is not None else ""


def _when(at: datetime) -> str:
    return f"{at:%d %B %Y, %H:%M} UTC".lstrip("0")


def _queue(
    s: Session,
    account: Account,
    *,
    kind: str,
    key: str,
    subject: str,
    template: str,
    **context: Any,
) -> None:
    """One security email to the account, with its name, email and firm in the template;
    `{portal}` in the subject reads "the <firm> client portal", or "your client portal"."""
    firm = _firm_name(s)
    portal = f"the {firm} client portal" if firm else "your client portal"
    enqueue(
        s,
        kind=kind,
        key=key,
        to_addr=account.email,
        subject=subject.format(portal=portal),
        content=render(template, name=account.name, email=account.email, firm=firm, **context),
    )


def queue_password_reset(
    s: Session, config: ServiceConfig, account: Account, link: OneTimeLink, url: str
) -> None:
    _queue(
        s,
        account,
        kind=KIND_PASSWORD_RESET,
        key=str(link.id),  # see link_gone
        subject="Choose a new password for {portal}",
        template="password_reset",
        link=url,
        valid_minutes=config.reset_link_valid_minutes,
        expires=_when(link.expires_at),
    )


def queue_sign_in_link(
    s: Session, account: Account, link: OneTimeLink, url: str, *, valid_minutes: int
) -> None:
    _queue(
        s,
        account,
        kind=KIND_SIGN_IN_LINK,
        key=str(link.id),  # see link_gone: not sent once used, replaced or expired
        subject="Your sign-in link for {portal}",
        template="sign_in_link",
        link=url,
        valid_minutes=valid_minutes,
        expires=_when(link.expires_at),
    )


def queue_password_changed(
    s: Session, config: ServiceConfig, account: Account, at: datetime
) -> None:
    _queue(
        s,
        account,
        kind=KIND_PASSWORD_CHANGED,
        key=f"{account.id}:{at.isoformat()}",
        subject="Your client portal password was changed",
        template="password_changed",
        changed=_when(at),
        forgot=portal_link(config, "/forgot"),
    )


def queue_two_factor_reset(
    s: Session, config: ServiceConfig, account: Account, at: datetime, *, required: bool
) -> None:
    _queue(
        s,
        account,
        kind=KIND_TWO_FACTOR_RESET,
        key=f"{account.id}:{at.isoformat()}",
        subject="Your client portal two-factor sign-in was reset",
        template="two_factor_reset",
        changed=_when(at),
        required=required,
        setup=portal_link(config, "/account/two-factor"),
    )


def link_gone(s: Session, key: str, now: datetime) -> str | None:
    """Why the email of the one-time link (a reset or a sign-in link) queued under `key` must
    not go any more, or None."""
    if not key.isdigit():
        return f"not a one-time link key: {key!r}"
    link = s.get(OneTimeLink, int(key))
    if link is None:
        return "the link is gone"
    if link.used_at is not None:
        return "the link was used or replaced before it could be sent"
    if link.expires_at <= now:
        return "the link expired before it could be sent"
    return None

"""The daily digest (F5): the previous day's new items, one email per client account."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from portal_tui.domain import rules

from ..config import ServiceConfig
from ..models import PortalFirm, PortalItem
from .audience import Reader, firm_portal, reader_at, readers_of
from .compose import Mail, portal_link, render
from .outbox import enqueue

KIND_DIGEST = "digest"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A digest day runs midnight to midnight UTC (the portal knows no client time zone)."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _day_items(day: date) -> list[ColumnElement[bool]]:
    start, end = day_bounds(day)
    return [
        PortalItem.published.is_(True),
        PortalItem.published_at >= start,
        PortalItem.published_at < end,
    ]


def _digest_mail(config: ServiceConfig, firm: PortalFirm, day: date, reader: Reader) -> Mail:
    when = f"{day:%d %B %Y}".lstrip("0")
    prefix = f"{firm.name}: " if firm.name else ""
    return Mail(
        reader.email,
        f"{prefix}your client portal digest for {when}",
        render(
            "digest",
            name=reader.name,
            firm=firm.name,
            day=when,
            count=reader.count,
            matters=reader.matters,
            portal=portal_link(config),
        ),
    )


def digest_mails(s: Session, config: ServiceConfig, firm: PortalFirm, day: date) -> list[Mail]:
    """The digest emails of `day` as they read right now: one per client account, listing the
    items published on `day` (UTC) that it may see now (P3, S7), across all its matters. The
    firm's settings are the caller's to check (digest_goes)."""
    items = s.scalars(select(PortalItem).where(*_day_items(day)))
    readers = readers_of(s, firm, items, digest=True)
    return [_digest_mail(config, firm, day, reader) for reader in readers]


def digest_mail(
    s: Session, config: ServiceConfig, firm: PortalFirm, day: date, to_addr: str
) -> Mail | None:
    """The one email of digest_mails(...) that goes to `to_addr`, composed alone; None when
    that mailbox may see none of the day's items any more."""
    reader = reader_at(s, firm, to_addr, _day_items(day), digest=True)
    return None if reader is None else _digest_mail(config, firm, day, reader)


def digest_goes(firm: PortalFirm | None) -> bool:
    """Whether any client may get a digest: the firm sends it to everyone, or emails clients
    of new items at all (then those who chose the digest get it instead)."""
    return firm is not None and rules.f5_emails_clients(firm_portal(firm))


def queue_daily_digest(s: Session, config: ServiceConfig, day: date) -> int:
    """One email per client account that gets the digest (the firm's daily digest, or the
    client's own choice: rules.f5_gets_digest) listing the items published on `day` (UTC)
    that it may still see, across all its matters. Queueing the same
    day again adds nothing (one Message-ID per day and recipient). Returns how many were
    newly queued. The sender composes each email again when it sends it (see recheck)."""
    firm = s.get(PortalFirm, 1)
    if firm is None or not digest_goes(firm):
        return 0
    queued = 0
    for mail in digest_mails(s, config, firm, day):
        queued += enqueue(
            s,
            kind=KIND_DIGEST,
            key=day.isoformat(),
            to_addr=mail.to_addr,
            subject=mail.subject,
            content=mail.content,
        )
    return queued

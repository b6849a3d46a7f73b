"""The emails the portal sends (F5, C1). Each is queued in the caller's transaction.

Every notice becomes a row of the mail outbox in the session it is given, so it commits or
rolls back with the change that caused it; the sender delivers it later. The Message-ID is
derived from what the notice is about and who gets it, so queueing the same notice twice
leaves one row and one email. Just before sending, the sender checks it again (recheck): a
"new items" email is composed anew, for its one recipient, from what that recipient may see
then, and an invitation goes only while its link can still be used.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from portal_tui.domain import ContactStatus, rules
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..models import ClientUpload, PortalContact, PortalFirm, PortalItem, PortalMatter
from .audience import Reader, reader_at, readers_of
from .compose import Mail, portal_link, render
from .digest import queue_daily_digest
from .outbox import enqueue

__all__ = [
    "invitation_gone",
    "new_items_mail",
    "new_items_mails",
    "queue_daily_digest",
    "queue_invitation",
    "queue_new_items",
    "queue_upload_notice",
]

KIND_INVITATION = "invitation"
KIND_NEW_ITEMS = "new_items"
KIND_UPLOAD = "upload"


def _firm(s: Session) -> PortalFirm | None:
    return s.get(PortalFirm, 1)


def _matter_title(matter: PortalMatter | None) -> str:
    if matter is None:
        return ""
    return " ".join(p for p in (matter.number, matter.name) if p)


def queue_invitation(s: Session, config: ServiceConfig, contact: PortalContact, link: str) -> None:
    """The invitation (C1): explains how to create the portal account; `link` is the
    absolute URL with the invitation secret. A re-invite queues a new one (new link).

    The notice is identified by the contact, its `invitations_sent` count and the link, so a
    re-invite (a new count, a new secret) is a new email while a second call for the same
    invitation is not.
    """
    if not contact.email.strip():
        return  # C1 refuses to invite without an address; nothing to send to
    firm = _firm(s)
    expires = contact.invite_expires_at or utcnow() + timedelta(days=config.invitation_valid_days)
    firm_name = firm.name if firm is not None else ""
    link_hash = hashlib.sha256(link.encode()).hexdigest()
    enqueue(
        s,
        kind=KIND_INVITATION,
        key=f"{contact.id}:{contact.invitations_sent}:{link_hash}",  # see invitation_gone
        to_addr=contact.email,
        subject=(
            f"Your invitation to the {firm_name} client portal"
            if firm_name
            else "Your invitation to the client portal"
        ),
        content=render(
            "invitation",
            name=contact.name,
            firm=firm_name,
            matter=_matter_title(s.get(PortalMatter, contact.matter_id)),
            link=link,
            valid_days=config.invitation_valid_days,
            expires=f"{expires:%d %B %Y, %H:%M} UTC".lstrip("0"),
            portal=portal_link(config),
        ),
    )


def invitation_gone(s: Session, key: str, now: datetime) -> str | None:
    """Why the invitation queued under `key` must not be sent any more, or None while its link
    can still be used: the contact is still invited (C2, C3 and P1), no re-invite has replaced
    the link, and it has not expired."""
    contact_id, _, rest = key.partition(":")
    sent, _, _ = rest.partition(":")
    if not (contact_id.isdigit() and sent.isdigit()):
        return f"not an invitation key: {key!r}"
    contact = s.get(PortalContact, int(contact_id))
    if contact is None or contact.status not in {c.value for c in ContactStatus}:
        return "the contact is no longer on the portal"
    if not rules.p1_can_activate(ContactStatus(contact.status)):
        return f"the contact is no longer invited (now {contact.status})"
    if contact.invitations_sent != int(sent):
        return "a newer invitation replaced it"
    if contact.invite_expires_at is not None and contact.invite_expires_at <= now:
        return "the invitation expired before it could be sent"
    return None


def _batch_items(batch: str) -> list[ColumnElement[bool]]:
    return [PortalItem.batch == batch, PortalItem.published.is_(True)]


def _new_items_mail(config: ServiceConfig, firm: PortalFirm, reader: Reader) -> Mail:
    count = reader.count
    what = f"a new {reader.matters[0].items[0].label.lower()}" if count == 1 else "new items"
    subject = (
        f"{firm.name}: {what} in your client portal"
        if firm.name
        else (f"{what[0].upper()}{what[1:]} in your client portal")
    )
    content = render(
        "new_items",
        name=reader.name,
        firm=firm.name,
        count=count,
        matters=reader.matters,
        portal=portal_link(config),
    )
    return Mail(reader.email, subject, content)


def new_items_mails(s: Session, config: ServiceConfig, firm: PortalFirm, batch: str) -> list[Mail]:
    """The "new items shared" emails of one batch as they read right now: one per client
    account that may see at least one published item of the batch (P3, S7), listing just
    those, grouped by matter. The firm's notify_new_items setting is the caller's to check.

    Used when the batch is queued; the sender composes each email again just before it
    sends it with new_items_mail, so an item unshared (or a contact, matter or category
    switched off) meanwhile is not announced.
    """
    items = s.scalars(select(PortalItem).where(*_batch_items(batch)))
    readers = readers_of(s, firm, items, digest=False)
    return [_new_items_mail(config, firm, reader) for reader in readers]


def new_items_mail(
    s: Session, config: ServiceConfig, firm: PortalFirm, batch: str, to_addr: str
) -> Mail | None:
    """The one email of new_items_mails(...) that goes to `to_addr`, composed alone; None
    when that mailbox may see no item of the batch any more."""
    reader = reader_at(s, firm, to_addr, _batch_items(batch), digest=False)
    return None if reader is None else _new_items_mail(config, firm, reader)


def queue_new_items(s: Session, config: ServiceConfig, batch: str) -> int:
    """ "New items shared" for one batch (F5): one email per client account, listing every
    item of the batch it may see, grouped by matter; none when the firm's notify_new_items is
    off, and none to a client who chose the digest or no such emails. Returns how many emails
    were newly queued.

    The items of a batch may reach the portal in several requests: call this after each. The
    email is held a few seconds after the last call (outbox.SETTLE) and each call while it is
    held rewrites it with everything the batch holds by then, so the client still gets one
    email. Items arriving after it went out are not announced again (the digest lists them).
    The sender composes the email once more when it sends it, from what the client may see
    then: what was unshared meanwhile is left out, and nothing goes when nothing is left.
    """
    firm = _firm(s)
    if firm is None or not firm.notify_new_items:
        return 0
    queued = 0
    for mail in new_items_mails(s, config, firm, batch):
        queued += enqueue(
            s,
            kind=KIND_NEW_ITEMS,
            key=batch,
            to_addr=mail.to_addr,
            subject=mail.subject,
            content=mail.content,
            settle=True,
        )
    return queued


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def queue_upload_notice(s: Session, config: ServiceConfig, upload: ClientUpload) -> int:
    """A client uploaded a document (F5): one email to each of the matter's allowed staff,
    unless the firm's notify_staff_on_upload is off. Returns how many were queued.

    The matter's `notify` list holds only Allowed parties (M5), so Restricted staff get
    nothing; an address listed twice gets one email.
    """
    firm = _firm(s)
    if firm is None or not firm.notify_staff_on_upload:
        return 0
    if upload.id is None:
        s.flush()  # the notice is identified by the upload's id
    matter = s.get(PortalMatter, upload.matter_id)
    if matter is None:
        return 0
    contact = s.get(PortalContact, upload.contact_id)
    client = contact.name if contact is not None else "Your client"
    title = _matter_title(matter)
    seen: set[str] = set()
    queued = 0
    for person in matter.notify:
        email = person.get("email")
        if not isinstance(email, str) or not email.strip() or email.strip().lower() in seen:
            continue
        seen.add(email.strip().lower())
        name = person.get("name")
        queued += enqueue(
            s,
            kind=KIND_UPLOAD,
            key=str(upload.id),
            to_addr=email,
            subject=f"Client upload on {matter.number or title}: {upload.name}",
            content=render(
                "upload",
                name=name if isinstance(name, str) else "",
                firm=firm.name,
                client=client,
                file=upload.name,
                size=_size(upload.size),
                matter=title,
                uploaded=f"{upload.uploaded_at or utcnow():%d %B %Y, %H:%M} UTC".lstrip("0"),
            ),
        )
    return queued

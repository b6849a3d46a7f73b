"""Just before an email goes out: is what it says still for its recipient to read? (S7, P3)

A "new items" email is held a few seconds for the rest of its batch, and any email may wait
much longer while the mail server is down. Meanwhile the firm may unshare an item, disable or
remove the contact, turn the matter's or the firm's portal off, or withdraw a category. From
then on the client must not see the item (S7), and an email naming it would show its title
all the same. So the sender composes a "new items" or digest email again, with the same code
that queued it, from what its recipient may see at that moment, and drops it when nothing is
left; an invitation goes only while its link can still be used. Upload notices go to the
firm's own staff and are sent as stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session

from ..config import ServiceConfig
from ..models import MailMessage, PortalFirm
from .compose import Mail, message_id_for
from .digest import KIND_DIGEST, digest_mails
from .notices import KIND_INVITATION, KIND_NEW_ITEMS, invitation_gone, new_items_mails
from .outbox import stored_content

NOTHING_LEFT = "nothing left to announce"


def recheck(s: Session, config: ServiceConfig, row: MailMessage, now: datetime) -> str | None:
    """Bring the outbox row `row` (attached to `s`) up to date for sending.

    Returns why it must not be sent at all, or None when it may go. A "new items" or digest
    email is then what its recipient may see now: its subject, text and HTML are replaced by
    freshly composed ones where they differ. The Message-ID and the Date stay, so a copy
    resent after a crash is the same bytes as long as nothing changes meanwhile.
    """
    about = row.about
    if about is None:
        return None  # queued before the outbox kept what an email is about: sent as stored
    if row.kind == KIND_NEW_ITEMS:
        firm = s.get(PortalFirm, 1)
        if firm is None:
            return NOTHING_LEFT
        if not firm.notify_new_items:
            return "new-item emails were turned off before it was sent"
        return _refresh(row, about, new_items_mails(s, config, firm, about))
    if row.kind == KIND_DIGEST:
        firm = s.get(PortalFirm, 1)
        if firm is None:
            return NOTHING_LEFT
        if not firm.daily_digest:
            return "the daily digest was turned off before it was sent"
        try:
            day = date.fromisoformat(about)
        except ValueError:
            return f"not a digest day: {about!r}"
        return _refresh(row, about, digest_mails(s, config, firm, day))
    if row.kind == KIND_INVITATION:
        return invitation_gone(s, about, now)
    return None


def _refresh(row: MailMessage, about: str, mails: Iterable[Mail]) -> str | None:
    """Put the current version of the row's email (the one of `mails` with its Message-ID,
    that is, for the same notice and recipient) into the row; NOTHING_LEFT when there is none:
    the recipient may see none of what the email would list."""
    for mail in mails:
        if message_id_for(row.kind, about, mail.to_addr) == row.message_id:
            for column, value in stored_content(mail.subject, mail.content).items():
                if getattr(row, column) != value:
                    setattr(row, column, value)
            return None
    return NOTHING_LEFT

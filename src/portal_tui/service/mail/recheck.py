"""Just before an email goes out: is what it says still for its recipient to read? (S7, P3)

A "new items" email is held a few seconds for the rest of its batch, and any email may wait
much longer while the mail server is down. Meanwhile the firm may unshare an item, disable or
remove the contact, turn the matter's or the firm's portal off, or withdraw a category. From
then on the client must not see the item (S7), and an email naming it would show its title
all the same. So the sender composes a "new items" or digest email again, with the same code
that queued it, from what its recipient may see at that moment, and drops it when nothing is
left; an invitation goes only while its link can still be used. Upload notices go to the
firm's own staff and are sent as stored.

Only the one email being sent is composed (not every email of its batch), and nothing here
writes: the sender reads in a read transaction and stores the verdict in a short write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..config import ServiceConfig
from ..models import MailMessage, PortalFirm
from .compose import Mail, message_id_for
from .digest import KIND_DIGEST, digest_goes, digest_mail
from .notices import KIND_INVITATION, KIND_NEW_ITEMS, invitation_gone, new_items_mail
from .outbox import stored_content
from .security import KIND_PASSWORD_RESET, KIND_SIGN_IN_LINK, link_gone

NOTHING_LEFT = "nothing left to announce"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with an outbox row now: drop it (`dropped` says why), or send it with
    `changes` (the columns whose content differs from what it would say now) applied."""

    dropped: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def recheck(s: Session, config: ServiceConfig, row: MailMessage, now: datetime) -> Verdict:
    """Whether the outbox row `row` may go now, and as what; reads only.

    A "new items" or digest email is composed again for its own recipient from what that
    recipient may see now: its subject, text and HTML change where they differ. The
    Message-ID and the Date stay, so a copy resent after a crash is the same bytes as long as
    nothing changes meanwhile.
    """
    about = row.about
    if about is None:
        return Verdict()  # queued before the outbox kept what an email is about: as stored
    if row.kind == KIND_NEW_ITEMS:
        firm = s.get(PortalFirm, 1)
        if firm is None:
            return Verdict(NOTHING_LEFT)
        if not firm.notify_new_items:
            return Verdict("new-item emails were turned off before it was sent")
        if not _own(row, about):
            return Verdict(NOTHING_LEFT)
        return _fresh(row, new_items_mail(s, config, firm, about, row.to_addr))
    if row.kind == KIND_DIGEST:
        firm = s.get(PortalFirm, 1)
        if firm is None:
            return Verdict(NOTHING_LEFT)
        if not digest_goes(firm):
            return Verdict("the daily digest was turned off before it was sent")
        try:
            day = date.fromisoformat(about)
        except ValueError:
            return Verdict(f"not a digest day: {about!r}")
        if not _own(row, about):
            return Verdict(NOTHING_LEFT)
        return _fresh(row, digest_mail(s, config, firm, day, row.to_addr))
    if row.kind == KIND_INVITATION:
        return Verdict(invitation_gone(s, about, now))
    if row.kind in (KIND_PASSWORD_RESET, KIND_SIGN_IN_LINK):
        return Verdict(link_gone(s, about, now))
    return Verdict()


def _own(row: MailMessage, about: str) -> bool:
    """Whether the row is the notice `about` for its own address: the Message-ID is derived
    from both, so a composed email can be matched to the row it replaces."""
    return message_id_for(row.kind, about, row.to_addr) == row.message_id


def _fresh(row: MailMessage, mail: Mail | None) -> Verdict:
    """The row's email as `mail` says it now; NOTHING_LEFT when there is none: the
    recipient may see none of what the email would list."""
    if mail is None:
        return Verdict(NOTHING_LEFT)
    fields = stored_content(mail.subject, mail.content)
    return Verdict(changes={k: v for k, v in fields.items() if getattr(row, k) != v})

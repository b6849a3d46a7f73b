"""Putting an email in the outbox, in the caller's transaction, at most once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.sqltypes import UTCDateTime, utcnow

from ..models import MailMessage
from .compose import Rendered, message_id_for, one_line

log = logging.getLogger(__name__)

# A notice that may still grow (the items of a batch reach the portal one request at a time)
# waits this long after its last change before it goes ...
SETTLE = timedelta(seconds=5)
# ... but never longer than this after it was first queued, so a steady stream of changes
# cannot hold it back for ever.
SETTLE_CAP = timedelta(seconds=60)


def enqueue(
    s: Session,
    *,
    kind: str,
    key: str,
    to_addr: str,
    subject: str,
    content: Rendered,
    settle: bool = False,
    now: datetime | None = None,
) -> bool:
    """Queue one email unless the same notice (same Message-ID) is already queued.

    Written in the caller's session, so it commits or rolls back with the change that caused
    it. With `settle`, the email is held for SETTLE, and a call for the same notice while it
    has not been tried yet replaces its content (and holds it again): several requests of one
    batch make one email listing everything. Returns whether a new row was added.
    """
    now = now or utcnow()
    to_addr = to_addr.strip()
    message_id = message_id_for(kind, key, to_addr)
    fields = stored_content(subject, content)
    same = select(MailMessage).where(MailMessage.message_id == message_id)
    existing = s.scalar(same)
    if existing is not None:
        if settle:
            _refresh(s, existing, fields, now)
        return False
    row = MailMessage(
        message_id=message_id,
        kind=kind,
        about=key,
        to_addr=to_addr,
        created_at=now,
        attempts=0,
        next_attempt_at=now + SETTLE if settle else now,
        **fields,
    )
    # The caller's own pending changes are flushed first, outside the savepoint, so that an
    # error of theirs is not mistaken for a duplicate of ours.
    s.flush()
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:
        # Another transaction queued the same notice between our check and our insert (on
        # PostgreSQL the insert waited for it to commit, so its row is there to read now).
        log.debug("mail %s already queued by a concurrent transaction", message_id)
        if settle:
            # Held again as for a later call: this transaction's part of the batch has only
            # just arrived (its content is composed again before it is sent in any case).
            existing = s.scalar(same.execution_options(populate_existing=True))
            if existing is not None:
                _refresh(s, existing, fields, now)
        return False
    return True


def stored_content(subject: str, content: Rendered) -> dict[str, Any]:
    """The columns of an outbox row that hold what the email says, as they are stored: the
    same whether it is queued or composed again before sending, so an unchanged email stays
    the same bytes."""
    return {"subject": one_line(subject), "body": content.text, "html": content.html}


def _refresh(s: Session, row: MailMessage, fields: dict[str, Any], now: datetime) -> None:
    """Replace the content of a held email, only while no sender has claimed it."""
    hold = min(now + SETTLE, row.created_at + SETTLE_CAP)
    result = cast(
        CursorResult[Any],
        s.execute(
            update(MailMessage)
            # The condition is re-checked under the row lock: a sender that claimed the row
            # meanwhile has raised `attempts`, and then the content stays as it was sent.
            .where(
                MailMessage.id == row.id,
                MailMessage.sent_at.is_(None),
                MailMessage.attempts == 0,
            )
            # Later of the two in SQL: a hold another transaction set meanwhile is not cut.
            .values(
                next_attempt_at=case(
                    (MailMessage.next_attempt_at > hold, MailMessage.next_attempt_at),
                    else_=literal(hold, UTCDateTime()),
                ),
                **fields,
            )
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount == 0:
        log.info("mail %s already on its way; later changes are not added", row.message_id)

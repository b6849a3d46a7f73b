"""S7 and P3 at send time: an email queued a moment ago says only what its recipient may see
when it goes out (through a real SMTP server, aiosmtpd on loopback).

A "new items" email is held a few seconds for the rest of its batch; any email may wait longer
while the mail server is down. Whatever the firm takes away meanwhile must not reach the
client by email: the sender composes the email again just before sending, and drops it when
nothing is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail import sender
from portal_tui.service.mail.notices import (
    queue_daily_digest,
    queue_invitation,
    queue_new_items,
)
from portal_tui.service.mail.recheck import NOTHING_LEFT
from portal_tui.service.mail.sender import send_due, send_round
from portal_tui.service.models import (
    MailMessage,
    PortalContact,
    PortalFirm,
    PortalItem,
    PortalMatter,
)
from portal_tui.service.schema import ensure_service_schema
from portal_tui.sqltypes import utcnow

from .conftest import ALL, Portal, Received, SmtpServer

SECRET = "Settlement offer - DO NOT FORWARD.pdf"
KEPT = "Completion statement.pdf"


def later(minutes: float = 1) -> datetime:
    """A moment past the new-items hold, as the sender's clock will be soon."""
    return utcnow() + timedelta(minutes=minutes)


def outbox(db: Database) -> list[MailMessage]:
    with db.read() as s:
        return list(s.scalars(select(MailMessage).order_by(MailMessage.id)))


def parse(received: Received) -> EmailMessage:
    msg = message_from_bytes(received.content, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def text_of(msg: EmailMessage) -> str:
    """The plain text part, with the line ends it was stored with (SMTP sends CRLF)."""
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def everything_sent(server: SmtpServer) -> bytes:
    return b"".join(r.content for r in server.handler.received)


# What the staff API leaves behind for each change (service/api) -------------------------------


def unshare(db: Database, item: PortalItem) -> None:
    """As the staff API's revoke: a tombstone without data, out of its batch."""
    with db.write() as s:
        s.execute(
            update(PortalItem)
            .where(PortalItem.kind == item.kind, PortalItem.item_id == item.item_id)
            .values(published=False, data=None, batch=None, version=PortalItem.version + 1)
        )


def set_contact(db: Database, contact: PortalContact, status: str) -> None:
    with db.write() as s:
        s.execute(update(PortalContact).where(PortalContact.id == contact.id).values(status=status))


def set_matter(db: Database, matter: PortalMatter, **values: object) -> None:
    with db.write() as s:
        s.execute(update(PortalMatter).where(PortalMatter.id == matter.id).values(**values))


def set_firm(db: Database, **values: object) -> None:
    with db.write() as s:
        s.execute(update(PortalFirm).where(PortalFirm.id == 1).values(**values))


# A batch of two documents for Alice, queued and held ----------------------------------------


class Batch:
    def __init__(
        self,
        db: Database,
        portal: Portal,
        config: ServiceConfig,
        published_at: datetime | None = None,
    ) -> None:
        self.db = db
        self.matter = portal.matter("2025-001", "Estate of Smith")
        self.contact = portal.contact(self.matter, portal.account())
        self.secret, self.kept = (
            portal.item(self.matter, data={"name": name}, batch="b1", published_at=published_at)
            for name in (SECRET, KEPT)
        )
        with db.write() as s:
            assert queue_new_items(s, config, "b1") == 1
        [self.row] = outbox(db)
        assert SECRET in self.row.body  # what it said when it was queued


@pytest.fixture
def batch(db: Database, portal: Portal, config: ServiceConfig) -> Batch:
    return Batch(db, portal, config)


def assert_dropped(db: Database, config: ServiceConfig, why: str) -> None:
    """Not sent, marked dropped with the reason, and never tried again."""
    [row] = outbox(db)
    assert row.sent_at is None
    assert row.dropped_at is not None
    assert row.last_error == why
    assert row.attempts == 1
    for much_later in (later(10), later(60 * 24), later(60 * 24 * 30)):
        assert send_round(db, config, now=much_later) == sender.Round()
    [again] = outbox(db)
    assert again.attempts == 1


# (1) S7: an item unshared before the email goes ---------------------------------------------


def test_s7_an_item_unshared_before_sending_is_left_out_of_the_batch_email(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch
) -> None:
    unshare(db, batch.secret)

    assert send_due(db, config, now=later()) == 1

    [got] = smtp_server.handler.received
    assert got.rcpt_tos == ["alice@example.net"]
    msg = parse(got)
    assert SECRET.encode() not in got.content
    assert SECRET not in text_of(msg)
    assert SECRET not in html_of(msg)
    # The other item of the batch is still announced, alone, as if it had been shared alone.
    assert KEPT in text_of(msg)
    assert KEPT in html_of(msg)
    assert "a new item" in text_of(msg)
    assert msg["Subject"] == "Smith & Jones LLP: a new document in your client portal"
    # Same notice, same Message-ID; the row now holds what was actually sent.
    [row] = outbox(db)
    assert msg["Message-ID"] == row.message_id == batch.row.message_id
    assert row.sent_at is not None
    assert row.dropped_at is None
    assert row.last_error is None
    assert row.body == text_of(msg)
    assert row.subject == msg["Subject"]
    assert SECRET not in (row.html or "")


def test_s7_a_batch_whose_every_item_was_unshared_sends_nothing(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch
) -> None:
    unshare(db, batch.secret)
    unshare(db, batch.kept)

    result = send_round(db, config, now=later())

    assert result == sender.Round(dropped=1)
    assert smtp_server.handler.received == []
    assert_dropped(db, config, NOTHING_LEFT)


# (2), (3) and the rest of P3: access taken away before the email goes -----------------------

TAKEN_AWAY: dict[str, Callable[[Database, Batch], None]] = {
    "contact disabled (C2)": lambda db, b: set_contact(db, b.contact, "disabled"),
    "contact removed (C3)": lambda db, b: set_contact(db, b.contact, "removed"),
    "matter portal off (M4)": lambda db, b: set_matter(db, b.matter, enabled=False),
    "firm portal off (F6)": lambda db, _b: set_firm(db, enabled=False),
    "documents no longer permitted on the matter (M2)": lambda db, b: set_matter(
        db, b.matter, permissions=[c for c in ALL if c != "documents"]
    ),
    "documents no longer permitted by the firm (F4)": lambda db, _b: set_firm(
        db, permissions=[c for c in ALL if c != "documents"]
    ),
}


@pytest.mark.parametrize("change", TAKEN_AWAY)
def test_s7_p3_access_taken_away_before_sending_sends_nothing(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch, change: str
) -> None:
    assert "documents" in ALL
    TAKEN_AWAY[change](db, batch)

    assert send_round(db, config, now=later()) == sender.Round(dropped=1)

    assert smtp_server.handler.received == []
    assert_dropped(db, config, NOTHING_LEFT)


def test_f5_new_item_emails_turned_off_before_sending_sends_nothing(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch
) -> None:
    set_firm(db, notify_new_items=False)
    assert send_round(db, config, now=later()) == sender.Round(dropped=1)
    assert smtp_server.handler.received == []
    assert_dropped(db, config, "new-item emails were turned off before it was sent")


@pytest.fixture
def any_db(database_url: str) -> Iterator[Database]:
    """SQLite and, when configured, PostgreSQL."""
    database = Database(database_url)
    ensure_service_schema(database)
    yield database
    database.dispose()


def test_s7_recheck_on_either_database(
    any_db: Database, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    """One unshared item is left out, and a batch emptied for another client drops its
    email; the fresh content is committed with the same Message-ID."""
    portal = Portal(any_db)
    portal.firm()
    batch = Batch(any_db, portal, config)
    other = portal.matter("2025-002")
    portal.contact(other, portal.account("Bob", "bob@example.net"))
    gone = portal.item(other, data={"name": "bob-only.pdf"}, batch="b2")
    with any_db.write() as s:
        assert queue_new_items(s, config, "b2") == 1
    unshare(any_db, batch.secret)
    unshare(any_db, gone)

    assert send_round(any_db, config, now=later()) == sender.Round(sent=1, dropped=1)

    [got] = smtp_server.handler.received
    assert got.rcpt_tos == ["alice@example.net"]
    assert KEPT in text_of(parse(got))
    assert SECRET.encode() not in got.content
    rows = {r.to_addr: r for r in outbox(any_db)}
    assert rows["alice@example.net"].message_id == batch.row.message_id
    assert rows["alice@example.net"].body == text_of(parse(got))
    assert rows["bob@example.net"].dropped_at is not None
    assert rows["bob@example.net"].last_error == NOTHING_LEFT


def test_s7_only_the_client_who_lost_access_loses_the_email(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    matter = portal.matter()
    alice = portal.contact(matter, portal.account("Alice", "alice@example.net"))
    portal.contact(matter, portal.account("Bob", "bob@example.net"))
    portal.item(matter, data={"name": SECRET}, batch="b1")
    with db.write() as s:
        assert queue_new_items(s, config, "b1") == 2
    set_contact(db, alice, "disabled")

    assert send_round(db, config, now=later()) == sender.Round(sent=1, dropped=1)

    [got] = smtp_server.handler.received
    assert got.rcpt_tos == ["bob@example.net"]
    assert SECRET in text_of(parse(got))
    rows = {r.to_addr: r for r in outbox(db)}
    assert rows["alice@example.net"].dropped_at is not None
    assert rows["alice@example.net"].sent_at is None
    assert rows["bob@example.net"].sent_at is not None


def test_s7_a_retry_after_a_refusal_checks_again(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch
) -> None:
    """Refused once ("451 try later"), then the contact is disabled before the retry: the
    retry sends nothing, however late it comes."""
    smtp_server.handler.refuse = 1
    now = later()
    assert send_round(db, config, now=now) == sender.Round(failed=1)
    [failed] = outbox(db)
    set_contact(db, batch.contact, "disabled")

    assert send_round(db, config, now=failed.next_attempt_at) == sender.Round(dropped=1)

    assert smtp_server.handler.received == []
    [row] = outbox(db)
    assert row.attempts == 2
    assert row.last_error == NOTHING_LEFT
    assert row.dropped_at is not None


# (4) nothing changed: the email goes out as queued --------------------------------------------


def test_nothing_changed_the_email_goes_out_as_queued(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch
) -> None:
    assert send_due(db, config, now=later()) == 1

    [got] = smtp_server.handler.received
    msg = parse(got)
    assert SECRET in text_of(msg)
    assert KEPT in text_of(msg)
    assert "2 new items" in text_of(msg)
    [row] = outbox(db)
    assert (row.subject, row.body, row.html) == (batch.row.subject, batch.row.body, batch.row.html)
    assert row.dropped_at is None
    assert row.last_error is None


def test_a_resend_after_a_crash_is_the_recomposed_email_byte_for_byte(
    db: Database,
    config: ServiceConfig,
    smtp_server: SmtpServer,
    batch: Batch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fresh version is stored before sending: a copy resent after a crash between
    sending and marking sent is the same bytes, with the same Message-ID."""
    unshare(db, batch.secret)

    def crash(db: Database, row_id: int) -> None:
        raise SystemExit("killed between sending and marking sent")

    now = later()
    with monkeypatch.context() as m:
        m.setattr(sender, "_mark_sent", crash)
        with pytest.raises(SystemExit):
            send_due(db, config, now=now)
    [stored] = outbox(db)
    assert SECRET not in stored.body  # the fresh version, kept before it went

    assert send_due(db, config, now=now + sender.CLAIM_LEASE) == 1
    first, second = smtp_server.handler.received
    assert first.content == second.content
    assert parse(first)["Message-ID"] == batch.row.message_id
    assert SECRET.encode() not in everything_sent(smtp_server)


def test_rows_queued_before_the_outbox_kept_what_they_are_about_go_as_stored(
    db: Database, config: ServiceConfig, smtp_server: SmtpServer, batch: Batch
) -> None:
    with db.write() as s:
        s.execute(update(MailMessage).values(about=None))
    unshare(db, batch.kept)  # cannot be told apart any more: nothing to compose it from
    assert send_due(db, config, now=later()) == 1
    [got] = smtp_server.handler.received
    assert text_of(parse(got)) == batch.row.body


# The daily digest -----------------------------------------------------------------------------


def queue_digest(db: Database, portal: Portal, config: ServiceConfig) -> tuple[Batch, date]:
    portal.firm(daily_digest=True)
    day = date(2025, 5, 5)
    b = Batch(db, portal, config, datetime(2025, 5, 5, 15, 0, tzinfo=UTC))
    with db.write() as s:
        s.execute(update(MailMessage).values(sent_at=utcnow()))  # the batch email went
    with db.write() as s:
        assert queue_daily_digest(s, config, day) == 1
    return b, day


def digest_row(db: Database) -> MailMessage:
    [row] = [r for r in outbox(db) if r.kind == "digest"]
    return row


def test_f5_s7_the_digest_leaves_out_what_was_unshared_before_it_went(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    b, day = queue_digest(db, portal, config)
    assert SECRET in digest_row(db).body
    unshare(db, b.secret)

    assert send_due(db, config, now=later()) == 1

    [got] = smtp_server.handler.received
    msg = parse(got)
    assert SECRET.encode() not in got.content
    assert KEPT in text_of(msg)
    assert "one new item" in text_of(msg)
    assert msg["Message-ID"] == digest_row(db).message_id
    assert digest_row(db).body == text_of(msg)
    assert digest_row(db).about == day.isoformat()


@pytest.mark.parametrize("change", ["unshare both", "contact disabled", "digest turned off"])
def test_f5_s7_a_digest_with_nothing_left_is_dropped(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer, change: str
) -> None:
    b, _day = queue_digest(db, portal, config)
    why = NOTHING_LEFT
    if change == "unshare both":
        unshare(db, b.secret)
        unshare(db, b.kept)
    elif change == "contact disabled":
        set_contact(db, b.contact, "disabled")
    else:
        # No digest for anyone: the firm emails clients of new items no more at all (with
        # notify_new_items on, a client who chose the digest would still get one).
        set_firm(db, daily_digest=False, notify_new_items=False)
        why = "the daily digest was turned off before it was sent"

    assert send_round(db, config, now=later()) == sender.Round(dropped=1)

    assert smtp_server.handler.received == []
    row = digest_row(db)
    assert row.sent_at is None
    assert row.dropped_at is not None
    assert row.last_error == why


# Invitations: sent only while their link can still be used ---------------------------------

LINK = "https://portal.example.com/invite/s3cr3t"


def queue_invite(db: Database, config: ServiceConfig, contact: PortalContact) -> None:
    with db.write() as s:
        current = s.get(PortalContact, contact.id)
        assert current is not None
        queue_invitation(s, config, current, f"{LINK}-{current.invitations_sent}")


@pytest.mark.parametrize("status", ["disabled", "removed", "active"])
def test_c2_c3_an_invitation_to_a_contact_no_longer_invited_is_not_sent(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer, status: str
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    queue_invite(db, config, contact)
    set_contact(db, contact, status)

    assert send_round(db, config) == sender.Round(dropped=1)

    assert smtp_server.handler.received == []
    [row] = outbox(db)
    assert row.dropped_at is not None
    assert row.last_error == f"the contact is no longer invited (now {status})"


def test_c3_a_reinvite_replaces_an_invitation_not_sent_yet(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    queue_invite(db, config, contact)
    with db.write() as s:
        s.execute(
            update(PortalContact).where(PortalContact.id == contact.id).values(invitations_sent=2)
        )
    queue_invite(db, config, contact)

    assert send_round(db, config) == sender.Round(sent=1, dropped=1)

    [got] = smtp_server.handler.received
    assert f"{LINK}-2" in text_of(parse(got))
    old, new = outbox(db)
    assert old.last_error == "a newer invitation replaced it"
    assert old.sent_at is None
    assert new.sent_at is not None


def test_c1_an_invitation_that_expired_before_it_could_be_sent_is_dropped(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    with db.write() as s:
        s.execute(
            update(PortalContact)
            .where(PortalContact.id == contact.id)
            .values(invite_expires_at=utcnow() + timedelta(days=14))
        )
    queue_invite(db, config, contact)
    assert send_round(db, config, now=later(60 * 24 * 15)) == sender.Round(dropped=1)
    assert smtp_server.handler.received == []
    [row] = outbox(db)
    assert row.last_error == "the invitation expired before it could be sent"


def test_c1_an_invitation_still_valid_goes_as_queued(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    queue_invite(db, config, contact)
    [queued] = outbox(db)
    assert send_round(db, config) == sender.Round(sent=1)
    [got] = smtp_server.handler.received
    assert text_of(parse(got)) == queued.body

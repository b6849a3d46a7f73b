"""Several writers and several senders at once (several uvicorn workers): each email is
queued once and sent once. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from threading import Thread

import pytest
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail.notices import queue_invitation
from portal_tui.service.mail.sender import CLAIM_LEASE, send_due, send_round
from portal_tui.service.mail.transport import MessageRefused
from portal_tui.service.models import MailMessage
from portal_tui.service.schema import ensure_service_schema
from portal_tui.sqltypes import utcnow

from .conftest import Portal

LINK = "https://portal.example.com/activate/abc"


@pytest.fixture
def shared_db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    ensure_service_schema(database)
    yield database
    database.dispose()


def test_concurrent_senders_send_each_email_once(
    shared_db: Database, tmp_path: Path, eml_config: ServiceConfig
) -> None:
    portal = Portal(shared_db)
    portal.firm()
    matter = portal.matter()
    for n in range(24):
        contact = portal.contact(
            matter, portal.account(f"C{n}", f"c{n}@example.net"), status="invited"
        )
        with shared_db.write() as s:
            queue_invitation(s, eml_config, contact, f"{LINK}/{n}")

    now = utcnow() + timedelta(seconds=1)
    with ThreadPoolExecutor(4) as pool:
        sent = list(pool.map(lambda _: send_due(shared_db, eml_config, now=now), range(4)))
    assert sum(sent) == 24
    with shared_db.read() as s:
        rows = list(s.scalars(select(MailMessage)))
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)
    assert len(list(eml_config.mail_dir.glob("*.eml"))) == 24


def test_two_transactions_queueing_the_same_notice_make_one_row(
    shared_db: Database, eml_config: ServiceConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """The second one cannot see the first one's row before it commits; the unique Message-ID
    decides, and the second transaction still commits its own work."""
    portal = Portal(shared_db)
    portal.firm()
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    first_queued, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with shared_db.write() as s:
                queue_invitation(s, eml_config, contact, LINK)
                first_queued.set()
                assert release.wait(10)
        except BaseException as exc:
            errors.append(exc)
            first_queued.set()

    def second() -> None:
        try:
            with shared_db.write() as s:
                queue_invitation(s, eml_config, contact, LINK)
        except BaseException as exc:
            errors.append(exc)

    caplog.set_level(logging.DEBUG, logger="portal_tui.service.mail.outbox")
    a = threading.Thread(target=first)
    a.start()
    assert first_queued.wait(10)
    b = threading.Thread(target=second)
    b.start()
    time.sleep(0.3)  # the second is now waiting on the first (row lock or BEGIN IMMEDIATE)
    release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    with shared_db.read() as s:
        assert len(list(s.scalars(select(MailMessage)))) == 1
    if not shared_db.is_sqlite:
        # PostgreSQL let the second one insert, and the unique index turned it away; SQLite
        # made it wait at BEGIN, so its check before the insert already saw the row.
        assert "already queued by a concurrent transaction" in caplog.text


class _Held:
    """A transport whose email stays in flight until `release` is set, then is delivered
    (its Message-ID kept in `sent`) or, with `refuse`, refused by the server."""

    def __init__(self, sent: list[str], *, refuse: bool = False) -> None:
        self.sent = sent
        self.refuse = refuse
        self.sending = threading.Event()
        self.release = threading.Event()

    def send(self, msg: EmailMessage) -> None:
        self.sending.set()
        assert self.release.wait(30)
        if self.refuse:
            raise MessageRefused("451 try later")
        self.sent.append(str(msg["Message-ID"]))

    def close(self) -> None:
        pass


def test_a_sender_whose_claim_was_taken_over_leaves_the_email_to_the_new_holder(
    shared_db: Database, eml_config: ServiceConfig
) -> None:
    """At least once, never knowingly twice: a sender that hung past its lease while another
    sender took the email over must not write its late failure over the new claim. That
    would make the email due again while the new holder is still sending it, and a third
    sender would send it a second time."""
    portal = Portal(shared_db)
    portal.firm()
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    with shared_db.write() as s:
        queue_invitation(s, eml_config, contact, LINK)
    start = utcnow() + timedelta(seconds=1)
    sent: list[str] = []
    hung, holder = _Held(sent, refuse=True), _Held(sent)

    def round_of(transport: _Held, now: datetime) -> Thread:
        thread = Thread(
            target=send_round,
            args=(shared_db, eml_config),
            kwargs={"now": now, "transport": transport},
        )
        thread.start()
        return thread

    first = round_of(hung, start)
    assert hung.sending.wait(10)
    second = round_of(holder, start + CLAIM_LEASE + timedelta(seconds=1))
    assert holder.sending.wait(10)  # the lease had run out: the email was taken over
    hung.release.set()  # the first sender's server refuses it at last
    first.join(10)
    late = _Held(sent)
    late.release.set()
    third = send_round(
        shared_db, eml_config, now=start + CLAIM_LEASE + timedelta(seconds=2), transport=late
    )
    holder.release.set()
    second.join(10)
    assert third.sent == 0
    assert len(sent) == 1
    with shared_db.read() as s:
        (row,) = s.scalars(select(MailMessage))
    assert row.sent_at is not None and row.attempts == 2 and row.last_error is None

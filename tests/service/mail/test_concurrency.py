"""Several writers and several senders at once (several uvicorn workers): each email is
queued once and sent once. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail.notices import queue_invitation
from portal_tui.service.mail.sender import send_due
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

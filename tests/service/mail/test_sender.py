"""The background sender: the loop, the digest at midnight, backoff, cancellation."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail import sender, transport
from portal_tui.service.mail.notices import queue_invitation
from portal_tui.service.mail.sender import backoff, queue_digest_if_due, run_sender
from portal_tui.service.models import MailMessage
from portal_tui.sqltypes import utcnow

from .conftest import Portal, free_port, smtp_config


def outbox(db: Database) -> list[MailMessage]:
    with db.read() as s:
        return list(s.scalars(select(MailMessage).order_by(MailMessage.id)))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_backoff_doubles_with_jitter_up_to_an_hour() -> None:
    rng = random.Random(7)
    for attempts in range(1, 30):
        ceiling = min(sender.BACKOFF_CAP, sender.BACKOFF_BASE * 2 ** (attempts - 1))
        for _ in range(20):
            wait = backoff(attempts, rng)
            assert ceiling / 2 <= wait <= ceiling
    assert backoff(1000, rng) <= timedelta(hours=1)
    assert len({backoff(3, rng) for _ in range(10)}) > 1  # jittered


async def test_run_sender_delivers_queued_mail_and_stops_cleanly(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    task = asyncio.create_task(run_sender(db, eml_config, poll_seconds=0.02))
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    with db.write() as s:
        queue_invitation(s, eml_config, contact, "https://portal.example.com/activate/abc")
    await until(lambda: eml_config.mail_dir.is_dir() and any(eml_config.mail_dir.iterdir()))
    await until(lambda: outbox(db)[0].sent_at is not None)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(list(eml_config.mail_dir.iterdir())) == 1


async def test_f5_run_sender_queues_yesterdays_digest_when_on(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    portal.firm(daily_digest=True)
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter, data={"name": "yesterday.pdf"}, published_at=utcnow() - timedelta(days=1))
    task = asyncio.create_task(run_sender(db, eml_config, poll_seconds=0.02))
    try:
        await until(lambda: any(r.kind == "digest" and r.sent_at for r in outbox(db)))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    [row] = outbox(db)
    assert "yesterday.pdf" in row.body


def test_f5_the_digest_is_queued_once_per_day_after_midnight_utc(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    portal.firm(daily_digest=True)
    matter = portal.matter()
    portal.contact(matter, portal.account())
    monday = datetime(2025, 5, 5, 12, 0, tzinfo=utcnow().tzinfo)
    portal.item(matter, data={"name": "monday.pdf"}, published_at=monday)
    portal.item(matter, data={"name": "tuesday.pdf"}, published_at=monday + timedelta(days=1))

    done = queue_digest_if_due(db, eml_config, None, now=monday + timedelta(hours=13))
    assert done == monday.date()  # just after midnight: Monday's digest
    assert queue_digest_if_due(db, eml_config, done, now=monday + timedelta(hours=30)) == done
    assert len(outbox(db)) == 1
    # A restart (or a second worker) that forgot `done` queues nothing more.
    queue_digest_if_due(db, eml_config, None, now=monday + timedelta(hours=14))
    assert len(outbox(db)) == 1
    done = queue_digest_if_due(db, eml_config, done, now=monday + timedelta(hours=37))
    assert done == (monday + timedelta(days=1)).date()
    first, second = outbox(db)
    assert "monday.pdf" in first.body
    assert "tuesday.pdf" in second.body


async def test_run_sender_survives_a_transport_that_keeps_failing(
    db: Database, portal: Portal, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = smtp_config(tmp_path, free_port())  # nothing listens there
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    with db.write() as s:
        queue_invitation(s, nowhere, contact, "https://portal.example.com/activate/abc")
    task = asyncio.create_task(run_sender(db, nowhere, poll_seconds=0.02))
    await until(lambda: outbox(db)[0].attempts >= 1)
    await asyncio.sleep(0.1)
    assert not task.done()  # logged, not raised
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [row] = outbox(db)
    assert row.sent_at is None
    assert row.last_error
    assert row.next_attempt_at > utcnow()
    assert "mail transport failed" in caplog.text


async def test_cancelling_the_sender_lets_the_email_in_flight_finish(
    db: Database,
    portal: Portal,
    eml_config: ServiceConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelled while an email is being written: that one is finished and marked sent (not
    left claimed to be sent again later), and no further one is started."""
    for n in range(3):
        contact = portal.contact(
            portal.matter(f"2025-00{n}"),
            portal.account(f"C{n}", f"c{n}@example.net"),
            status="invited",
        )
        with db.write() as s:
            queue_invitation(s, eml_config, contact, f"https://portal.example.com/activate/{n}")

    started, release = threading.Event(), threading.Event()
    real_open = transport.open_transport

    class Slow:
        def __init__(self) -> None:
            self.inner = real_open(eml_config)

        def send(self, msg: object) -> None:
            started.set()
            assert release.wait(10)
            self.inner.send(msg)  # type: ignore[arg-type]

        def close(self) -> None:
            self.inner.close()

    monkeypatch.setattr(sender, "open_transport", lambda config: Slow())
    task = asyncio.create_task(run_sender(db, eml_config, poll_seconds=0.02))
    await asyncio.to_thread(started.wait, 10)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # waits for the email in flight
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = outbox(db)
    assert [r.sent_at is not None for r in rows] == [True, False, False]
    assert [r.attempts for r in rows] == [1, 0, 0]


def test_the_app_runs_the_sender_while_it_is_up(tmp_path: Path) -> None:
    """The service's lifespan starts the sender with send_mail on, and stops it cleanly."""
    import time

    from fastapi.testclient import TestClient

    from portal_tui.service.app import create_app

    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path}/portal.db", data_dir=tmp_path / "data", send_mail=True
    )
    with TestClient(create_app(config)) as client:
        db: Database = client.app.state.db  # type: ignore[attr-defined]
        portal = Portal(db)
        portal.firm()
        contact = portal.contact(portal.matter(), portal.account(), status="invited")
        with db.write() as s:
            queue_invitation(s, config, contact, "http://127.0.0.1:8765/activate/abc")
        deadline = time.monotonic() + 10
        while not (config.mail_dir.is_dir() and any(config.mail_dir.iterdir())):
            assert time.monotonic() < deadline, "the app's sender wrote no email"
            time.sleep(0.05)
    assert len(list(config.mail_dir.glob("*.eml"))) == 1

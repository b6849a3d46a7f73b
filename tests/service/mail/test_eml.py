"""Without SMTP settings each email is an .eml file in the mail folder (the embedded default)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select, update

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail import sender
from portal_tui.service.mail.notices import queue_invitation, queue_new_items
from portal_tui.service.mail.sender import send_due
from portal_tui.service.mail.transport import eml_name
from portal_tui.service.models import MailMessage
from portal_tui.sqltypes import utcnow

from .conftest import Portal


def outbox(db: Database) -> list[MailMessage]:
    with db.read() as s:
        return list(s.scalars(select(MailMessage).order_by(MailMessage.id)))


def read_eml(path: Path) -> EmailMessage:
    with path.open("rb") as f:
        msg = BytesParser(policy=default).parse(f)
    assert isinstance(msg, EmailMessage)
    return msg


def fill(db: Database, portal: Portal, config: ServiceConfig) -> None:
    """An invitation and a batch for two clients: three emails."""
    matter = portal.matter()
    invited = portal.contact(matter, portal.account("Nina", "nina@example.net"), status="invited")
    portal.contact(matter, portal.account("Alice", "alice@example.net"))
    portal.contact(matter, portal.account("Bob", "bob@example.net"))
    portal.item(matter, data={"name": "will.pdf"})
    portal.item(matter, "task", {"title": "Sign it"})
    with db.write() as s:
        queue_invitation(s, config, invited, "https://portal.example.com/activate/abc")
        queue_new_items(s, config, "batch-1")


def test_eml_mode_writes_one_parseable_file_per_email(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    fill(db, portal, eml_config)
    assert send_due(db, eml_config, now=utcnow() + timedelta(minutes=1)) == 3

    folder = eml_config.mail_dir
    files = sorted(folder.iterdir())
    assert len(files) == 3
    assert all(f.suffix == ".eml" for f in files)  # no temporary file left behind
    by_id = {r.message_id: r for r in outbox(db)}
    for path in files:
        msg = read_eml(path)
        row = by_id[msg["Message-ID"]]
        assert path.name == eml_name(row.message_id)
        assert msg["To"] == row.to_addr
        assert msg["From"] == "portal@localhost"
        assert msg["Subject"] == row.subject
        assert msg["Date"] is not None
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        assert plain is not None
        assert html is not None
        assert plain.get_content() == row.body
    texts = {read_eml(f)["To"]: read_eml(f) for f in files}
    alice = texts["alice@example.net"].get_body(("plain",))
    assert alice is not None
    assert "will.pdf" in alice.get_content()
    assert "Sign it" in alice.get_content()


def test_eml_a_resent_email_replaces_its_file(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    fill(db, portal, eml_config)
    now = utcnow() + timedelta(minutes=1)
    assert send_due(db, eml_config, now=now) == 3
    # As after a crash between writing the file and marking the row sent.
    with db.write() as s:
        s.execute(update(MailMessage).values(sent_at=None, next_attempt_at=now))
    assert send_due(db, eml_config, now=now) == 3
    assert len(list(eml_config.mail_dir.iterdir())) == 3


def test_eml_an_unwritable_folder_is_retried_later(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    fill(db, portal, eml_config)
    eml_config.data_dir.parent.mkdir(parents=True, exist_ok=True)
    eml_config.data_dir.write_text("a file where the data folder should be")
    now = utcnow() + timedelta(minutes=1)
    result = sender.send_round(db, eml_config, now=now)
    assert result.transport_down
    assert result.sent == 0
    failed = [r for r in outbox(db) if r.attempts]
    assert len(failed) == 1
    assert failed[0].last_error

    eml_config.data_dir.unlink()
    assert send_due(db, eml_config, now=now + sender.BACKOFF_CAP) == 3
    assert len(list(eml_config.mail_dir.iterdir())) == 3


def test_an_email_that_cannot_be_built_does_not_hold_up_the_others(
    db: Database, portal: Portal, eml_config: ServiceConfig, caplog: pytest.LogCaptureFixture
) -> None:
    fill(db, portal, eml_config)
    with db.write() as s:
        s.execute(
            update(MailMessage)
            .where(MailMessage.to_addr == "bob@example.net")
            .values(to_addr="bob@@exa mple\n.net")
        )
    now = utcnow() + timedelta(minutes=1)
    assert send_due(db, eml_config, now=now) == 2
    [bad] = [r for r in outbox(db) if r.sent_at is None]
    assert bad.attempts == 1
    assert bad.last_error
    assert bad.next_attempt_at > now

"""Sending through a real SMTP server (aiosmtpd on loopback): delivery, retries, TLS, AUTH."""

from __future__ import annotations

import dataclasses
import shutil
import ssl
import subprocess
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail import sender
from portal_tui.service.mail.notices import (
    queue_daily_digest,
    queue_invitation,
    queue_new_items,
    queue_upload_notice,
)
from portal_tui.service.mail.sender import send_due
from portal_tui.service.models import MailMessage, PortalContact
from portal_tui.sqltypes import utcnow

from .conftest import Collector, Portal, Received, SmtpServer, free_port, smtp_config

LINK = "https://portal.example.com/activate/s3cr3t-token"


def later(minutes: float = 1) -> datetime:
    """A moment past the new-items hold, as the sender's clock will be soon."""
    return utcnow() + timedelta(minutes=minutes)


def parse(received: Received) -> EmailMessage:
    msg = message_from_bytes(received.content, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def outbox(db: Database) -> list[MailMessage]:
    with db.read() as s:
        return list(s.scalars(select(MailMessage).order_by(MailMessage.id)))


def invite(db: Database, config: ServiceConfig, contact: PortalContact) -> None:
    with db.write() as s:
        queue_invitation(s, config, contact, LINK)


def test_c1_f5_invitation_and_new_items_go_through_smtp(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    estate = portal.matter("2025-001", "Estate of Smith")
    house = portal.matter("2025-002", "House")
    alice = portal.account("Alice Client", "alice@example.net")
    bob = portal.account("Bob Heir", "bob@example.net")
    newcomer = portal.contact(
        estate, portal.account("Nina New", "nina@example.net"), status="invited"
    )
    portal.contact(estate, alice)
    portal.contact(house, alice)
    portal.contact(estate, bob)
    portal.item(estate, "document", {"name": "will.pdf"})
    portal.item(estate, "invoice", {"number": "INV-7", "total_cents": 5000})
    portal.item(estate, "task", {"title": "Sign the affidavit"})
    portal.item(house, "note", {"subject": "Survey results"})
    invite(db, config, newcomer)
    with db.write() as s:
        assert queue_new_items(s, config, "batch-1") == 2

    # New-items emails are held a moment for the rest of their batch; the invitation is not.
    assert send_due(db, config) == 1
    assert send_due(db, config, now=later()) == 2
    assert send_due(db, config, now=later()) == 0

    got = {tuple(r.rcpt_tos): r for r in smtp_server.handler.received}
    assert set(got) == {("nina@example.net",), ("alice@example.net",), ("bob@example.net",)}
    assert all(r.mail_from == "portal@example.com" for r in got.values())
    rows = {r.to_addr: r for r in outbox(db)}
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows.values())

    invitation = parse(got[("nina@example.net",)])
    assert invitation["Subject"] == "Your invitation to the Smith & Jones LLP client portal"
    assert invitation["To"] == "nina@example.net"
    assert invitation["From"] == "Portal <portal@example.com>"
    assert invitation["Message-ID"] == rows["nina@example.net"].message_id
    assert invitation["Date"] is not None
    assert LINK in text_of(invitation)
    assert "expires in 14 days" in text_of(invitation)
    assert f'href="{LINK}"' in html_of(invitation)

    # One email per client for the whole batch; Alice's two matters are in the same one.
    alice_mail = parse(got[("alice@example.net",)])
    assert alice_mail["Message-ID"] == rows["alice@example.net"].message_id
    body = text_of(alice_mail)
    for expected in ("will.pdf", "INV-7", "Sign the affidavit", "Survey results", "4 new items"):
        assert expected in body
    assert "https://portal.example.com/" in body
    assert "will.pdf" in html_of(alice_mail)
    bob_body = text_of(parse(got[("bob@example.net",)]))
    assert "will.pdf" in bob_body
    assert "Survey results" not in bob_body


def test_f5_nothing_is_sent_for_a_batch_when_new_item_emails_are_off(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    portal.firm(notify_new_items=False)
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter)
    portal.item(matter)
    with db.write() as s:
        queue_new_items(s, config, "batch-1")
    assert send_due(db, config, now=later()) == 0
    assert smtp_server.handler.received == []


def test_f5_upload_notice_reaches_only_the_allowed_staff(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    allowed = [
        {"login": "bob", "name": "Bob Lawyer", "email": "bob@firm.example"},
        {"login": "carol", "name": "Carol Clerk", "email": "carol@firm.example"},
    ]
    matter = portal.matter(notify=allowed)
    upload = portal.upload(matter, portal.contact(matter, portal.account()), "passport.pdf")
    with db.write() as s:
        queue_upload_notice(s, config, upload)
    assert send_due(db, config) == 2
    received = smtp_server.handler.received
    assert sorted(r.rcpt_tos[0] for r in received) == ["bob@firm.example", "carol@firm.example"]
    assert all(len(r.rcpt_tos) == 1 for r in received)  # nobody sees the others' address
    assert all("passport.pdf" in text_of(parse(r)) for r in received)


def test_f5_daily_digest_is_sent_only_when_on(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter, data={"name": "yesterday.pdf"}, published_at=utcnow() - timedelta(days=1))
    yesterday = (utcnow() - timedelta(days=1)).date()
    with db.write() as s:
        queue_daily_digest(s, config, yesterday)
    assert send_due(db, config) == 0

    portal.firm(daily_digest=True)
    with db.write() as s:
        queue_daily_digest(s, config, yesterday)
        queue_daily_digest(s, config, yesterday)
    assert send_due(db, config) == 1
    [got] = smtp_server.handler.received
    assert got.rcpt_tos == ["alice@example.net"]
    assert "yesterday.pdf" in text_of(parse(got))


def test_queueing_the_same_notice_twice_sends_one_email(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    invite(db, config, contact)
    assert send_due(db, config) == 1
    invite(db, config, contact)  # e.g. a retried request, after the first email went out
    assert send_due(db, config, now=later(600)) == 0
    assert len(smtp_server.handler.received) == 1


def test_a_451_answer_is_retried_later_and_delivered_exactly_once(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse = 1  # "451 try later", once
    first = portal.contact(portal.matter(), portal.account(), status="invited")
    second = portal.contact(
        portal.matter("2025-002"), portal.account("Bob", "bob@example.net"), status="invited"
    )
    invite(db, config, first)
    invite(db, config, second)
    now = utcnow()
    # The refusal is about one email: the other still goes in the same round.
    assert send_due(db, config, now=now) == 1
    failed = next(r for r in outbox(db) if r.sent_at is None)
    assert failed.attempts == 1
    assert failed.last_error is not None
    assert "451" in failed.last_error
    wait = failed.next_attempt_at - now
    assert sender.BACKOFF_BASE / 2 <= wait <= sender.BACKOFF_BASE

    assert send_due(db, config, now=now + timedelta(seconds=5)) == 0  # not yet due
    assert send_due(db, config, now=failed.next_attempt_at) == 1
    assert send_due(db, config, now=later(600)) == 0
    received = smtp_server.handler.received
    assert sorted(r.rcpt_tos[0] for r in received) == ["alice@example.net", "bob@example.net"]
    retried = next(r for r in outbox(db) if r.id == failed.id)
    assert retried.sent_at is not None
    assert retried.attempts == 2
    assert retried.last_error is None


def test_a_stopped_server_is_retried_later_and_the_email_delivered_exactly_once(
    db: Database, portal: Portal, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    contacts = [
        portal.contact(
            portal.matter(f"2025-00{n}"),
            portal.account(f"C{n}", f"c{n}@example.net"),
            status="invited",
        )
        for n in range(3)
    ]
    for contact in contacts:
        invite(db, config, contact)
    smtp_server.stop()
    now = utcnow()
    result = sender.send_round(db, config, now=now)
    assert result == sender.Round(sent=0, failed=1, transport_down=True)
    rows = outbox(db)
    # The round stopped at the first failure: the others were not even tried.
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert rows[0].last_error
    assert "Connection" in rows[0].last_error

    smtp_server.start()
    assert send_due(db, config, now=now) == 2  # the two untried ones
    assert send_due(db, config, now=now + sender.BACKOFF_CAP) == 1  # the retried one
    assert send_due(db, config, now=now + 2 * sender.BACKOFF_CAP) == 0
    received = sorted(r.rcpt_tos[0] for r in smtp_server.handler.received)
    assert received == ["c0@example.net", "c1@example.net", "c2@example.net"]


def test_a_crash_after_sending_resends_the_same_message_id(
    db: Database,
    portal: Portal,
    config: ServiceConfig,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sent but not marked sent (the process died): once the claim lapses the email goes
    again, with the same Message-ID, so the receiving side can tell it is the same email."""
    invite(db, config, portal.contact(portal.matter(), portal.account(), status="invited"))

    def crash(db: Database, row_id: int) -> None:
        raise SystemExit("killed between sending and marking sent")

    now = utcnow()
    with monkeypatch.context() as m:
        m.setattr(sender, "_mark_sent", crash)
        with pytest.raises(SystemExit):
            send_due(db, config, now=now)
    assert send_due(db, config, now=now + timedelta(minutes=1)) == 0  # still claimed
    assert send_due(db, config, now=now + sender.CLAIM_LEASE) == 1
    first, second = (parse(r) for r in smtp_server.handler.received)
    assert first["Message-ID"] == second["Message-ID"] == outbox(db)[0].message_id
    assert first["Date"] == second["Date"]
    assert first.as_bytes() == second.as_bytes()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_auth_over_a_plain_loopback_connection(
    db: Database, portal: Portal, tmp_path: Path
) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == b"portal" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)

    server = SmtpServer(
        Collector(),
        free_port(),
        {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False},
    )
    server.start()
    try:
        invite_to = portal.contact(portal.matter(), portal.account(), status="invited")
        bad = smtp_config(tmp_path, server.port, user="portal", password="wrong")
        invite(db, bad, invite_to)
        now = utcnow()
        assert send_due(db, bad, now=now) == 0
        [row] = outbox(db)
        assert row.last_error is not None
        assert "535" in row.last_error

        good = dataclasses.replace(
            bad,
            smtp=dataclasses.replace(bad.smtp, password="s3cret"),
        )
        assert send_due(db, good, now=now + sender.BACKOFF_CAP) == 1
        assert logins[-1] == (b"portal", b"s3cret")
        [got] = server.handler.received
        assert got.rcpt_tos == ["alice@example.net"]
    finally:
        server.stop()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made with the openssl command (the cryptography package
    is not among the test dependencies)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl command not available to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_starttls_then_auth(
    db: Database, portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    sessions: list[bool] = []

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        sessions.append(session.ssl is not None)
        ok = auth_data.login == b"portal" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)

    server = SmtpServer(
        Collector(),
        free_port(),
        {
            "tls_context": server_tls,
            "require_starttls": True,
            "authenticator": authenticator,
            "auth_required": True,
        },
    )
    server.start()
    try:
        invite(
            db,
            smtp_config(tmp_path, server.port),
            portal.contact(portal.matter(), portal.account(), status="invited"),
        )
        now = utcnow()
        # The certificate is not trusted yet: the send fails and nothing is said in clear.
        tls = smtp_config(tmp_path, server.port, starttls=True, user="portal", password="s3cret")
        assert sender.send_round(db, tls, now=now).transport_down
        [row] = outbox(db)
        assert row.last_error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
        assert sessions == []

        # Trusted the way an operator trusts a private CA: SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert send_due(db, tls, now=now + sender.BACKOFF_CAP) == 1
        assert sessions == [True]  # AUTH happened inside TLS
        [got] = server.handler.received
        assert got.rcpt_tos == ["alice@example.net"]
        assert LINK in text_of(parse(got))
    finally:
        server.stop()


def test_non_ascii_names_and_an_address_the_server_cannot_take(
    db: Database, portal: Portal, tmp_path: Path
) -> None:
    """Accents travel encoded; an address that needs SMTPUTF8, which this server does not
    offer, fails alone and the others still go."""
    server = SmtpServer(Collector(), free_port(), {"enable_SMTPUTF8": False})
    server.start()
    try:
        config = smtp_config(tmp_path, server.port)
        portal.firm("Müller & Søn Advokater")
        matter = portal.matter("2025-010", "Dødsbo efter Jørgensen")
        portal.contact(matter, portal.account("Zoë Ærø", "zoe@example.net"))
        portal.contact(matter, portal.account("Jörg", "jörg@exämple.net"))
        portal.item(matter, data={"name": "Überweisung – März.pdf"})
        with db.write() as s:
            assert queue_new_items(s, config, "batch-1") == 2
        result = sender.send_round(db, config, now=later())
        assert result == sender.Round(sent=1, failed=1, transport_down=False)
        [got] = server.handler.received
    finally:
        server.stop()
    msg = parse(got)
    assert msg["Subject"] == "Müller & Søn Advokater: a new document in your client portal"
    assert "Überweisung – März.pdf" in text_of(msg)
    assert "Hello Zoë Ærø," in text_of(msg)
    assert "Dødsbo efter Jørgensen" in html_of(msg)
    [failed] = [r for r in outbox(db) if r.sent_at is None]
    assert failed.to_addr == "jörg@exämple.net"
    assert failed.attempts == 1
    assert failed.last_error

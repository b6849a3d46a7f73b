"""After a big bulk share (10,000 items, one email per client) the sender composes each email
once, for its recipient only.

The recheck before sending (S7, P3: only what the client may still see is announced) used to
compose every email of the batch for each one it sent, inside a write transaction: N emails
cost N x N compositions and held SQLite's write lock meanwhile, so staff publishes waited.
Now each email is composed alone, in a read transaction, and must still read exactly as the
batch's own composition says it would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import event, select, update

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail import audience, notices, sender
from portal_tui.service.mail.compose import render as real_render
from portal_tui.service.mail.digest import digest_mail, digest_mails
from portal_tui.service.mail.notices import new_items_mail, new_items_mails, queue_new_items
from portal_tui.service.mail.transport import open_transport
from portal_tui.service.models import (
    Account,
    MailMessage,
    PortalContact,
    PortalFirm,
    PortalItem,
)
from portal_tui.service.schema import ensure_service_schema
from portal_tui.sqltypes import utcnow

from .conftest import ALL, Portal, SmtpServer

PER_CLIENT = 5


def later() -> datetime:
    return utcnow() + timedelta(minutes=1)


def outbox(db: Database) -> list[MailMessage]:
    with db.read() as s:
        return list(s.scalars(select(MailMessage).order_by(MailMessage.id)))


def text_of(content: bytes) -> str:
    msg = message_from_bytes(content, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def bulk(portal: Portal, db: Database, config: ServiceConfig, clients: int) -> None:
    """One bulk share: `clients` clients, each on a matter of their own with PER_CLIENT
    documents of the batch, and their "new items" emails queued."""
    for n in range(clients):
        matter = portal.matter(f"2025-{n:03}", f"Matter {n}")
        portal.contact(matter, portal.account(f"Client {n}", f"client{n}@example.net"))
        for i in range(PER_CLIENT):
            portal.item(matter, data={"name": f"client{n}-doc{i}.pdf"}, batch="bulk")
    with db.write() as s:
        assert queue_new_items(s, config, "bulk") == clients


class Counter:
    """Counts the calls of a module's function, passing them on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.calls = 0
        real = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def test_f5_each_email_of_a_bulk_is_composed_once_for_its_recipient_only(
    db: Database,
    portal: Portal,
    config: ServiceConfig,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients = 40
    bulk(portal, db, config, clients)
    renders = Counter(monkeypatch, notices, "render")
    lines = Counter(monkeypatch, audience, "item_line")

    assert sender.send_round(db, config, now=later()) == sender.Round(sent=clients)

    # One email per client, each listing its own documents and nobody else's.
    received = smtp_server.handler.received
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(
        f"client{n}@example.net" for n in range(clients)
    )
    for got in received:
        n = got.rcpt_tos[0].removeprefix("client").removesuffix("@example.net")
        text = text_of(got.content)
        assert f"{PER_CLIENT} new items" in text
        assert text.count(".pdf") == PER_CLIENT
        assert all(f"client{n}-doc" in line for line in text.splitlines() if ".pdf" in line)
    # Before: every email of the batch for each one sent, 40 x 40 renders and 40 x 200 lines.
    assert renders.calls == clients
    assert lines.calls == clients * PER_CLIENT


def statements_per_email(database_url: str, config: ServiceConfig, clients: int) -> float:
    db = Database(database_url)
    try:
        ensure_service_schema(db)
        portal = Portal(db)
        portal.firm()
        bulk(portal, db, config, clients)
        count = 0

        def counted(*_args: Any) -> None:
            nonlocal count
            count += 1

        for engine in {db.writer, db.reader}:
            event.listen(engine, "before_cursor_execute", counted)
        result = sender.send_round(db, config, now=later())
        assert result == sender.Round(sent=clients)
        return count / clients
    finally:
        db.dispose()


def test_per_email_work_does_not_grow_with_the_number_of_recipients(
    tmp_path: Any, config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    few = statements_per_email(f"sqlite:///{tmp_path}/few.db", config, 2)
    many = statements_per_email(f"sqlite:///{tmp_path}/many.db", config, 30)
    assert many <= few


@contextlib.contextmanager
def watched(db: Database, open_now: list[str]) -> Iterator[None]:
    """Keeps in `open_now` which transactions (read, write) are open while the sender runs."""

    def tracked(kind: str, real: Callable[[], Any]) -> Callable[[], Any]:
        @contextlib.contextmanager
        def transaction() -> Iterator[Any]:
            with real() as s:
                open_now.append(kind)
                try:
                    yield s
                finally:
                    open_now.remove(kind)

        return transaction

    read, write = db.read, db.write
    db.read, db.write = tracked("read", read), tracked("write", write)  # type: ignore[method-assign]
    try:
        yield
    finally:
        db.read, db.write = read, write  # type: ignore[method-assign]


def test_composing_holds_no_write_transaction_and_smtp_runs_outside_any(
    db: Database,
    portal: Portal,
    config: ServiceConfig,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bulk(portal, db, config, 3)
    open_now: list[str] = []
    seen_composing: list[list[str]] = []
    seen_sending: list[list[str]] = []

    def render(template: str, /, **context: Any) -> Any:
        seen_composing.append(list(open_now))
        return real_render(template, **context)

    monkeypatch.setattr(notices, "render", render)
    out = open_transport(config)
    real_send = out.send

    def send(msg: EmailMessage) -> None:
        seen_sending.append(list(open_now))
        real_send(msg)

    monkeypatch.setattr(out, "send", send)
    try:
        with watched(db, open_now):
            assert sender.send_round(db, config, now=later(), transport=out).sent == 3
    finally:
        out.close()

    assert seen_composing == [["read"]] * 3
    assert seen_sending == [[]] * 3
    assert len(smtp_server.handler.received) == 3


def test_s7_an_item_unshared_during_a_round_is_left_out_of_the_emails_still_to_go(
    db: Database,
    portal: Portal,
    config: ServiceConfig,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each email is checked when its own turn comes, not once for the round."""
    bulk(portal, db, config, 3)
    out = open_transport(config)
    real_send = out.send

    def send(msg: EmailMessage) -> None:
        real_send(msg)
        if len(smtp_server.handler.received) == 1:
            # The firm unshares one document of every client right after the first email.
            with db.write() as s:
                s.execute(
                    update(PortalItem)
                    .where(PortalItem.data["name"].as_string().like("%-doc0.pdf"))
                    .values(published=False, data=None, batch=None)
                )

    monkeypatch.setattr(out, "send", send)
    try:
        assert sender.send_round(db, config, now=later(), transport=out).sent == 3
    finally:
        out.close()

    first, *rest = smtp_server.handler.received
    assert "-doc0.pdf" in text_of(first.content)
    assert len(rest) == 2
    for got in rest:
        assert b"-doc0.pdf" not in got.content
        assert f"{PER_CLIENT - 1} new items" in text_of(got.content)


# One recipient's email is exactly that recipient's email of the whole batch -------------------

KELVIN = "\u212a"  # lower-cases to an ASCII "k" in Python, not in SQLite


@pytest.fixture
def mixed(database_url: str) -> Iterator[tuple[Database, Portal]]:
    """Mailboxes shared by accounts, case and white space, an account without an address, a
    contact address differing from the account's, and every way of not seeing an item."""
    db = Database(database_url)
    ensure_service_schema(db)
    portal = Portal(db)
    portal.firm(daily_digest=True)  # both kinds of email go: each is composed here
    a = portal.matter("2025-001", "Estate of Smith")
    b = portal.matter("2025-002", "No documents", permissions=[c for c in ALL if c != "documents"])
    off = portal.matter("2025-003", "Portal off", enabled=False)
    d = portal.matter("2025-004", "Lease")
    alice = portal.account("Alice", "alice@example.net")
    for matter in (a, b, off, d):
        portal.contact(matter, alice)
    portal.contact(d, portal.account("Alice Again", " Alice@Example.NET "))
    portal.contact(a, portal.account("Kate", f"{KELVIN}ate@example.net"))
    portal.contact(d, portal.account("Zoë", "zoë@example.net"))
    portal.contact(a, portal.account("Under", "x_y@example.net"))
    portal.contact(d, portal.account("Plain", "xzy@example.net"))
    portal.contact(a, portal.account("Gone", "gone@example.net"), status="disabled")
    bob = portal.account("Bob", "")
    carol = portal.account("Carol", "carol@example.net")
    portal.contact(a, bob)
    portal.contact(d, carol)
    with db.write() as s:
        s.execute(
            update(PortalContact)
            .where(PortalContact.account_id.in_([bob.id, carol.id]))
            .values(email="Old.Contact@example.net")
        )
    day = datetime(2025, 5, 5, 12, tzinfo=UTC)
    for matter in (a, b, off, d):
        portal.item(matter, data={"name": f"doc-{matter.number}.pdf"}, batch="b", published_at=day)
    portal.item(a, "invoice", {"number": "INV-1", "total_cents": 1200}, batch="b", published_at=day)
    portal.item(d, "task", {"title": "Sign the lease"}, batch="b", published_at=day)
    portal.item(d, data={"name": "other-batch.pdf"}, batch="other", published_at=day)
    portal.item(a, data={"name": "unpublished.pdf"}, batch="b", published=False, published_at=day)
    yield db, portal
    db.dispose()


ADDRESSES = [
    "alice@example.net",
    " ALICE@example.net",
    "kate@example.net",
    f"{KELVIN}ate@example.net",
    "zoë@example.net",
    "ZOË@example.net",
    "x_y@example.net",
    "xzy@example.net",
    "gone@example.net",
    "old.contact@example.net",
    "carol@example.net",
    "nobody@example.net",
    "%@example.net",
    "",
]


def test_s7_p3_one_recipients_email_is_that_recipients_email_of_the_whole_batch(
    mixed: tuple[Database, Portal], config: ServiceConfig
) -> None:
    db, _portal = mixed
    with db.read() as s:
        firm = s.get(PortalFirm, 1)
        assert firm is not None
        every = {m.to_addr.strip().lower(): m for m in new_items_mails(s, config, firm, "b")}
        assert set(every) == {
            "alice@example.net",
            "kate@example.net",
            "zoë@example.net",
            "x_y@example.net",
            "xzy@example.net",
            "old.contact@example.net",
            "carol@example.net",
        }
        for address in ADDRESSES:
            alone = new_items_mail(s, config, firm, "b", address)
            assert alone == every.get(address.strip().lower()), address
        day = date(2025, 5, 5)
        whole_day = {m.to_addr.strip().lower(): m for m in digest_mails(s, config, firm, day)}
        assert "other-batch.pdf" in whole_day["alice@example.net"].content.text
        for address in ADDRESSES:
            alone = digest_mail(s, config, firm, day, address)
            assert alone == whole_day.get(address.strip().lower()), address
    alice = every["alice@example.net"].content.text
    assert "doc-2025-001.pdf" in alice and "doc-2025-004.pdf" in alice
    assert "doc-2025-002.pdf" not in alice  # documents not permitted on that matter
    assert "doc-2025-003.pdf" not in alice  # that matter's portal is off
    assert "unpublished.pdf" not in alice


def test_s7_nothing_changed_every_email_composed_alone_is_the_one_queued(
    mixed: tuple[Database, Portal], config: ServiceConfig, smtp_server: SmtpServer
) -> None:
    db, _portal = mixed
    with db.write() as s:
        assert queue_new_items(s, config, "b") == 7
    before = {r.message_id: r.body for r in outbox(db)}
    with db.write() as s:
        s.execute(update(Account).values(last_login_at=utcnow()))  # an unrelated change

    assert sender.send_round(db, config, now=later()) == sender.Round(sent=7)

    assert {r.message_id: r.body for r in outbox(db)} == before
    assert len(smtp_server.handler.received) == 7

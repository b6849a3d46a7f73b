"""Queueing notices: what each email says, who gets it, and that it is queued once (F5, C1)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal_tui.database import Database
from portal_tui.service.config import ServiceConfig
from portal_tui.service.mail.compose import item_line, message_id_for
from portal_tui.service.mail.notices import (
    queue_daily_digest,
    queue_invitation,
    queue_new_items,
    queue_upload_notice,
)
from portal_tui.service.mail.outbox import SETTLE, SETTLE_CAP
from portal_tui.service.models import MailMessage, PortalContact
from portal_tui.sqltypes import utcnow

from .conftest import Portal


def rows(db: Database) -> list[MailMessage]:
    with db.read() as s:
        return list(s.scalars(select(MailMessage).order_by(MailMessage.id)))


def by_recipient(db: Database) -> dict[str, MailMessage]:
    return {r.to_addr: r for r in rows(db)}


LINK = "https://portal.example.com/activate/s3cr3t-token"


def invite(db: Database, config: ServiceConfig, contact: PortalContact, link: str = LINK) -> None:
    with db.write() as s:
        queue_invitation(s, config, s.get(PortalContact, contact.id) or contact, link)


# Message-IDs --------------------------------------------------------------------------------


def test_message_id_is_derived_from_what_the_email_is_about() -> None:
    first = message_id_for("new_items", "batch-1", "Alice@Example.net")
    assert re.fullmatch(r"<[0-9a-f]{40}@portal-tui>", first)
    assert first == message_id_for("new_items", "batch-1", " alice@example.net ")
    assert first != message_id_for("new_items", "batch-2", "alice@example.net")
    assert first != message_id_for("digest", "batch-1", "alice@example.net")
    assert first != message_id_for("new_items", "batch-1", "bob@example.net")


# C1: the invitation ---------------------------------------------------------------------------


def test_c1_invitation_explains_how_to_create_the_portal_account(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    matter = portal.matter()
    contact = portal.contact(matter, portal.account(), status="invited")
    invite(db, eml_config, contact)

    [row] = rows(db)
    assert row.kind == "invitation"
    assert row.to_addr == "alice@example.net"
    assert row.subject == "Your invitation to the Smith & Jones LLP client portal"
    assert row.message_id == message_id_for(
        "invitation",
        f"{contact.id}:1:" + hashlib.sha256(LINK.encode()).hexdigest(),
        "alice@example.net",
    )
    text = row.body
    assert "Hello Alice Client," in text
    assert LINK in text
    assert (
        "Smith & Jones LLP has invited you to its client portal for 2025-001 Estate of Smith"
        in text
    )
    assert "secure website" in text  # what the portal is
    assert "Choose a password" in text  # how to create the account
    assert "expires in 14 days" in text
    assert "https://portal.example.com/" in text  # where to log in afterwards
    assert row.html is not None
    assert f'href="{LINK}"' in row.html
    assert "Smith &amp; Jones LLP" in row.html  # escaped in HTML, as written in text
    assert row.sent_at is None
    assert row.attempts == 0


def test_c1_invitation_queued_twice_is_one_email_and_a_reinvite_is_a_new_one(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    invite(db, eml_config, contact)
    invite(db, eml_config, contact)
    assert len(rows(db)) == 1

    # C3: Re-invite Contact sends the invitation again, with a new link.
    with db.write() as s:
        s.execute(
            update(PortalContact).where(PortalContact.id == contact.id).values(invitations_sent=2)
        )
    invite(db, eml_config, contact, LINK + "-again")
    invite(db, eml_config, contact, LINK + "-again")
    first, second = rows(db)
    assert first.message_id != second.message_id
    assert LINK + "-again" in second.body


def test_a_notice_rolls_back_with_the_change_that_caused_it(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    contact = portal.contact(portal.matter(), portal.account(), status="invited")

    def invite_then_fail() -> None:
        with db.write() as s:
            queue_invitation(s, eml_config, contact, LINK)
            raise RuntimeError("the invite failed after queueing its email")

    with pytest.raises(RuntimeError):
        invite_then_fail()
    assert rows(db) == []


def test_a_duplicate_inserted_behind_our_back_is_dropped_not_raised(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    """The unique Message-ID is the last guard when two transactions queue the same notice;
    here the check before the insert cannot see the other row, as with a concurrent one."""
    contact = portal.contact(portal.matter(), portal.account(), status="invited")
    invite(db, eml_config, contact)
    [first] = rows(db)
    with db.write() as s:
        s.execute(update(MailMessage).values(message_id="<moved@x>"))
    with db.write() as s:
        twin = MailMessage(
            message_id=first.message_id,
            kind="invitation",
            to_addr=first.to_addr,
            subject="twin",
            body="twin",
        )
        s.add(twin)
        with s.no_autoflush:
            queue_invitation(s, eml_config, s.get(PortalContact, contact.id) or contact, LINK)
    assert sorted(r.subject for r in rows(db)) == [first.subject, "twin"]


# F5: new items --------------------------------------------------------------------------------


def test_f5_one_new_items_email_per_account_per_batch(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    estate = portal.matter("2025-001", "Estate of Smith")
    house = portal.matter("2025-002", "Purchase of 1 Elm Street")
    alice = portal.account("Alice Client", "alice@example.net")
    bob = portal.account("Bob Heir", "bob@example.net")
    carol = portal.account("Carol Gone", "carol@example.net")
    portal.contact(estate, alice)
    portal.contact(house, alice)
    portal.contact(estate, bob)
    portal.contact(estate, carol, status="disabled")
    portal.item(estate, "document", {"name": "will.pdf"})
    portal.item(
        estate, "invoice", {"number": "INV-7", "total_cents": 123450, "due_on": "2025-06-01"}
    )
    portal.item(house, "event", {"title": "Completion", "starts_at": "2025-06-03T10:00:00+00:00"})
    portal.item(estate, "task", {"title": "Sign the form"}, batch="another-batch")

    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-1") == 2

    mails = by_recipient(db)
    assert set(mails) == {"alice@example.net", "bob@example.net"}
    alice_mail = mails["alice@example.net"].body
    assert "3 new items" in alice_mail
    assert "2025-001 Estate of Smith" in alice_mail
    assert "2025-002 Purchase of 1 Elm Street" in alice_mail
    assert "Document: will.pdf" in alice_mail
    assert "Invoice: INV-7 (total 1,234.50, due 1 Jun 2025)" in alice_mail
    assert "Calendar event: Completion (3 Jun 2025 10:00 UTC)" in alice_mail
    assert "Sign the form" not in alice_mail  # another batch
    assert "https://portal.example.com/" in alice_mail
    # Matters in a stable order, items grouped under theirs.
    assert alice_mail.index("Estate of Smith") < alice_mail.index("will.pdf")
    assert alice_mail.index("will.pdf") < alice_mail.index("Elm Street")
    bob_mail = mails["bob@example.net"].body
    assert "will.pdf" in bob_mail
    assert "INV-7" in bob_mail
    assert "Completion" not in bob_mail  # not Bob's matter
    assert mails["bob@example.net"].subject == "Smith & Jones LLP: new items in your client portal"


def test_f5_one_item_gets_a_subject_naming_it(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter, "invoice", {"number": "INV-1"})
    with db.write() as s:
        queue_new_items(s, eml_config, "batch-1")
    [row] = rows(db)
    assert row.subject == "Smith & Jones LLP: a new invoice in your client portal"
    assert "a new item" in row.body


def test_f5_new_items_email_lists_only_what_the_client_may_see(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    no_documents = portal.matter("2025-003", permissions=["invoices", "tasks"])
    switched_off = portal.matter("2025-004", enabled=False)
    alice = portal.account()
    portal.contact(no_documents, alice)
    portal.contact(switched_off, alice)
    portal.item(no_documents, "document", {"name": "hidden.pdf"})  # category not permitted
    portal.item(no_documents, "task", {"title": "Visible task"})
    portal.item(no_documents, "task", {"title": "Revoked task"}, published=False)
    portal.item(switched_off, "task", {"title": "Matter is off"})
    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-1") == 1
    [row] = rows(db)
    assert "Visible task" in row.body
    for hidden in ("hidden.pdf", "Revoked task", "Matter is off", "2025-004"):
        assert hidden not in row.body

    portal.firm(enabled=False)  # F2 off: nobody sees anything, nobody is told
    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-2") == 0


def test_f5_no_new_items_email_when_the_setting_is_off(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    portal.firm(notify_new_items=False)
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter)
    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-1") == 0
    assert rows(db) == []


def test_f5_a_batch_arriving_in_several_requests_is_still_one_email(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter, data={"name": "first.pdf"})
    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-1") == 1
    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-1") == 0  # the same again: nothing
    [held] = rows(db)
    assert held.next_attempt_at > utcnow()  # held a moment for the rest of the batch

    portal.item(matter, data={"name": "second.pdf"})
    with db.write() as s:
        assert queue_new_items(s, eml_config, "batch-1") == 0
    [row] = rows(db)
    assert row.message_id == held.message_id
    assert "first.pdf" in row.body
    assert "second.pdf" in row.body
    assert "2 new items" in row.body
    assert row.html is not None
    assert "second.pdf" in row.html
    assert row.next_attempt_at <= row.created_at + SETTLE_CAP

    # Once a sender has claimed it, it is no longer rewritten.
    with db.write() as s:
        s.execute(update(MailMessage).values(attempts=1))
    portal.item(matter, data={"name": "late.pdf"})
    with db.write() as s:
        queue_new_items(s, eml_config, "batch-1")
    [row] = rows(db)
    assert "late.pdf" not in row.body


def test_f5_held_new_items_email_is_due_after_the_settle_time(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    matter = portal.matter()
    portal.contact(matter, portal.account())
    portal.item(matter)
    before = utcnow()
    with db.write() as s:
        queue_new_items(s, eml_config, "batch-1")
    [row] = rows(db)
    assert before + SETTLE <= row.next_attempt_at <= utcnow() + SETTLE


def test_client_data_is_escaped_in_the_html_part(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    matter = portal.matter("2025-009", "Smith [Deceased] <b>")
    portal.contact(matter, portal.account('Eve "<i>" Client', "eve@example.net"))
    portal.item(matter, data={"name": "<script>alert(1)</script>.pdf"})
    with db.write() as s:
        queue_new_items(s, eml_config, "batch-1")
    [row] = rows(db)
    assert row.html is not None
    assert "<script>" not in row.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.pdf" in row.html
    assert "<b>" not in row.html
    assert "Smith [Deceased] &lt;b&gt;" in row.html
    assert "<i>" not in row.html
    assert "<script>alert(1)</script>.pdf" in row.body  # plain text shows it as written
    assert 'Hello Eve "<i>" Client,' in row.body


def test_item_lines_fall_back_to_the_item_number() -> None:
    assert item_line("note", 5, {"subject": "Advice"}).title == "Advice"
    assert item_line("note", 5, None).title == "Note #5"
    assert item_line("form", 6, {"name": "Intake\nform"}).title == "Intake form"
    assert item_line("task", 7, {"title": "T", "due_on": "not a date"}).detail == ""
    assert item_line("mystery", 8, {}).title == "Mystery #8"


def test_an_all_day_events_line_names_its_days_not_a_midnight() -> None:
    days = {"all_day": True, "first_day": "2027-01-04", "last_day": "2027-01-06"}
    data = {"title": "Trial", "starts_at": "2027-01-04T05:00:00+00:00", **days}
    assert item_line("event", 9, data).detail == "4 Jan 2027 to 6 Jan 2027, all day"
    one = {**data, "last_day": "2027-01-04"}
    assert item_line("event", 9, one).detail == "4 Jan 2027, all day"
    timed = {"title": "Call", "starts_at": "2027-01-04T05:00:00+00:00"}
    assert item_line("event", 9, timed).detail == "4 Jan 2027 05:00 UTC"


# F5: upload notice ----------------------------------------------------------------------------


STAFF = [
    {"login": "bob", "name": "Bob Lawyer", "email": "bob@firm.example"},
    {"login": "carol", "name": "Carol Clerk", "email": "carol@firm.example"},
    {"login": "carol2", "name": "Carol Again", "email": "CAROL@firm.example"},
    {"login": "nomail", "name": "No Mail", "email": ""},
]


def test_f5_upload_notice_goes_to_the_matters_allowed_staff_only(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    # The matter's notify list is what M5 leaves: allowed parties only (Dave is restricted).
    matter = portal.matter(notify=STAFF)
    other = portal.matter("2025-077", notify=[{"login": "dave", "email": "dave@firm.example"}])
    contact = portal.contact(matter, portal.account())
    portal.contact(other, portal.account("Zed", "zed@example.net"))
    upload = portal.upload(matter, contact, "passport <scan>.pdf")
    with db.write() as s:
        assert queue_upload_notice(s, eml_config, upload) == 2
    with db.write() as s:
        assert queue_upload_notice(s, eml_config, upload) == 0  # never doubled
    mails = by_recipient(db)
    assert set(mails) == {"bob@firm.example", "carol@firm.example"}
    bob = mails["bob@firm.example"]
    assert bob.kind == "upload"
    assert bob.subject == "Client upload on 2025-001: passport <scan>.pdf"
    assert "Hello Bob Lawyer," in bob.body
    assert "Alice Client uploaded a document" in bob.body
    assert "passport <scan>.pdf (120.6 KB)" in bob.body
    assert "2025-001 Estate of Smith" in bob.body
    assert "Client Portal Documents" in bob.body
    assert bob.html is not None
    assert "passport &lt;scan&gt;.pdf" in bob.html


def test_f5_no_upload_notice_when_the_setting_is_off(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    portal.firm(notify_staff_on_upload=False)
    matter = portal.matter(notify=STAFF)
    upload = portal.upload(matter, portal.contact(matter, portal.account()))
    with db.write() as s:
        assert queue_upload_notice(s, eml_config, upload) == 0
    assert rows(db) == []


# F5: daily digest -----------------------------------------------------------------------------


def test_f5_daily_digest_only_when_on_one_per_account_per_day(
    db: Database, portal: Portal, eml_config: ServiceConfig
) -> None:
    day = date(2025, 5, 5)
    at = datetime(2025, 5, 5, 15, 0, tzinfo=UTC)
    estate = portal.matter("2025-001", "Estate of Smith")
    house = portal.matter("2025-002", "House")
    alice = portal.account()
    portal.contact(estate, alice)
    portal.contact(house, alice)
    portal.contact(house, portal.account("Bob", "bob@example.net"), status="removed")
    portal.item(estate, data={"name": "on-the-day.pdf"}, published_at=at, batch="b1")
    portal.item(house, "task", {"title": "Also that day"}, published_at=at, batch="b2")
    portal.item(estate, data={"name": "midnight.pdf"}, published_at=at.replace(hour=0), batch="b3")
    portal.item(
        estate, data={"name": "next-day.pdf"}, published_at=at + timedelta(hours=9), batch="b4"
    )
    portal.item(estate, data={"name": "day-before.pdf"}, published_at=at - timedelta(days=1))

    with db.write() as s:
        assert queue_daily_digest(s, eml_config, day) == 0  # off by default (F5)
    portal.firm(daily_digest=True)
    with db.write() as s:
        assert queue_daily_digest(s, eml_config, day) == 1
    with db.write() as s:
        assert queue_daily_digest(s, eml_config, day) == 0  # idempotent per day

    [row] = rows(db)
    assert row.kind == "digest"
    assert row.to_addr == "alice@example.net"
    assert row.subject == "Smith & Jones LLP: your client portal digest for 5 May 2025"
    for shown in ("on-the-day.pdf", "Also that day", "midnight.pdf", "Estate of Smith", "House"):
        assert shown in row.body
    assert "next-day.pdf" not in row.body
    assert "day-before.pdf" not in row.body
    assert "3 new items" in row.body

    with db.write() as s:
        assert queue_daily_digest(s, eml_config, date(2025, 5, 6)) == 1
    assert len(rows(db)) == 2

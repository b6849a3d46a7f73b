"""What the portal sends back, applied to the firm (issue: delivery and sync), by rule S4/S5."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal_tui.domain import FormRule, Invalid, ItemKind
from portal_tui.repository import CLIENT_PORTAL_FOLDER

from .conftest import Firm

AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)

FIELDS = [
    {"key": "phone", "label": "Phone", "type": "phone", "target": "client.phone"},
    {"key": "dob", "label": "Date of birth", "type": "date", "target": "client.date_of_birth"},
    {"key": "about", "label": "About", "type": "multiline", "target": "matter.description"},
    {"key": "note", "label": "Anything else", "type": "text"},
]


def test_s5_client_reply_lands_in_the_matters_messages_once(firm: Firm) -> None:
    repo = firm.system
    first = repo.record_client_reply(
        firm.matter_id, portal_ref="r-1", author_name="Ada Byrne", body="Thanks!", sent_at=AT
    )
    again = repo.record_client_reply(
        firm.matter_id, portal_ref="r-1", author_name="Ada Byrne", body="Thanks!", sent_at=AT
    )
    assert first is not None and again is None
    rows = firm.admin.list_messages(matter_id=firm.matter_id).rows
    assert [(r.author_name, r.body, r.from_client) for r in rows] == [
        ("Ada Byrne", "Thanks!", True)
    ]


def test_client_upload_becomes_a_document_in_client_portal_documents_once(firm: Firm) -> None:
    repo = firm.system
    doc = repo.record_client_upload(
        firm.matter_id,
        portal_ref="u-7",
        name="passport.pdf",
        content=b"%PDF-1.4 passport",
        content_type="application/pdf",
        uploaded_at=AT,
    )
    assert doc is not None
    assert (
        repo.record_client_upload(
            firm.matter_id,
            portal_ref="u-7",
            name="passport.pdf",
            content=b"%PDF-1.4 passport",
            content_type="application/pdf",
            uploaded_at=AT,
        )
        is None
    )
    (row,) = firm.admin.list_documents(matter_id=firm.matter_id).rows
    assert (row.name, row.folder_name, row.from_client) == (
        "passport.pdf",
        CLIENT_PORTAL_FOLDER,
        True,
    )
    assert repo.document_content(doc) == b"%PDF-1.4 passport"


def test_s4_associate_form_fills_the_matters_and_clients_fields(firm: Firm) -> None:
    repo = firm.admin
    form = repo.add_form(
        "Byrne intake", fields=FIELDS, rule=FormRule.ASSOCIATE, matter_id=firm.matter_id
    )
    answers = {"phone": "+1 555 0100", "dob": "1961-04-02", "about": "Probate", "note": "hi"}
    sub = firm.system.record_form_submission(
        form, portal_ref="f-1", answers=answers, submitted_by="ada@example.test", submitted_at=AT
    )
    assert sub.matter_id == firm.matter_id and sub.processed_at is not None
    assert {c["field"] for c in sub.changes} == {
        "client.phone",
        "client.date_of_birth",
        "matter.description",
    }
    client = repo.client(firm.client_id)
    assert client.phone == "+1 555 0100"
    assert repo.matter(firm.matter_id).description == "Probate"
    # The same submission synced again changes nothing and returns the first record.
    again = firm.system.record_form_submission(
        form, portal_ref="f-1", answers=answers, submitted_by="ada@example.test", submitted_at=AT
    )
    assert again.id == sub.id


def test_s4_create_rule_form_creates_client_and_matter(firm: Firm) -> None:
    repo = firm.admin
    fields = [
        {"key": "name", "label": "Full name", "type": "text", "target": "client.name"},
        {"key": "phone", "label": "Phone", "type": "phone", "target": "client.phone"},
        {"key": "what", "label": "Matter", "type": "text", "target": "matter.name"},
    ]
    form = repo.add_form("New client intake", fields=fields, rule=FormRule.CREATE)
    before = {m.id for m in repo.list_matters(limit=100).rows}
    sub = firm.system.record_form_submission(
        form,
        portal_ref="f-2",
        answers={"name": "Cara Dunne", "phone": "555-0199", "what": "Dunne lease review"},
        submitted_by="cara@example.test",
        submitted_at=AT,
    )
    new = [m for m in repo.list_matters(limit=100).rows if m.id not in before]
    assert [(m.id, m.name, m.client_name) for m in new] == [
        (sub.matter_id, "Dunne lease review", "Cara Dunne")
    ]
    assert not new[0].portal_enabled
    assert repo.matter(new[0].id).client.phone == "555-0199"


def test_s4_a_bad_date_is_refused_and_nothing_changes(firm: Firm) -> None:
    form = firm.admin.add_form(
        "Dates", fields=FIELDS, rule=FormRule.ASSOCIATE, matter_id=firm.matter_id
    )
    with pytest.raises(Invalid, match="not a date"):
        firm.system.record_form_submission(
            form,
            portal_ref="f-3",
            answers={"dob": "02/04/61", "phone": "1"},
            submitted_by="ada@example.test",
            submitted_at=AT,
        )
    assert firm.admin.client(firm.client_id).phone is None


def test_first_view_and_download_land_on_the_share_mark(firm: Firm) -> None:
    inv = firm.item(ItemKind.INVOICE)
    firm.admin.share(ItemKind.INVOICE, inv, confirmed=True)
    later = datetime(2026, 11, 21, tzinfo=UTC)
    firm.system.record_item_seen(ItemKind.INVOICE, inv, viewed_at=later)
    firm.system.record_item_seen(ItemKind.INVOICE, inv, viewed_at=AT, downloaded_at=later)
    firm.system.record_item_seen(ItemKind.INVOICE, inv, viewed_at=later)
    record = firm.admin.share_record(ItemKind.INVOICE, inv)
    assert record is not None
    assert record.first_viewed_at == AT
    assert record.first_downloaded_at == later
    assert date(2026, 11, 21) == record.first_downloaded_at.date()

"""Sharing and unsharing at repository level (R1, S0-S7), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal_tui.domain import (
    Category,
    FormRule,
    InvoiceStatus,
    ItemKind,
    NeedsConfirmation,
    OutboxOp,
    PartyAccess,
    Refused,
    ShareState,
    StaffRole,
    texts,
)
from portal_tui.store.models import AuditEntry, Invoice, OutboxEntry

from .conftest import Firm

ALL_KINDS = list(ItemKind)


def _outbox(firm: Firm) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _invoice_status(firm: Firm, invoice_id: int) -> InvoiceStatus:
    with firm.system.db.read() as s:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        return inv.status


def _state_of_db(firm: Firm) -> tuple[int, int]:
    with firm.system.db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(OutboxEntry)) or 0,
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_s0_every_kind_can_be_shared_and_shows_as_shared_in_its_list(
    firm: Firm, kind: ItemKind
) -> None:
    item = firm.item(kind)
    firm.admin.share(kind, item, confirmed=True)
    share = firm.admin.share_state(kind, item)
    assert share.wanted
    assert share.state is ShareState.PENDING
    matter = None if kind is ItemKind.FORM else firm.matter_id
    rows = firm.admin.list_items(kind, matter_id=matter).rows
    assert [r.share.wanted for r in rows if r.id == item] == [True]
    # ... and in the cross-matter list of Activities too.
    assert [r.share.wanted for r in firm.admin.list_items(kind).rows if r.id == item] == [True]


def test_s0_share_writes_mark_audit_and_outbox_in_one_transaction(firm: Firm) -> None:
    note = firm.item(ItemKind.NOTE)
    before = len(_outbox(firm))
    firm.admin.share(ItemKind.NOTE, note)
    rows = _outbox(firm)[before:]
    assert [(r.op, r.item_id) for r in rows] == [(OutboxOp.PUBLISH, note)]
    assert rows[0].payload["data"]["subject"].startswith("Call")
    assert rows[0].idempotency_key
    assert rows[0].version == 1
    actions = [a.action for a in firm.admin.audit_for_item("note", note)]
    assert actions == ["add", "share"]
    assert firm.admin.audit_for_item("note", note)[-1].actor == "admin"


def test_s1_draft_invoice_asks_before_it_is_finalised_and_no_changes_nothing(firm: Firm) -> None:
    inv = firm.item(ItemKind.INVOICE)
    counts = _state_of_db(firm)
    with pytest.raises(NeedsConfirmation) as asked:
        firm.admin.share(ItemKind.INVOICE, inv)
    assert asked.value.question == (
        "This is an Unfinal invoice. Invoice will be marked as Final once shared. Continue?"
    )
    # Saying No is simply not confirming: nothing changed.
    assert _invoice_status(firm, inv) is InvoiceStatus.DRAFT
    assert not firm.admin.share_state(ItemKind.INVOICE, inv).wanted
    assert _state_of_db(firm) == counts


def test_s1_yes_marks_final_shares_and_says_so(firm: Firm) -> None:
    inv = firm.item(ItemKind.INVOICE)
    message = firm.admin.share(ItemKind.INVOICE, inv, confirmed=True)
    assert message == "Invoice has been shared successfully."
    assert _invoice_status(firm, inv) is InvoiceStatus.FINAL
    row = firm.admin.item_row(ItemKind.INVOICE, inv)
    assert row.status is InvoiceStatus.FINAL
    assert row.share.wanted
    assert [a.action for a in firm.admin.audit_for_item("invoice", inv)] == [
        "add",
        "invoice.finalise",
        "share",
    ]


def test_s1_final_invoice_shares_without_a_question(firm: Firm) -> None:
    inv = firm.item(ItemKind.INVOICE)
    firm.admin.edit_item(ItemKind.INVOICE, inv, memo="Final copy")
    with firm.system.db.write() as s:
        obj = s.get(Invoice, inv)
        assert obj is not None
        obj.status = InvoiceStatus.FINAL
    assert firm.admin.share(ItemKind.INVOICE, inv) == texts.INVOICE_SHARED


def test_s1_shared_invoice_offers_unshare_and_unsharing_keeps_it_final(firm: Firm) -> None:
    from portal_tui.domain.rules import s1_action_label

    inv = firm.item(ItemKind.INVOICE)
    firm.admin.share(ItemKind.INVOICE, inv, confirmed=True)
    shared = firm.admin.share_state(ItemKind.INVOICE, inv).is_shared
    assert s1_action_label(shared) == "Unshare via Client Portal"
    firm.admin.unshare(ItemKind.INVOICE, inv)
    assert _invoice_status(firm, inv) is InvoiceStatus.FINAL
    assert s1_action_label(firm.admin.share_state(ItemKind.INVOICE, inv).is_shared) == (
        "Share via Client Portal"
    )


def test_s1_sharing_an_already_shared_invoice_is_refused_without_a_second_delivery(
    firm: Firm,
) -> None:
    inv = firm.item(ItemKind.INVOICE)
    firm.admin.share(ItemKind.INVOICE, inv, confirmed=True)
    before = len(_outbox(firm))
    with pytest.raises(Refused, match="already shared"):
        firm.admin.share(ItemKind.INVOICE, inv, confirmed=True)
    assert len(_outbox(firm)) == before


@pytest.mark.parametrize("kind", [ItemKind.EVENT, ItemKind.TASK, ItemKind.NOTE])
def test_s2_share_box_on_add_and_edit_shares_and_unchecking_unshares(
    firm: Firm, kind: ItemKind
) -> None:
    repo = firm.admin
    item = firm.item(kind)
    title = "subject" if kind is ItemKind.NOTE else "title"
    # Edit with the box checked: saved and shared in one go.
    repo.edit_item(kind, item, share=True, **{title: "Renamed"})
    row = repo.item_row(kind, item)
    assert row.share.wanted
    assert getattr(row, title) == "Renamed"
    # Unchecking and saving unshares.
    repo.edit_item(kind, item, share=False)
    assert not repo.item_row(kind, item).share.wanted
    ops = [r.op for r in _outbox(firm) if r.item_id == item and r.kind == kind.value]
    assert ops == [OutboxOp.PUBLISH, OutboxOp.REVOKE]


def test_s2_adding_with_the_box_checked_shares_at_once(firm: Firm) -> None:
    from datetime import UTC, datetime

    event = firm.admin.add_event(
        firm.matter_id,
        title="Mediation",
        starts_at=datetime(2026, 12, 9, 14, tzinfo=UTC),
        share=True,
    )
    assert firm.admin.share_state(ItemKind.EVENT, event).wanted


def test_s2_editing_a_shared_item_publishes_the_new_version(firm: Firm) -> None:
    task = firm.item(ItemKind.TASK)
    firm.admin.share(ItemKind.TASK, task)
    firm.admin.edit_item(ItemKind.TASK, task, title="Sign the new papers")
    publishes = [r for r in _outbox(firm) if r.item_id == task and r.kind == "task"]
    assert [r.version for r in publishes] == [1, 2]
    assert publishes[-1].payload["data"]["title"] == "Sign the new papers"
    # A save that changes nothing sends nothing.
    firm.admin.edit_item(ItemKind.TASK, task, title="Sign the new papers")
    assert len([r for r in _outbox(firm) if r.item_id == task and r.kind == "task"]) == 2


def test_s2_a_refused_share_box_saves_nothing(firm: Firm) -> None:
    task = firm.item(ItemKind.TASK, firm.other_matter_id)  # portal OFF
    with pytest.raises(Refused):
        firm.admin.edit_item(ItemKind.TASK, task, share=True, title="Changed")
    assert firm.admin.item_row(ItemKind.TASK, task).title != "Changed"


def test_s3_stored_and_linked_documents_share_and_unshare_alike(firm: Firm, tmp_path) -> None:  # type: ignore[no-untyped-def]
    linked = tmp_path / "dms"
    linked.mkdir()
    (linked / "deed.pdf").write_bytes(b"%PDF-1.4 deed")
    folder = firm.admin.add_folder(firm.matter_id, "Deeds", linked_path=str(linked))
    linked_doc = firm.admin.link_document(firm.matter_id, folder, linked_name="deed.pdf")
    stored_doc = firm.item(ItemKind.DOCUMENT)
    for doc in (stored_doc, linked_doc):
        assert firm.admin.share(ItemKind.DOCUMENT, doc) == texts.ITEM_SHARED.format(
            label="document"
        )
        assert firm.admin.share_state(ItemKind.DOCUMENT, doc).wanted
        firm.admin.unshare(ItemKind.DOCUMENT, doc)
        assert not firm.admin.share_state(ItemKind.DOCUMENT, doc).wanted
    assert firm.admin.document_content(linked_doc) == b"%PDF-1.4 deed"
    assert texts.SHARE_FILE_CONFIRM == (
        "Are you sure you want to share the selected file via client portal?"
    )


def test_s3_a_linked_name_outside_its_folder_is_refused(firm: Firm, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from portal_tui.domain import Invalid

    (tmp_path / "dms").mkdir()
    (tmp_path / "secret.txt").write_text("no")
    folder = firm.admin.add_folder(firm.matter_id, "DMS", linked_path=str(tmp_path / "dms"))
    with pytest.raises(Invalid, match="outside"):
        firm.admin.link_document(firm.matter_id, folder, linked_name="../secret.txt")


def test_s4_form_shares_only_with_associate_rule_portal_on_and_forms_permitted(
    firm: Firm,
) -> None:
    repo = firm.admin
    fields = [{"key": "dob", "label": "Date of birth", "type": "date"}]
    create = repo.add_form("New client", fields=fields, rule=FormRule.CREATE)
    with pytest.raises(Refused, match="processing rule associates") as e:
        repo.share(ItemKind.FORM, create)
    assert e.value.rule == "S4"
    off = repo.add_form(
        "Elm St", fields=fields, rule=FormRule.ASSOCIATE, matter_id=firm.other_matter_id
    )
    with pytest.raises(Refused, match="client portal is ON"):
        repo.share(ItemKind.FORM, off)
    ok = repo.add_form("Byrne", fields=fields, rule=FormRule.ASSOCIATE, matter_id=firm.matter_id)
    repo.set_matter_permissions(firm.matter_id, set(Category) - {Category.FORMS})
    with pytest.raises(Refused, match="Forms box"):
        repo.share(ItemKind.FORM, ok)
    repo.set_matter_permissions(firm.matter_id, set(Category))
    repo.share(ItemKind.FORM, ok)
    assert repo.share_state(ItemKind.FORM, ok).wanted


def test_s5_messages_go_to_the_client_when_permitted(firm: Firm) -> None:
    repo = firm.admin
    msg = repo.add_message(firm.matter_id, body="Your documents are ready.", share=True)
    assert repo.share_state(ItemKind.MESSAGE, msg).wanted
    repo.set_matter_permissions(firm.matter_id, set(Category) - {Category.MESSAGES})
    with pytest.raises(Refused, match="Messages are not permitted") as e:
        repo.add_message(firm.matter_id, body="Another", share=True)
    assert e.value.rule == "S5"


def test_s6_category_not_permitted_names_it_and_where_to_permit_it(firm: Firm) -> None:
    repo = firm.admin
    note = firm.item(ItemKind.NOTE)
    repo.set_matter_permissions(firm.matter_id, set(Category) - {Category.NOTES})
    counts = _state_of_db(firm)
    with pytest.raises(Refused) as e:
        repo.share(ItemKind.NOTE, note)
    assert e.value.rule == "S6"
    assert "Notes are not permitted" in e.value.message
    assert "Matter Details > Client Portal" in e.value.message
    assert _state_of_db(firm) == counts
    # Unchecked at firm level: the message points to the firm's settings instead (F4).
    repo.set_matter_permissions(firm.matter_id, set(Category))
    repo.set_firm_portal(permissions=set(Category) - {Category.NOTES})
    with pytest.raises(Refused) as e:
        repo.share(ItemKind.NOTE, note)
    assert "Setup > Firm Settings > Client Portal" in e.value.message


def test_s7_unshare_writes_a_revoke_with_a_newer_version(firm: Firm) -> None:
    doc = firm.item(ItemKind.DOCUMENT)
    firm.admin.share(ItemKind.DOCUMENT, doc)
    firm.admin.unshare(ItemKind.DOCUMENT, doc)
    rows = [r for r in _outbox(firm) if r.kind == "document" and r.item_id == doc]
    assert [(r.op, r.version) for r in rows] == [(OutboxOp.PUBLISH, 1), (OutboxOp.REVOKE, 2)]
    # The portal will order them by version, so a late retry of the share cannot win.
    assert rows[1].payload["version"] > rows[0].payload["version"]


def test_s7_deleting_a_shared_item_revokes_it_first(firm: Firm) -> None:
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    firm.admin.delete_item(ItemKind.NOTE, note)
    rows = [r.op for r in _outbox(firm) if r.kind == "note" and r.item_id == note]
    assert rows == [OutboxOp.PUBLISH, OutboxOp.REVOKE]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_r1_billing_shares_invoices_only(firm: Firm, kind: ItemKind) -> None:
    item = firm.item(kind)
    billing = firm.as_(StaffRole.BILLING)
    if kind is ItemKind.INVOICE:
        billing.share(kind, item, confirmed=True)
        billing.unshare(kind, item)
        return
    counts = _state_of_db(firm)
    with pytest.raises(Refused) as e:
        billing.share(kind, item, confirmed=True)
    assert e.value.rule == "R1"
    assert "Billing" in e.value.message
    assert _state_of_db(firm) == counts


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_r1_read_only_neither_shares_nor_unshares(firm: Firm, kind: ItemKind) -> None:
    item = firm.item(kind)
    firm.admin.share(kind, item, confirmed=True)
    read_only = firm.as_(StaffRole.READ_ONLY)
    with pytest.raises(Refused, match="Read-only"):
        read_only.unshare(kind, item)
    with pytest.raises(Refused, match="Read-only"):
        read_only.share(kind, firm.item(kind), confirmed=True)


def test_r1_normal_staff_share_every_kind(firm: Firm) -> None:
    normal = firm.as_(StaffRole.NORMAL)
    for kind in ItemKind:
        normal.share(kind, firm.item(kind), confirmed=True)


def test_r1_unknown_staff_login_is_refused_clearly(firm: Firm) -> None:
    from portal_tui.repository import Repository

    ghost = Repository(firm.system.db, "ghost")
    with pytest.raises(Refused, match="No active staff user with login 'ghost'"):
        ghost.share(ItemKind.NOTE, firm.item(ItemKind.NOTE))


def test_m5_restricted_party_cannot_write_or_read_client_messages(firm: Firm) -> None:
    firm.admin.add_message(firm.matter_id, body="Visible to allowed staff")
    firm.system.set_party_access(
        firm.matter_id, firm.staff[StaffRole.NORMAL], PartyAccess.RESTRICTED
    )
    normal = firm.as_(StaffRole.NORMAL)
    with pytest.raises(Refused) as e:
        normal.add_message(firm.matter_id, body="Hi")
    assert e.value.rule == "M5"
    assert normal.list_messages(matter_id=firm.matter_id).rows == ()
    assert len(firm.admin.list_messages(matter_id=firm.matter_id).rows) == 1


def test_bulk_share_is_one_batch_and_reports_refusals(firm: Firm) -> None:
    notes = [firm.item(ItemKind.NOTE) for _ in range(3)]
    off_note = firm.item(ItemKind.NOTE, firm.other_matter_id)
    done, refused = firm.admin.share_many(
        [(ItemKind.NOTE, n) for n in [*notes, off_note]], share=True
    )
    assert done == 3
    assert [(k, i) for k, i, _ in refused] == [(ItemKind.NOTE, off_note)]
    assert "OFF for this matter" in refused[0][2]
    batches = {r.batch for r in _outbox(firm) if r.kind == "note" and r.item_id in notes}
    assert len(batches) == 1

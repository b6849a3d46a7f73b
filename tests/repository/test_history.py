"""Share history of an item: who shared and unshared an item and when, its delivery, the
clients' email and what can be known of its recipients, the client's first view and download."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal_tui.domain import ItemKind, StaffRole
from portal_tui.domain.decision import NotFound
from portal_tui.domain.records import ShareHistory
from portal_tui.repository import history
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome, Rejected

from .conftest import Firm


class Portal:
    """Takes every delivery, or refuses each with `refusal`."""

    def __init__(self, refusal: str | None = None) -> None:
        self.refusal = refusal

    def deliver(self, message: OutboxMessage) -> Outcome:
        return Rejected(self.refusal) if self.refusal else Delivered()


def deliver(firm: Firm, refusal: str | None = None) -> None:
    while firm.system.deliver_pending(Portal(refusal)).delivered:
        pass


def whats(h: ShareHistory) -> list[str]:
    return [entry.what for entry in h.entries]


def test_s0_an_item_never_shared_says_so(firm: Firm) -> None:
    note = firm.item(ItemKind.NOTE)
    h = firm.admin.share_history(ItemKind.NOTE, note)
    assert not h.ever_shared and h.entries == ()
    assert not h.share.wanted


def test_s0_an_unknown_item_is_not_found(firm: Firm) -> None:
    with pytest.raises(NotFound):
        firm.admin.share_history(ItemKind.NOTE, 999_999)


def test_s0_shared_by_and_unshared_by_are_staff_names_oldest_first(firm: Firm) -> None:
    deliver(firm)
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    assert whats(firm.admin.share_history(ItemKind.NOTE, note)) == [history.SHARED, history.WAITING]
    deliver(firm)
    firm.as_(StaffRole.NORMAL).unshare(ItemKind.NOTE, note)
    deliver(firm)

    h = firm.admin.share_history(ItemKind.NOTE, note)
    assert h.ever_shared
    assert whats(h) == [
        history.SHARED,
        history.DELIVERED,
        history.EMAIL_ASKED,
        history.UNSHARED,
        history.REMOVED,
    ]
    by = {e.what: e.who for e in h.entries}
    assert by[history.SHARED] == "Admin User"
    assert by[history.UNSHARED] == "Normal User"
    times = [e.at for e in h.entries]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)  # UTC, for the screen to show locally


def test_s1_a_draft_invoice_shows_it_was_marked_final_before_the_share(firm: Firm) -> None:
    invoice = firm.item(ItemKind.INVOICE)
    firm.admin.share(ItemKind.INVOICE, invoice, confirmed=True)
    h = firm.admin.share_history(ItemKind.INVOICE, invoice)
    assert whats(h)[:2] == [history.FINALISED, history.SHARED]
    assert h.entries[0].who == "Admin User"


def test_sync_first_view_and_download_are_in_the_history(firm: Firm) -> None:
    doc = firm.item(ItemKind.DOCUMENT)
    firm.admin.share(ItemKind.DOCUMENT, doc)
    deliver(firm)
    viewed = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    downloaded = datetime(2030, 1, 2, 9, 31, tzinfo=UTC)
    # As sync records them; a later view does not move the first one.
    firm.system.record_item_seen(ItemKind.DOCUMENT, doc, viewed_at=viewed)
    firm.system.record_item_seen(ItemKind.DOCUMENT, doc, viewed_at=downloaded)
    firm.system.record_item_seen(ItemKind.DOCUMENT, doc, downloaded_at=downloaded)
    h = firm.admin.share_history(ItemKind.DOCUMENT, doc)
    assert [(e.what, e.at) for e in h.entries[-2:]] == [
        (history.FIRST_VIEWED, viewed),
        (history.FIRST_DOWNLOADED, downloaded),
    ]


def test_f5_the_email_names_the_contacts_active_at_the_time_of_the_share(firm: Firm) -> None:
    repo = firm.admin
    ada = repo.invite_contact(
        firm.matter_id, firm.client_id, name="Ada Byrne", email="ada@example.test"
    )
    repo.record_contact_activated(ada, datetime(2026, 11, 1, tzinfo=UTC))
    other = repo.add_client("Ben Byrne", primary_email="ben@example.test")
    ben = repo.invite_contact(firm.matter_id, other, name="Ben Byrne", email="ben@example.test")
    # Ben is only invited (no account yet): the portal does not email him.
    note = firm.item(ItemKind.NOTE)
    repo.share(ItemKind.NOTE, note)
    deliver(firm)
    # Activated after the share: not among those the share's email was for.
    repo.record_contact_activated(ben, datetime(2026, 11, 2, tzinfo=UTC))

    h = repo.share_history(ItemKind.NOTE, note)
    email = next(e for e in h.entries if e.what == history.EMAIL_ASKED)
    assert email.detail == history.ACTIVE_CONTACTS.format(contacts="Ada Byrne <ada@example.test>")


def test_f5_with_nobody_active_or_the_setting_off_the_history_says_so(firm: Firm) -> None:
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    deliver(firm)
    email = firm.admin.share_history(ItemKind.NOTE, note).entries[2]
    assert (email.what, email.detail) == (history.EMAIL_ASKED, history.NO_ACTIVE_CONTACT)

    firm.admin.set_firm_portal(notify_new_items=False)
    quiet = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, quiet)
    deliver(firm)
    details = [e.detail for e in firm.admin.share_history(ItemKind.NOTE, quiet).entries]
    assert history.NO_EMAIL_SETTING in details


def test_a_refused_delivery_shows_its_reason(firm: Firm) -> None:
    deliver(firm)
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    deliver(firm, "422: data.subject too long")
    failed = firm.admin.share_history(ItemKind.NOTE, note).entries[-1]
    assert (failed.what, failed.detail) == (history.DELIVERY_FAILED, "422: data.subject too long")

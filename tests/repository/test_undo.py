"""S8: a share or unshare confirmed by a toast is held for UNDO_WINDOW, and an Undo in time
sends nothing to the portal and puts the item's share state back; a late one is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from portal_tui.domain import InvoiceStatus, ItemKind, OutboxState, ShareState, texts
from portal_tui.domain.decision import Refused
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome
from portal_tui.repository.undo import UNDO_WINDOW
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import Invoice, OutboxEntry

from .conftest import Firm


class Recording:
    """A portal that takes everything, and remembers what it was sent."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    def deliver(self, message: OutboxMessage) -> Outcome:
        self.sent.append(message)
        return Delivered()


def _drain(firm: Firm, portal: Recording | None = None) -> None:
    """Deliver everything due, and the notices those deliveries queue."""
    while firm.system.deliver_pending(portal or Recording()).delivered:
        pass


def _shared_note(firm: Firm) -> int:
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    _drain(firm)
    assert firm.admin.share_state(ItemKind.NOTE, note).state is ShareState.SHARED
    return note


def _row(firm: Firm, key: str) -> OutboxEntry | None:
    with firm.system.db.read() as s:
        return s.scalar(select(OutboxEntry).where(OutboxEntry.idempotency_key == key))


def test_s8_a_held_unshare_is_not_sent_before_its_window_ends(firm: Firm) -> None:
    note = _shared_note(firm)
    held = firm.admin.unshare_held(ItemKind.NOTE, note)
    assert held.undo_key is not None
    portal = Recording()
    firm.system.deliver_pending(portal)
    assert portal.sent == []
    firm.system.deliver_pending(portal, now=utcnow() + UNDO_WINDOW + timedelta(seconds=1))
    assert [m.idempotency_key for m in portal.sent] == [held.undo_key]
    assert firm.admin.share_state(ItemKind.NOTE, note).state is ShareState.NOT_SHARED


def test_s8_undo_in_time_sends_nothing_and_puts_the_share_back(firm: Firm) -> None:
    note = _shared_note(firm)
    before = firm.admin.share_record(ItemKind.NOTE, note)
    held = firm.admin.unshare_held(ItemKind.NOTE, note)
    assert held.message == texts.ITEM_UNSHARED.format(label="note")
    assert firm.admin.share_state(ItemKind.NOTE, note).wanted is False
    assert held.undo_key is not None
    said = firm.admin.undo(held.undo_key)
    assert said == texts.ITEM_UNDONE.format(label="note")
    assert firm.admin.share_record(ItemKind.NOTE, note) == before
    assert _row(firm, held.undo_key) is None
    portal = Recording()
    firm.system.deliver_pending(portal, now=utcnow() + timedelta(minutes=1))
    assert portal.sent == []
    actions = [a.action for a in firm.admin.audit_for_item("note", note)]
    assert actions[-2:] == ["unshare", "undo"]


def test_s8_undo_of_a_first_share_leaves_the_item_never_shared(firm: Firm) -> None:
    _drain(firm)  # the firm's own rows, from its setup
    event = firm.item(ItemKind.EVENT)
    held = firm.admin.share_held(ItemKind.EVENT, event)
    assert firm.admin.share_state(ItemKind.EVENT, event).state is ShareState.PENDING
    assert held.undo_key is not None
    firm.admin.undo(held.undo_key)
    assert firm.admin.share_record(ItemKind.EVENT, event) is None
    portal = Recording()
    firm.system.deliver_pending(portal, now=utcnow() + timedelta(minutes=1))
    assert portal.sent == []
    # And it can be shared again as usual.
    firm.admin.share(ItemKind.EVENT, event)
    _drain(firm, portal)
    assert firm.admin.share_state(ItemKind.EVENT, event).state is ShareState.SHARED


def test_s8_an_invoice_share_is_not_held_its_box_confirms_it(firm: Firm) -> None:
    _drain(firm)
    invoice = firm.item(ItemKind.INVOICE)
    with firm.system.db.write() as s:  # a Final invoice: a Draft asks first (S1)
        s.execute(update(Invoice).where(Invoice.id == invoice).values(status=InvoiceStatus.FINAL))
    held = firm.admin.share_held(ItemKind.INVOICE, invoice)
    assert held.undo_key is None
    portal = Recording()
    _drain(firm, portal)
    assert [m.item_id for m in portal.sent if m.item_id] == [invoice]


def test_s8_undo_after_delivery_is_refused_and_changes_nothing(firm: Firm) -> None:
    note = _shared_note(firm)
    held = firm.admin.unshare_held(ItemKind.NOTE, note)
    assert held.undo_key is not None
    firm.system.deliver_pending(Recording(), now=utcnow() + UNDO_WINDOW + timedelta(seconds=1))
    after = firm.admin.share_record(ItemKind.NOTE, note)
    with pytest.raises(Refused) as refused:
        firm.admin.undo(held.undo_key)
    assert refused.value.message == texts.UNDO_TOO_LATE
    assert firm.admin.share_record(ItemKind.NOTE, note) == after
    assert after is not None and after.share.state is ShareState.NOT_SHARED


def test_s8_undo_while_a_relay_holds_the_row_is_refused(firm: Firm) -> None:
    note = _shared_note(firm)
    held = firm.admin.unshare_held(ItemKind.NOTE, note)
    assert held.undo_key is not None
    refusals: list[str] = []

    class UndoMidRequest(Recording):
        def deliver(self, message: OutboxMessage) -> Outcome:
            try:  # the row is claimed now: the request may reach the portal
                firm.admin.undo(message.idempotency_key)
            except Refused as exc:
                refusals.append(exc.message)
            return super().deliver(message)

    portal = UndoMidRequest()
    firm.system.deliver_pending(portal, now=utcnow() + UNDO_WINDOW + timedelta(seconds=1))
    assert refusals == [texts.UNDO_TOO_LATE]
    assert [m.idempotency_key for m in portal.sent] == [held.undo_key]
    assert firm.admin.share_state(ItemKind.NOTE, note).state is ShareState.NOT_SHARED


# A relay in a process of its own: delivers every due row, writing each id it sent.
RELAY = """
import sys, pathlib
from portal_tui.repository import Repository
from portal_tui.repository.delivery import Delivered
url, sent, stop = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
repo = Repository.open(url)
class Portal:
    def deliver(self, message):
        with sent.open("a") as out:
            out.write(f"{message.idempotency_key}\\n")
        return Delivered()
ready = pathlib.Path(str(sent) + ".ready")
ready.write_text("")
while not stop.exists():
    repo.deliver_pending(Portal())
repo.close()
"""


def _wait_for(condition, what: str, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_s8_an_undo_racing_a_relay_in_another_process_wins_or_loses_whole(
    firm: Firm, migrated_url: str, tmp_path: Path
) -> None:
    notes = [_shared_note(firm) for _ in range(12)]
    sent, stop = tmp_path / "sent.txt", tmp_path / "stop"
    sent.touch()
    relay = subprocess.Popen(
        [sys.executable, "-c", RELAY, migrated_url, str(sent), str(stop)],
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: Path(str(sent) + ".ready").exists(), "the relay to start")
        outcomes: dict[str, str] = {}
        for note in notes:
            held = firm.admin.unshare_held(ItemKind.NOTE, note)
            assert held.undo_key is not None
            # The window ends now: the relay and this Undo reach for the row together.
            with firm.system.db.write() as s:
                s.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.idempotency_key == held.undo_key)
                    .values(deliver_after=utcnow())
                )
            try:
                firm.admin.undo(held.undo_key)
                outcomes[held.undo_key] = "undone"
            except Refused as exc:
                outcomes[held.undo_key] = exc.message

        def settled() -> bool:
            with firm.system.db.read() as s:
                return not s.scalars(
                    select(OutboxEntry.id).where(OutboxEntry.state == OutboxState.PENDING)
                ).all()

        _wait_for(settled, "the relay to deliver every row it took")
    finally:
        stop.touch()
        relay.wait(60)
    assert relay.returncode == 0, relay.stderr.read() if relay.stderr else ""
    sent_keys = set(sent.read_text().split())
    assert len(outcomes) == len(notes)
    assert set(outcomes.values()) <= {"undone", texts.UNDO_TOO_LATE}
    for key, outcome in outcomes.items():
        # Exactly one happened: undone (never sent) or delivered (and the Undo refused).
        row = _row(firm, key)
        if outcome == "undone":
            assert row is None and key not in sent_keys
        else:
            assert row is not None and row.state is OutboxState.DELIVERED
            assert key in sent_keys
    for note, key in zip(notes, outcomes, strict=True):
        state = firm.admin.share_state(ItemKind.NOTE, note)
        undone = outcomes[key] == "undone"
        assert state.state is (ShareState.SHARED if undone else ShareState.NOT_SHARED)

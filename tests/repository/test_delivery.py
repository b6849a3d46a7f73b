"""The outbox relay's bookkeeping, driven by a scripted portal answer per row.

The real portal service over HTTP is exercised by the delivery tests of the service; here the
point is what the firm database records for each kind of answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from portal_tui.domain import ItemKind, OutboxOp, OutboxState, ShareState
from portal_tui.repository.delivery import (
    BACKOFF_CAP_S,
    Broken,
    Delivered,
    OutboxMessage,
    Outcome,
    Rejected,
    RetryLater,
    backoff_seconds,
)
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .conftest import Firm


class Scripted:
    """Answers each message with what `answer` says, and remembers what it was sent."""

    def __init__(self, answer: Callable[[OutboxMessage], Outcome]) -> None:
        self.answer = answer
        self.sent: list[OutboxMessage] = []

    def deliver(self, message: OutboxMessage) -> Outcome:
        self.sent.append(message)
        return self.answer(message)


def _rows(firm: Firm) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _drain(firm: Firm) -> None:
    firm.system.deliver_pending(Scripted(lambda m: Delivered()))


def test_delivered_share_turns_the_mark_shared_and_unshare_turns_it_blank(firm: Firm) -> None:
    _drain(firm)
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    assert firm.admin.share_state(ItemKind.NOTE, note).state is ShareState.PENDING
    firm.system.deliver_pending(Scripted(lambda m: Delivered()))
    assert firm.admin.share_state(ItemKind.NOTE, note).state is ShareState.SHARED
    firm.admin.unshare(ItemKind.NOTE, note)
    _drain(firm)
    share = firm.admin.share_state(ItemKind.NOTE, note)
    assert (share.state, share.wanted) == (ShareState.NOT_SHARED, False)


def test_each_row_keeps_its_idempotency_key_across_retries(firm: Firm) -> None:
    _drain(firm)
    firm.admin.share(ItemKind.NOTE, firm.item(ItemKind.NOTE))
    flaky = Scripted(lambda m: RetryLater("503 Service Unavailable", after_seconds=0))
    firm.system.deliver_pending(flaky)
    firm.system.deliver_pending(flaky)
    keys = {m.idempotency_key for m in flaky.sent if m.op is OutboxOp.PUBLISH}
    assert len(flaky.sent) == 2 and len(keys) == 1
    (row,) = [r for r in _rows(firm) if r.op is OutboxOp.PUBLISH]
    assert row.attempts == 2 and row.state is OutboxState.PENDING
    assert row.last_error == "503 Service Unavailable"


def test_retry_waits_with_backoff_or_retry_after(firm: Firm) -> None:
    _drain(firm)
    firm.admin.share(ItemKind.NOTE, firm.item(ItemKind.NOTE))
    before = utcnow()
    firm.system.deliver_pending(Scripted(lambda m: RetryLater("429", after_seconds=120)))
    (row,) = [r for r in _rows(firm) if r.op is OutboxOp.PUBLISH]
    assert row.next_attempt_at - before >= timedelta(seconds=119)
    # Not due yet: a pass now sends nothing.
    idle = Scripted(lambda m: Delivered())
    firm.system.deliver_pending(idle)
    assert idle.sent == []
    firm.system.deliver_pending(idle, now=utcnow() + timedelta(seconds=121))
    assert [m.op for m in idle.sent][:1] == [OutboxOp.PUBLISH]


def test_backoff_grows_and_is_capped_at_about_five_minutes() -> None:
    assert backoff_seconds(1, lambda: 1.0) == 1.0
    assert backoff_seconds(4, lambda: 1.0) == 8.0
    assert backoff_seconds(30, lambda: 1.0) == BACKOFF_CAP_S
    assert backoff_seconds(30, lambda: 0.0) == BACKOFF_CAP_S / 2  # jitter


def test_rejected_share_is_failed_with_its_reason_and_sharing_again_retries(firm: Firm) -> None:
    _drain(firm)
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    firm.system.deliver_pending(Scripted(lambda m: Rejected("422: data.subject too long")))
    share = firm.admin.share_state(ItemKind.NOTE, note)
    assert (share.state, share.error) == (ShareState.FAILED, "422: data.subject too long")
    row = firm.admin.item_row(ItemKind.NOTE, note)
    assert row.share.error == "422: data.subject too long"  # the reason shows in the list
    firm.admin.share(ItemKind.NOTE, note)
    _drain(firm)
    assert firm.admin.share_state(ItemKind.NOTE, note).state is ShareState.SHARED


def test_a_broken_portal_stops_the_pass_keeps_rows_pending_and_leaves_a_message(
    firm: Firm,
) -> None:
    _drain(firm)
    notes = [firm.item(ItemKind.NOTE) for _ in range(3)]
    for n in notes:
        firm.admin.share(ItemKind.NOTE, n)
    broken = Scripted(lambda m: Broken("The portal refused the staff token (401)."))
    report = firm.system.deliver_pending(broken)
    assert len(broken.sent) == 1 and report.problem
    assert firm.system.delivery_problem() == "The portal refused the staff token (401)."
    assert all(firm.admin.share_state(ItemKind.NOTE, n).state is ShareState.PENDING for n in notes)
    firm.system.deliver_pending(Scripted(lambda m: Delivered()), now=utcnow() + timedelta(hours=1))
    assert firm.system.delivery_problem() is None
    assert all(firm.admin.share_state(ItemKind.NOTE, n).state is ShareState.SHARED for n in notes)


def test_a_batch_gets_one_notice_after_its_last_item(firm: Firm) -> None:
    _drain(firm)
    notes = [firm.item(ItemKind.NOTE) for _ in range(3)]
    firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    # The first two go through, the third is retried: no notice yet.
    answers = iter([Delivered(), Delivered(), RetryLater("timeout", after_seconds=0)])
    firm.system.deliver_pending(Scripted(lambda m: next(answers)))
    assert not [r for r in _rows(firm) if r.op is OutboxOp.NOTIFY]
    done = Scripted(lambda m: Delivered())
    firm.system.deliver_pending(done)
    firm.system.deliver_pending(done)
    notices = [r for r in _rows(firm) if r.op is OutboxOp.NOTIFY]
    assert len(notices) == 1 and notices[0].state is OutboxState.DELIVERED
    assert [m.op for m in done.sent] == [OutboxOp.PUBLISH, OutboxOp.NOTIFY]


def test_a_late_answer_for_an_old_version_does_not_touch_a_newer_share(firm: Firm) -> None:
    _drain(firm)
    note = firm.item(ItemKind.NOTE)
    firm.admin.share(ItemKind.NOTE, note)
    firm.admin.unshare(ItemKind.NOTE, note)
    # Only the publish (v1) is answered in this pass; the revoke (v2) waits.
    firm.system.deliver_pending(
        Scripted(lambda m: Delivered() if m.version == 1 else RetryLater("x", after_seconds=60))
    )
    share = firm.admin.share_state(ItemKind.NOTE, note)
    assert (share.wanted, share.state) == (False, ShareState.PENDING)

"""The portal service down while 1,000 items are shared: nothing is lost, and once it is back
each item is delivered exactly once and each client gets one email for the batch."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal_tui.domain import ItemKind, OutboxOp, OutboxState, ShareState
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.store.models import OutboxEntry

from .support import (
    Firm,
    Service,
    activate_clients,
    assert_one_email_each,
    assert_published_once,
    build_firm,
    deliver_all,
    read_mail,
)

ITEMS = 1000


def test_a_thousand_items_shared_while_the_portal_is_down_arrive_once_with_one_email_each(
    service: Service, firm_url: str
) -> None:
    # Three clients, the first with two matters: four matters, one contact each.
    firm = build_firm(firm_url, [2, 1, 1])
    portal = PortalClient(service.base, service.token, timeout=5)
    try:
        activate_clients(firm, service, portal)
        service.stop()

        repo = firm.repo
        items: list[tuple[ItemKind, int]] = []
        for n in range(ITEMS):
            matter = firm.matters[n % len(firm.matters)]
            if n % 2:
                items.append((ItemKind.NOTE, repo.add_note(matter, subject=f"Note {n}", body="")))
            else:
                task = repo.add_task(matter, title=f"Task {n}", due_on=date(2026, 12, 1))
                items.append((ItemKind.TASK, task))
        assert repo.share_many(items, share=True) == (ITEMS, [])

        for _ in range(3):
            report = run_pass(repo, portal)
            assert report.delivered == 0 and report.problem is not None
        problem = repo.delivery_problem()
        assert problem is not None and "cannot be reached" in problem, problem
        assert service.base in problem
        assert repo.pending_deliveries() == ITEMS
        assert repo.count_shared() == {ShareState.PENDING: ITEMS}
        # Passes that could not reach the portal used up none of the rows' tries.
        assert {r.attempts for r in _publish_rows(firm)} == {0}

        service.start()
        deliver_all(repo, portal, timeout=120)

        assert repo.delivery_problem() is None
        assert repo.count_shared() == {ShareState.SHARED: ITEMS}
        rows = _publish_rows(firm)
        assert len(rows) == ITEMS
        # Each sent once, once the portal was back.
        assert {(r.state, r.attempts) for r in rows} == {(OutboxState.DELIVERED, 1)}
        assert_published_once(service, items)

        with repo.db.read() as s:
            notices = list(s.scalars(select(OutboxEntry).where(OutboxEntry.op == OutboxOp.NOTIFY)))
        assert [(n.state, n.batch) for n in notices] == [(OutboxState.DELIVERED, rows[0].batch)]

        assert_one_email_each(service, firm)
        # The first client's one email covers both of its matters: half of the items.
        (first,) = [
            m
            for m in read_mail(service.mail_dir)
            if m.to == firm.clients[0].email and "new items" in m.subject
        ]
        assert "has shared 500 new items" in " ".join(first.text.split()), first.text
    finally:
        portal.close()
        firm.close()


def _publish_rows(firm: Firm) -> list[OutboxEntry]:
    with firm.repo.db.read() as s:
        return list(
            s.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.op == OutboxOp.PUBLISH)
                .order_by(OutboxEntry.id)
            )
        )

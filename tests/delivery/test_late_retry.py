"""A late retry of an old share after a newer unshare: the item stays unshared, on the portal
and in the app. Run on SQLite and on PostgreSQL firm databases (the portal is the same)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal_tui.domain import ItemKind, OutboxOp, ShareState
from portal_tui.repository.delivery import OutboxMessage, Outcome, RetryLater
from portal_tui.repository.portal_client import PortalClient
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .support import Firm, Service, deliver_all


@pytest.fixture
def firm_url(migrated_url: str) -> str:
    return migrated_url


class HoldBack:
    """The real portal client, except that the rows `held` picks are answered "later"."""

    def __init__(self, inner: PortalClient, held: Callable[[OutboxMessage], bool]) -> None:
        self.inner = inner
        self.held = held

    def deliver(self, message: OutboxMessage) -> Outcome:
        if self.held(message):
            return RetryLater("held back by the test", after_seconds=3600)
        return self.inner.deliver(message)


def _item(firm: Firm, kind: ItemKind) -> int:
    matter = firm.matters[0]
    if kind is ItemKind.NOTE:
        return firm.repo.add_note(matter, subject="Settlement offer", body="Do not accept yet.")
    folder = firm.repo.client_portal_folder(matter)
    return firm.repo.add_document(matter, folder, name="offer.pdf", content=b"%PDF-1.4 offer")


@pytest.mark.parametrize("kind", [ItemKind.NOTE, ItemKind.DOCUMENT])
def test_an_old_share_arriving_after_a_newer_unshare_leaves_the_item_unshared(
    service: Service, firm: Firm, portal: PortalClient, kind: ItemKind
) -> None:
    repo = firm.repo
    deliver_all(repo, portal)
    item = _item(firm, kind)
    repo.share(kind, item)  # version 1
    repo.unshare(kind, item)  # version 2

    # The unshare lands first; the share is held back.
    repo.deliver_pending(HoldBack(portal, lambda m: m.op is OutboxOp.PUBLISH))
    with service.api() as api:
        held = api.get(f"/items/{kind.value}/{item}").json()
        assert (held["published"], held["version"]) == (False, 2)
        share = repo.share_state(kind, item)
        assert (share.state, share.wanted) == (ShareState.NOT_SHARED, False)

        # The old share's request, replayed by hand with its own key, changes nothing ...
        with repo.db.read() as s:
            old = s.scalar(select(OutboxEntry).where(OutboxEntry.op == OutboxOp.PUBLISH))
            assert old is not None and old.version == 1
            body, key = {**old.payload, "batch": old.batch}, old.idempotency_key
        replay = api.put(f"/items/{kind.value}/{item}", json=body, headers={"Idempotency-Key": key})
        assert replay.status_code == 200, replay.text
        assert (replay.json()["applied"], replay.json()["published"]) == (False, False)
        if kind is ItemKind.DOCUMENT:
            late = api.put(
                f"/items/document/{item}/content",
                params={"version": 1},
                content=b"%PDF-1.4 offer",
                headers={"Idempotency-Key": f"{key}:late-content"},
            )
            assert (late.status_code, late.json()["applied"]) == (200, False), late.text

        # ... and so does the relay's own late retry of it.
        report = repo.deliver_pending(portal, now=utcnow() + timedelta(hours=2))
        assert (report.delivered, report.retried, report.failed) == (1, 0, 0)
        deliver_all(repo, portal)  # the batch's email notice, which finds nothing to announce

        held = api.get(f"/items/{kind.value}/{item}").json()
        assert (held["published"], held["version"]) == (False, 2)
        if kind is ItemKind.DOCUMENT:
            assert held["has_content"] is False
    share = repo.share_state(kind, item)
    assert (share.state, share.wanted, share.error) == (ShareState.NOT_SHARED, False, None)
    assert repo.item_row(kind, item).share == share

"""A share and an unshare of one item by two staff at once, on PostgreSQL at READ COMMITTED,
stepped so that both try to read the item's share mark before either writes: the first holds
its transaction open right after taking the item (a test-only wrapper in its process waits
there), and the second starts meanwhile. The product locks the item before reading its mark
(docs/many-staff.md, "Shares"), so the second's read waits for the first's commit and then
decides from what the first wrote: both succeed, at two different versions, one after the
other, and once delivered the portal holds what the firm's mark says."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from portal_tui.domain import ItemKind, texts
from portal_tui.repository import Repository

from ..delivery.support import Firm, Service, portal_tui, wait_for
from .support import (
    add_staff,
    assert_portal_holds_the_marks,
    finish,
    firm_env,
    item_versions,
    share_marks,
    start_child,
)

pytestmark = pytest.mark.postgres

DONE = {
    "share": texts.ITEM_SHARED.format(label=ItemKind.NOTE.label),
    "unshare": texts.ITEM_UNSHARED.format(label=ItemKind.NOTE.label),
}


def _blocking(repo: Repository, pid: int) -> list[int]:
    """The backends whose locks the backend `pid` is waiting for."""
    with repo.db.read() as s:
        return list(s.scalar(text("SELECT pg_blocking_pids(:pid)"), {"pid": pid}) or [])


def _pid(path: Path) -> int | None:
    """The pid a child wrote, once it is all there (the file can be seen before it is)."""
    written = path.read_text().strip() if path.exists() else ""
    return int(written) if written else None


@pytest.mark.parametrize(
    ("already_shared", "first", "second"),
    [(False, "share", "unshare"), (True, "unshare", "share")],
    ids=["share-then-unshare", "unshare-then-share"],
)
def test_the_second_staff_member_reads_the_item_only_once_the_first_has_written(
    pg_firm: Firm,
    pg_url: str,
    service: Service,
    env: dict[str, str],
    tmp_path: Path,
    already_shared: bool,
    first: str,
    second: str,
) -> None:
    firm = pg_firm
    add_staff(firm, "bea")
    note = firm.repo.add_note(firm.matters[0], subject="Settlement offer", body=".")
    if already_shared:
        firm.repo.share(ItemKind.NOTE, note)
    before = share_marks(firm.repo)
    steps = tmp_path / "steps"
    steps.mkdir()
    item = [ItemKind.NOTE.value, note]

    holder = start_child(
        env,
        "stepped",
        url=pg_url,
        login="admin",
        op=first,
        item=item,
        folder=str(steps),
        step="hold",
        result=str(tmp_path / "first.json"),
    )
    held = wait_for(lambda: _pid(steps / "holding"), timeout=30, what="the first to take the item")
    waiter = start_child(
        env,
        "stepped",
        url=pg_url,
        login="bea",
        op=second,
        item=item,
        folder=str(steps),
        step="announce",
        result=str(tmp_path / "second.json"),
    )
    try:
        waiting = wait_for(lambda: _pid(steps / "waiting"), timeout=30, what="the second to start")
        # The second's read of the item waits on the first's transaction, which has read the
        # mark and not written yet: neither has changed anything.
        wait_for(
            lambda: _blocking(firm.repo, waiting) == [held],
            timeout=30,
            what="the second's read to wait for the first's lock on the item",
        )
        assert waiter.poll() is None and holder.poll() is None
        assert share_marks(firm.repo) == before
    finally:
        (steps / "release").touch()
    assert finish(holder, tmp_path / "first.json") == {"ok": DONE[first]}
    assert finish(waiter, tmp_path / "second.json") == {"ok": DONE[second]}

    # Two changes, at two versions, in the order they committed; the mark is the second's.
    start = 1 if already_shared else 0
    assert item_versions(firm.repo, ItemKind.NOTE, note) == list(range(1, start + 3))
    assert share_marks(firm.repo) == {(ItemKind.NOTE.value, note): (second == "share", start + 2)}
    trail = [
        (row.actor, row.action)
        for row in firm.repo.audit_for_item(ItemKind.NOTE.value, note)
        if row.action in DONE
    ]
    assert trail[-2:] == [("admin", first), ("bea", second)]

    synced = portal_tui(firm_env(env, pg_url, service), "sync")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("Delivered ")
    assert_portal_holds_the_marks(service, firm.repo)

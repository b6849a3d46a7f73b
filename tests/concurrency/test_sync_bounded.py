"""`portal-tui sync` ends in bounded time however busy the staff are (docs/many-staff.md, "The
relay": it delivers the rows up to the outbox's high-water mark at its start, and the notices
it queues itself): while another process shares and unshares without a pause, faster than
any relay delivers, the sync exits 0 within BOUND_S, says what it did, and every row that
was pending when it started has been delivered. On SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from portal_tui.domain import OutboxState
from portal_tui.store.models import OutboxEntry

from ..delivery.support import Firm, Service, add_notes, deliver_all, wait_for
from .support import as_args, finish, firm_env, relay_client, start_child

BOUND_S = 30.0  # what `portal-tui sync` from cron may take while staff work
BACKLOG = 300  # rows pending when the sync starts


def _pending(firm: Firm) -> list[int]:
    with firm.repo.db.read() as s:
        return list(
            s.scalars(select(OutboxEntry.id).where(OutboxEntry.state == OutboxState.PENDING))
        )


def test_sync_ends_in_bounded_time_while_staff_share_without_a_pause(
    firm: Firm, database_url: str, service: Service, env: dict[str, str], tmp_path: Path
) -> None:
    notes = add_notes(firm, 16)
    client = relay_client(service, firm.repo)
    try:
        deliver_all(firm.repo, client)  # the matters and contacts: only shares are left
    finally:
        client.close()
    stop = tmp_path / "churn" / "stop"
    stop.parent.mkdir()
    churn = start_child(
        env,
        "churn",
        url=database_url,
        login="admin",
        items=as_args(notes),
        stop=str(stop),
        result=str(tmp_path / "churn.json"),
    )
    try:
        wait_for(lambda: len(_pending(firm)) >= BACKLOG, timeout=60, what="a backlog of shares")
        at_start = _pending(firm)
        started = time.monotonic()
        synced = subprocess.run(
            [sys.executable, "-m", "portal_tui", "sync"],
            env=firm_env(env, database_url, service),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=BOUND_S,
        )
        took = time.monotonic() - started
        assert churn.poll() is None, "the staff stopped sharing before the sync ended"
    finally:
        stop.touch()
    churned = finish(churn, tmp_path / "churn.json")
    assert churned["errors"] == [] and churned["changes"] > 0

    assert synced.returncode == 0, synced.stderr
    assert took < BOUND_S
    said = re.fullmatch(
        rf"Delivered (\d+) to {re.escape(service.base)}; 0 to retry, 0 failed; \d+ change\(s\) "
        r"from clients applied; (\d+) still pending\.\n",
        synced.stdout,
    )
    assert said, synced.stdout
    delivered, still = int(said.group(1)), int(said.group(2))
    assert delivered >= len(at_start)
    # The staff carried on meanwhile: what they shared after it began is the next pass's.
    assert still > 0
    with firm.repo.db.read() as s:
        states = set(s.scalars(select(OutboxEntry.state).where(OutboxEntry.id.in_(at_start))))
    assert states == {OutboxState.DELIVERED}

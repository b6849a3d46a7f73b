"""SIGTERM to `portal-tui sync --watch` in the middle of a batch (the portal has the request,
its answer not back yet): the relay exits promptly with status 0 (SIGTERM is how a service is
stopped cleanly), and hands back at once every row it had claimed — no claim left on them, due
now (docs/many-staff.md, "The relay") — so the next relay delivers them straight away instead
of waiting out the lease, each once. On a SQLite firm: test_relay_killed.py has the relays on
PostgreSQL."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from sqlalchemy import select

from portal_tui.domain import OutboxState
from portal_tui.repository.delivery import LEASE
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from ..delivery.support import (
    Firm,
    Service,
    add_notes,
    deliver_all,
    portal_tui,
    share_all,
)
from .support import (
    HeldPortal,
    applied_versions,
    firm_env,
    portal_items,
    relay_client,
    start_watch,
)

PROMPTLY_S = 5.0  # from SIGTERM to exit, with a request in flight


def _claims(firm: Firm) -> dict[int, str | None]:
    """Each pending row's claim."""
    with firm.repo.db.read() as s:
        rows = s.execute(
            select(OutboxEntry.id, OutboxEntry.claimed_by).where(
                OutboxEntry.state == OutboxState.PENDING
            )
        )
        return {row_id: claim for row_id, claim in rows}


def test_sigterm_mid_batch_stops_sync_watch_at_once_and_hands_its_rows_back(
    sqlite_firm: Firm, sqlite_url: str, service: Service, env: dict[str, str], tmp_path: Path
) -> None:
    firm, database_url = sqlite_firm, sqlite_url
    client = relay_client(service, firm.repo)
    try:
        deliver_all(firm.repo, client)  # the matters and contacts: only the shares are left
    finally:
        client.close()
    notes = add_notes(firm, 300)
    share_all(firm, notes)
    portal = HeldPortal(service)
    relay_env = {**firm_env(env, database_url, service), "PORTAL_TUI_PORTAL_URL": portal.base}
    try:
        watch = start_watch(relay_env, tmp_path, "watch")
        try:
            assert portal.in_flight.wait(60), "the relay never sent a batch"
            claimed = _claims(firm)
            assert len(claimed) >= len(notes) and None not in claimed.values()
            watch.send_signal(signal.SIGTERM)
            started = time.monotonic()
            watch.wait(timeout=30)
            took = time.monotonic() - started
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()
        assert watch.returncode == 0, (tmp_path / "watch.err").read_text()
        assert took < PROMPTLY_S
        assert (tmp_path / "watch.out").read_text().endswith("Stopped.\n")

        # Handed back: no claim on any of them, and due now, not once the lease runs out.
        handed_back = utcnow()
        assert _claims(firm) == dict.fromkeys(claimed)
        with firm.repo.db.read() as s:
            due = s.scalar(
                select(OutboxEntry.next_attempt_at)
                .where(OutboxEntry.state == OutboxState.PENDING)
                .order_by(OutboxEntry.next_attempt_at.desc())
                .limit(1)
            )
        assert due is not None and due <= handed_back

        # So the next relay takes them at once: well within the lease the killed one had.
        started = time.monotonic()
        synced = portal_tui(firm_env(env, database_url, service), "sync", timeout=60)
        assert synced.returncode == 0, synced.stderr
        assert time.monotonic() - started < LEASE.total_seconds()
        assert synced.stdout.endswith("; 0 still pending.\n"), synced.stdout
    finally:
        portal.close()

    held = portal_items(service)
    assert [held[("note", note)] for _, note in notes] == [(True, 1)] * len(notes)
    applied = applied_versions(service)
    assert [applied[("note", note, 1)] for _, note in notes] == [1] * len(notes)

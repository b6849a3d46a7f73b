"""SIGKILL of the app in the middle of a delivery pass (`portal-tui sync`, a process of its
own): once the killed pass's lease on its rows lapses, the next `portal-tui sync` delivers the
rest, each item once. On SQLite and on PostgreSQL firm databases (where the claims are
FOR UPDATE SKIP LOCKED, and the killed process's connection dies with it)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from portal_tui.domain import OutboxState, ShareState
from portal_tui.repository.delivery import LEASE_ENV
from portal_tui.repository.portal_client import PortalClient
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .support import (
    Firm,
    Service,
    activate_clients,
    add_notes,
    assert_one_email_each,
    assert_published_once,
    share_all,
    wait_for,
)


@pytest.fixture
def firm_url(migrated_url: str) -> str:
    return migrated_url


def test_app_killed_mid_delivery_then_synced_again_delivers_each_once(
    service: Service, firm: Firm, portal: PortalClient, firm_url: str, env: dict[str, str]
) -> None:
    activate_clients(firm, service, portal)
    items = add_notes(firm, 400)
    share_all(firm, items)
    sync_env = {
        **env,
        "PORTAL_TUI_DATABASE_URL": firm_url,
        "PORTAL_TUI_PORTAL_URL": service.base,
        "PORTAL_TUI_PORTAL_TOKEN": service.token,
        LEASE_ENV: "1",
    }
    command = [sys.executable, "-m", "portal_tui", "sync"]

    def delivered() -> int:
        with firm.repo.db.read() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.state == OutboxState.DELIVERED)
                )
                or 0
            )

    before = delivered()
    app = subprocess.Popen(
        command, env=sync_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            lambda: delivered() >= before + 100, timeout=60, what="the pass under way", every=0.01
        )
        app.send_signal(signal.SIGKILL)
    finally:
        app.kill()
        app.communicate()
    assert app.returncode == -signal.SIGKILL
    pending = firm.repo.pending_deliveries()
    assert 0 < pending < len(items), pending

    # The killed pass's claim on its rows lapses after the (shortened) lease.
    def due() -> bool:
        with firm.repo.db.read() as s:
            last = s.scalar(
                select(func.max(OutboxEntry.next_attempt_at)).where(
                    OutboxEntry.state == OutboxState.PENDING
                )
            )
        return last is not None and last <= utcnow()

    wait_for(due, timeout=10, what="the lease to lapse")
    again = subprocess.run(
        command, env=sync_env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    # What the killed pass left, and the batch's email notice after its last item.
    assert again.stdout.startswith(f"Delivered {pending + 1} to {service.base};"), again.stdout
    assert "; 0 still pending." in again.stdout

    assert firm.repo.pending_deliveries() == 0
    assert firm.repo.count_shared() == {ShareState.SHARED: len(items)}
    assert_published_once(service, items)
    assert_one_email_each(service, firm)

"""The firm's PostgreSQL server stopped and started again (`pg_ctl stop -m fast`, as an
administrator restarting it would) under a running `portal-tui sync --watch`: it says what is
wrong, a share tried meanwhile is refused with a clear message and leaves nothing behind, and
once the server is back everything carries on by itself; nothing is lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal_tui.domain import ItemKind, ShareState
from portal_tui.domain.decision import Unavailable
from portal_tui.store.models import AuditEntry, OutboxEntry

from ..conftest import OwnPostgres
from .support import Service, build_firm, wait_for

pytestmark = pytest.mark.postgres


def test_sync_watch_and_shares_ride_out_a_postgres_restart(
    env: dict[str, str], service: Service, own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    firm = build_firm(own_postgres.url, [1])
    matter = firm.matters[0]
    before = firm.repo.add_note(matter, subject="Shared before the restart", body=".")
    during = firm.repo.add_note(matter, subject="Tried while it was down", body=".")
    firm.repo.share(ItemKind.NOTE, before)
    watch_env = {
        **env,
        "PORTAL_TUI_DATABASE_URL": own_postgres.url,
        "PORTAL_TUI_PORTAL_URL": service.base,
        "PORTAL_TUI_PORTAL_TOKEN": service.token,
    }
    # Files, not pipes, so the test can read what it said while it runs.
    out_path, err_path = tmp_path / "watch.out", tmp_path / "watch.err"
    out, err = out_path.open("w"), err_path.open("w")
    watch = subprocess.Popen(
        [sys.executable, "-m", "portal_tui", "sync", "--watch"],
        env=watch_env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
    )
    try:
        wait_for(
            lambda: firm.repo.share_state(ItemKind.NOTE, before).state is ShareState.SHARED,
            timeout=30,
            what="the first share delivered by sync --watch",
        )
        with firm.repo.db.read() as s:
            audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
            outbox_before = s.scalar(select(func.count()).select_from(OutboxEntry))

        own_postgres.stop()
        with pytest.raises(Unavailable) as refused:
            firm.repo.share(ItemKind.NOTE, during)
        assert "cannot be reached" in refused.value.message
        assert "nothing was changed" in refused.value.message
        assert "\n" not in refused.value.message
        # sync --watch says so, once, and keeps running.
        wait_for(
            lambda: "cannot be reached" in err_path.read_text(),
            timeout=20,
            what="sync --watch to say the database cannot be reached",
        )
        assert watch.poll() is None

        own_postgres.start()
        # The same repository (its pool) works again by itself, and nothing half-done was
        # left by the refused share.
        wait_for(lambda: _answers(firm.repo), timeout=30, what="the database back")
        with firm.repo.db.read() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
            assert s.scalar(select(func.count()).select_from(OutboxEntry)) == outbox_before
        assert not firm.repo.share_state(ItemKind.NOTE, during).wanted
        firm.repo.share(ItemKind.NOTE, during)
        wait_for(
            lambda: firm.repo.share_state(ItemKind.NOTE, during).state is ShareState.SHARED,
            timeout=30,
            what="sync --watch to deliver a share made after the restart",
        )
        # Its batch's notice too: nothing of it left waiting.
        wait_for(
            lambda: firm.repo.pending_deliveries() == 0, timeout=30, what="the notices delivered"
        )
        # A pass is said once it is over (a row is seen delivered while its pass goes on).
        wait_for(
            lambda: "The portal and the firm database answer again." in out_path.read_text(),
            timeout=30,
            what="sync --watch to say the database answers again",
        )
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.wait(timeout=30)
        out.close()
        err.close()
        firm.close()
    assert watch.returncode == 0, err_path.read_text()
    assert out_path.read_text().rstrip().endswith("Stopped.")


def _answers(repo: object) -> bool:
    try:
        repo.ping()  # type: ignore[attr-defined]
    except Unavailable:
        time.sleep(0.2)
        return False
    return True

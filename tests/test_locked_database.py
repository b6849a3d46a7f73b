"""A locked firm database says at once that it is waiting, for what and for how long — not
only when it gives up 30 s later — and the command carries on as soon as the lock is gone."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from portal_tui.database import BUSY_TIMEOUT_MS
from portal_tui.domain import texts
from portal_tui.repository import Repository

from .delivery.support import clean_env


def test_sync_on_a_locked_firm_says_it_waits_then_carries_on(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    path = tmp_path / "data" / "firm.db"
    repo = Repository.open(f"sqlite:///{path}")
    repo.setup_firm("Hale & Forde LLP")
    repo.close()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE held_by_another_program (x INTEGER)")
    started = time.monotonic()
    sync = subprocess.Popen(
        [sys.executable, "-m", "portal_tui", "sync"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sync.stderr is not None
        line = sync.stderr.readline()
        said_after = time.monotonic() - started
        expected = texts.DATABASE_WAITING.format(
            label="firm database", place=path, seconds=BUSY_TIMEOUT_MS / 1000
        )
        assert line.rstrip("\n") == f"portal-tui: {expected}"
        assert said_after < 10, f"said after {said_after:.1f} s"
        holder.execute("ROLLBACK")
        holder.close()
        out, err = sync.communicate(timeout=60)
    finally:
        if sync.poll() is None:
            sync.kill()
    assert sync.returncode == 0, err
    assert out.startswith("Delivered ") and "0 still pending" in out

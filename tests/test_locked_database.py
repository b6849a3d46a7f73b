"""A locked firm database says at once that it is waiting, for what and for how long — not
only when it gives up 30 s later — and the command carries on as soon as the lock is gone."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from portal_tui.database import BUSY_TIMEOUT_MS, told_of_lock_waits
from portal_tui.domain import StaffRole, texts
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


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another program in the middle of a write: readers go on, writers wait."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE held_by_another_program (x INTEGER)")
    return holder


def test_a_write_that_waits_on_a_lock_is_told_at_once_and_then_goes_through(
    tmp_path: Path,
) -> None:
    path = tmp_path / "firm.db"
    repo = Repository.open(f"sqlite:///{path}")
    repo.setup_firm("Hale & Forde LLP")
    heard: list[tuple[float, str]] = []
    holder = _hold_write_lock(path)
    started = time.monotonic()
    try:
        with told_of_lock_waits(lambda notice: heard.append((time.monotonic(), notice))):
            writing = threading.Thread(
                target=repo.add_staff,
                args=("ada", "Ada Admin", "ada@firm.test", StaffRole.ADMIN),
            )
            writing.start()
            deadline = time.monotonic() + 10
            while not heard and time.monotonic() < deadline:
                time.sleep(0.05)
            assert heard, "nobody was told that the write waits"
            when, notice = heard[0]
            assert when - started < 5, f"told after {when - started:.1f} s"
            assert notice == texts.DATABASE_WAITING.format(
                label="firm database", place=path, seconds=BUSY_TIMEOUT_MS / 1000
            )
            assert writing.is_alive(), "the write gave up instead of waiting"
            holder.execute("ROLLBACK")
            writing.join(timeout=30)
        assert [s.login for s in repo.list_staff()] == ["ada"]
        assert len(heard) == 1
    finally:
        holder.close()
        repo.close()


def test_a_write_that_gets_its_lock_at_once_tells_nobody(tmp_path: Path) -> None:
    repo = Repository.open(f"sqlite:///{tmp_path / 'firm.db'}")
    heard: list[str] = []
    try:
        with told_of_lock_waits(heard.append):
            repo.setup_firm("Hale & Forde LLP")
            repo.add_staff("ada", "Ada Admin", "ada@firm.test", StaffRole.ADMIN)
    finally:
        repo.close()
    assert heard == []


def test_seed_on_a_firm_another_program_is_writing_says_it_waits_then_finishes(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path)
    path = tmp_path / "data" / "firm.db"
    repo = Repository.open(f"sqlite:///{path}")
    repo.setup_firm("Hale & Forde LLP")
    repo.close()

    holder = _hold_write_lock(path)
    seed = subprocess.Popen(
        [sys.executable, "-m", "portal_tui", "seed", "--matters", "3", "--activities", "6"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert seed.stderr is not None
        line = seed.stderr.readline()
        expected = texts.DATABASE_WAITING.format(
            label="firm database", place=path, seconds=BUSY_TIMEOUT_MS / 1000
        )
        assert line.rstrip("\n") == f"portal-tui: {expected}"
        assert seed.poll() is None, "the seed gave up instead of waiting"
        holder.execute("ROLLBACK")
        out, err = seed.communicate(timeout=60)
    finally:
        holder.close()
        if seed.poll() is None:
            seed.kill()
    assert seed.returncode == 0, err
    assert out.startswith("Wrote 3 matters and 6 activities")
    assert "Waiting for the firm database" not in err, "the notice is said once"

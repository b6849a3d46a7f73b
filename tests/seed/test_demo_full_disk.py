"""A demo seed that fails half-way — the disk full — ends in one clear message and leaves
the firm as it was, so that running it again (with space freed) simply works. A real
SQLITE_FULL: the firm file may not grow past a few pages (PRAGMA max_page_count)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from portal_tui.database import Database
from portal_tui.domain.decision import Unavailable
from portal_tui.seed.demo import seed_demo
from portal_tui.seed.scale import seed_scale
from portal_tui.store.models import Client, Matter, StaffUser


def _limit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA max_page_count=150")


def _counts(url: str) -> tuple[int, ...]:
    db = Database(url)
    try:
        with db.read() as s:
            return tuple(
                int(s.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Matter, Client, StaffUser)
            )
    finally:
        db.dispose()


def test_a_seed_that_runs_out_of_space_writes_nothing_and_can_be_run_again(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    Database(url).dispose()
    seed_demo(url, linked_root=tmp_path / "warm")  # the schema made, then thrown away
    (tmp_path / "firm.db").unlink()
    for side in ("firm.db-wal", "firm.db-shm"):
        (tmp_path / side).unlink(missing_ok=True)

    event.listen(Engine, "connect", _limit)
    try:
        with pytest.raises(Unavailable) as full:
            seed_demo(url, linked_root=tmp_path / "linked")
    finally:
        event.remove(Engine, "connect", _limit)
    assert "disk is full" in str(full.value)
    assert _counts(url) == (0, 0, 0)  # not 29 matters of a half-seeded firm

    seed_demo(url, linked_root=tmp_path / "linked")  # space freed: it simply runs again
    matters, clients, staff = _counts(url)
    assert matters > 0 and clients > 0 and staff > 0


def test_a_scale_seed_that_runs_out_of_space_writes_nothing_and_can_be_run_again(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    seed_scale(url, 2, 4, progress=False)  # a firm with its schema and a little data
    before = _counts(url)

    event.listen(Engine, "connect", _limit)
    try:
        with pytest.raises(Unavailable) as full:
            seed_scale(url, 400, 4_000, seed=2, progress=False)
    finally:
        event.remove(Engine, "connect", _limit)
    assert "disk is full" in str(full.value)
    assert _counts(url) == before  # none of the 400 matters half-written

    seed_scale(url, 400, 4_000, seed=2, progress=False)  # space freed: it simply runs again
    assert _counts(url)[0] == before[0] + 400

"""A fixed firm and a fixed world for the snapshots of the staff app.

The demo firm (seed 1) is written once per session into an SQLite file, with a clock that
ticks one second per call from a fixed instant (the repository stamps created_at and sent_at
as "now"); its shares are then delivered by a stand-in portal that refuses one file, and one
task is shared after that, so the lists show every state of the shared icon: shared, pending,
failed and blank. Each test opens a copy of that file. Times show in UTC; the app never
delivers, and nothing on screen moves by itself (no animations, no blinking cursor).
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind
from portal_tui.repository import Repository
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome, Rejected
from portal_tui.seed.demo import seed_demo
from portal_tui.seed.demo_data import DEMO_TODAY
from portal_tui.tui.app import PortalApp

FIXED_NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
STAFF_LOGIN = "admin"  # the demo's Administrator: every action is offered
OS_LOGIN = "demo"  # the staff user the demo adds for the OS login

# What the snapshots visit (demo seed 1).
MATTER = "2022-0017"  # Aisha Okafor: portal ON, items of every state
FORMS_MATTER = "2024-0012"  # Linda Park: the one matter with an intake form
OFF_MATTER = "2023-0009"  # Harold Smith [Deceased]: portal OFF
FAILED_FILE = "Research memo.txt"  # shared, then refused by the portal
PENDING_TASK = "Request medical records"  # shared after delivery: still pending
REFUSAL = "The portal refused the file: it is larger than the upload limit."


def _fixed_clock() -> Callable[[], datetime]:
    ticks = itertools.count()
    return lambda: FIXED_NOW + timedelta(seconds=next(ticks))


def _find(repo: Repository, kind: ItemKind, matter_id: int, name: str) -> int:
    for row in repo.list_items(kind, matter_id=matter_id, limit=100).rows:
        if name in (getattr(row, "title", None), getattr(row, "name", None)):
            return int(row.id)
    raise LookupError(f"no {kind.value} {name!r} on matter {matter_id}")


class _Portal:
    """Takes every delivery but one file, which it refuses for good."""

    def __init__(self, refused: int) -> None:
        self.refused = refused

    def deliver(self, message: OutboxMessage) -> Outcome:
        if message.kind == ItemKind.DOCUMENT.value and message.item_id == self.refused:
            return Rejected(REFUSAL)
        return Delivered()


def _every_share_state(url: str) -> None:
    admin = Repository.open(url, STAFF_LOGIN)
    try:
        matter = next(m for m in admin.list_matters(limit=100).rows if m.number == MATTER)
        memo = _find(admin, ItemKind.DOCUMENT, matter.id, FAILED_FILE)
        admin.share(ItemKind.DOCUMENT, memo)
        system = Repository(admin.db, None)
        while system.deliver_pending(_Portal(memo)).delivered:
            pass
        admin.share(ItemKind.TASK, _find(admin, ItemKind.TASK, matter.id, PENDING_TASK))
    finally:
        admin.close()


@pytest.fixture(scope="session")
def demo_firm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo firm, written once per run (xdist's workers share it); tests open copies."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this run's folder, above the workers' own
    root = base / "snapshot-firm"
    db = root / "firm.db"
    with FileLock(str(base / "snapshot-firm.lock")):
        if not db.exists():
            _write_demo_firm(root)
    return db


def _write_demo_firm(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    partial = root / "firm.db.partial"
    url = f"sqlite:///{partial}"
    clock = _fixed_clock()
    with pytest.MonkeyPatch.context() as mp:
        # Each module bound its own name for the clock: patch them all, while writing only.
        for name, module in list(sys.modules.items()):
            if name.startswith("portal_tui.") and hasattr(module, "utcnow"):
                mp.setattr(module, "utcnow", clock)
        # The demo adds the OS login as an Admin (so whoever runs it can use it at once): one
        # fixed login here, or Setup > Staff would show whoever ran the tests.
        mp.setattr("portal_tui.seed.demo._os_login", lambda: OS_LOGIN)
        seed_demo(url, 1, linked_root=root / "linked", today=DEMO_TODAY)
        _every_share_state(url)
    partial.rename(root / "firm.db")


@pytest.fixture(autouse=True)
def _fixed_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times on screen are shown in local time: make that UTC, whatever the machine says;
    colours on, whatever the shell running the tests says (a test sets NO_COLOR itself)."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def firm_url(demo_firm: Path, tmp_path: Path) -> str:
    """A copy of the demo firm for one test (a share changes it)."""
    copy = tmp_path / "firm.db"
    shutil.copyfile(demo_firm, copy)
    return f"sqlite:///{copy}"


MakeApp = Callable[..., PortalApp]


@pytest.fixture
def make_app(firm_url: str) -> MakeApp:
    """`make_app(ascii_only=False, cls=PortalApp)`: the staff app on the test's firm, as the
    Administrator, delivering nothing, without animations."""

    def make(*, ascii_only: bool = False, cls: type[PortalApp] = PortalApp, **kw: Any) -> PortalApp:
        app = cls(
            # The copy's schema is current: open it without the migration check, for speed.
            lambda: Repository(Database(firm_url), STAFF_LOGIN),
            ascii_only=ascii_only,
            deliver=False,
            **kw,
        )
        app.animation_level = "none"
        return app

    return make

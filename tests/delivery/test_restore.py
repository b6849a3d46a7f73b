"""`portal-tui backup` and `portal-tui restore` against a real portal: a restored firm is the
portal's truth again, although its versions are older than what the portal holds — an item
shared after the backup is gone from the portal, one unshared after it is back."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal_tui import presence
from portal_tui.database import Database
from portal_tui.domain import ItemKind, ShareState
from portal_tui.repository import Repository
from portal_tui.service.models import PortalItem
from portal_tui.store.models import AuditEntry, OutboxEntry, ShareMark

from .support import Firm, Service, build_firm, portal_tui


def _with(env: dict[str, str], **settings: str) -> dict[str, str]:
    return {**env, **{f"PORTAL_TUI_{k.upper()}": v for k, v in settings.items()}}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_firm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Firm, str]]:
    """The delivery tests' firm, on SQLite and on PostgreSQL (backed up with pg_dump)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'firm.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    built = build_firm(url, [2, 1])
    try:
        yield built, url
    finally:
        built.close()


def _portal(service: Service) -> dict[tuple[str, int], bool]:
    db = Database(service.database_url)
    try:
        with db.read() as s:
            return {
                (item.kind, item.item_id): item.published for item in s.scalars(select(PortalItem))
            }
    finally:
        db.dispose()


def _marks(repo: Repository) -> dict[tuple[str, int], bool]:
    with repo.db.read() as s:
        return {(m.kind.value, m.item_id): m.wanted for m in s.scalars(select(ShareMark))}


def _sync(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    run = portal_tui(env, "sync")
    assert run.returncode == 0, run.stderr
    return run


def test_restoring_an_older_backup_makes_the_portal_hold_what_the_restored_firm_shares(
    env: dict[str, str], service: Service, any_firm: tuple[Firm, str], tmp_path: Path
) -> None:
    firm, url = any_firm
    env = _with(env, database_url=url, portal_url=service.base, portal_token=service.token)
    matter = firm.matters[0]
    early = firm.repo.add_note(matter, subject="Shared before the backup", body=".")
    late = firm.repo.add_note(matter, subject="Shared after the backup", body=".")
    kept = firm.repo.add_note(matter, subject="Shared all along", body=".")
    firm.repo.share(ItemKind.NOTE, early)
    firm.repo.share(ItemKind.NOTE, kept)
    _sync(env)

    made = portal_tui(env, "backup")  # into the data folder's backups/
    assert made.returncode == 0, made.stderr
    assert "Wrote a backup of" in made.stdout
    folder = Path(env["PORTAL_TUI_DATA_DIR"]) / "backups"
    (backup,) = folder.iterdir()
    assert backup.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700

    # After the backup: one more shared, one unshared, both delivered: the portal's versions of
    # them are newer than anything the backup holds.
    firm.repo.share(ItemKind.NOTE, late)
    firm.repo.unshare(ItemKind.NOTE, early)
    _sync(env)
    note = ItemKind.NOTE.value
    assert _portal(service) == {(note, early): False, (note, late): True, (note, kept): True}
    epoch_before = firm.repo.firm_identity()
    assert epoch_before is not None
    firm.repo.close()

    restored = portal_tui(env, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "a reset, 2 shared item(s) sent again" in restored.stdout
    assert "kept at" in restored.stdout
    firm.repo = Repository(Repository.open(url).db, "admin")
    after = firm.repo.firm_identity()
    assert after is not None
    assert after.firm_id == epoch_before.firm_id  # the same firm
    assert after.epoch > epoch_before.epoch
    _sync(env)

    # Exactly what the restored firm shares: the one unshared after the backup is back, the
    # one shared after it is gone.
    portal = _portal(service)
    assert portal[(note, early)] is True and portal[(note, kept)] is True
    assert portal.get((note, late), False) is False
    assert {key for key, shared in portal.items() if shared} == {
        key for key, wanted in _marks(firm.repo).items() if wanted
    }
    assert firm.repo.count_shared() == {ShareState.SHARED: 2}
    with firm.repo.db.read() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "firm.restore")) == 1
    # And the portal takes the restored firm's next unshare, at its own (lower) versions.
    firm.repo.unshare(ItemKind.NOTE, kept)
    _sync(env)
    assert _portal(service)[(note, kept)] is False


def test_a_restore_is_refused_while_the_firm_is_open_and_changes_nothing(
    env: dict[str, str], firm: Firm, firm_url: str, tmp_path: Path
) -> None:
    env = _with(env, database_url=firm_url)
    made = portal_tui(env, "backup", str(tmp_path / "copy.db"))
    assert made.returncode == 0, made.stderr
    note = firm.repo.add_note(firm.matters[0], subject="Written after the backup", body=".")
    # The staff app (or a sync) has the firm open.
    with presence.held(firm.repo.db):
        refused = portal_tui(env, "restore", str(tmp_path / "copy.db"))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "cannot be restored now" in refused.stderr and "close every app" in refused.stderr
    assert firm.repo.item_row(ItemKind.NOTE, note).id == note  # untouched


def test_a_backup_of_another_firm_or_no_backup_at_all_is_refused(
    env: dict[str, str], firm: Firm, firm_url: str, tmp_path: Path
) -> None:
    env = _with(env, database_url=firm_url)
    other = build_firm(f"sqlite:///{tmp_path / 'other.db'}", [1])
    other.close()
    refused = portal_tui(env, "restore", str(tmp_path / "other.db"))
    assert refused.returncode == 2
    assert "That backup is of another firm" in refused.stderr
    garbage = tmp_path / "notes.txt"
    garbage.write_text("Dear client,")
    refused = portal_tui(env, "restore", str(garbage))
    assert refused.returncode == 2
    assert "is not a portal-tui backup" in refused.stderr
    assert firm.repo.firm_name()  # the firm is as it was


WRITER = textwrap.dedent(
    """
    import random, sys, time
    from portal_tui.domain import ItemKind, Refused
    from portal_tui.repository import Repository
    from portal_tui.database import Database

    url, seconds, notes = sys.argv[1], float(sys.argv[2]), [int(n) for n in sys.argv[3:]]
    repo = Repository(Database(url), "admin")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        note = random.choice(notes)
        try:
            if repo.share_state(ItemKind.NOTE, note).wanted:
                repo.unshare(ItemKind.NOTE, note)
            else:
                repo.share(ItemKind.NOTE, note)
        except Refused:
            pass
    """
)


def test_a_backup_taken_while_four_staff_share_restores_a_consistent_firm(
    env: dict[str, str], service: Service, firm: Firm, firm_url: str, tmp_path: Path
) -> None:
    env = _with(env, database_url=firm_url, portal_url=service.base, portal_token=service.token)
    notes = [
        firm.repo.add_note(firm.matters[n % 3], subject=f"Busy {n}", body=".") for n in range(8)
    ]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, firm_url, "6", *map(str, notes)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        time.sleep(2)
        made = portal_tui(env, "backup", str(tmp_path / "busy.db"))
    finally:
        for writer in writers:
            _, err = writer.communicate(timeout=60)
            assert writer.returncode == 0, err
    assert made.returncode == 0, made.stderr

    copy = sqlite3.connect(tmp_path / "busy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # One snapshot: every mark is at the version of its item's newest outbox row.
        marks = dict(copy.execute("SELECT item_id, version FROM share_marks").fetchall())
        rows = dict(
            copy.execute(
                "SELECT item_id, max(version) FROM outbox WHERE kind = 'note' GROUP BY item_id"
            ).fetchall()
        )
    finally:
        copy.close()
    assert marks and marks == rows

    _sync(env)
    firm.repo.close()
    restored = portal_tui(env, "restore", str(tmp_path / "busy.db"))
    assert restored.returncode == 0, restored.stderr
    firm.repo = Repository(Repository.open(firm_url).db, "admin")
    _sync(env)
    assert firm.repo.pending_deliveries() == 0
    published = {key for key, shared in _portal(service).items() if shared}
    assert published == {key for key, wanted in _marks(firm.repo).items() if wanted}
    with firm.repo.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) > 0

"""Another program holds the firm's SQLite file mid-write while staff share: the app says at
once that it waits, for what and for how long, and the share goes through once the lock is
gone (it is not refused and nothing is lost)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from portal_tui.database import BUSY_TIMEOUT_MS
from portal_tui.domain import ItemKind, texts
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.modals import Notice

from .helpers import ADMIN, SIZE, build_firm, dialog
from .pilot import matter_section, move_to, open_matter, screen_of, started, until


def _toasts(app: PortalApp) -> list[str]:
    """What the toasts on screen say, as the staff member reads it."""
    return [" ".join(str(toast.render()).split()) for toast in app.screen.query("Toast")]


async def test_a_share_waiting_on_another_programs_lock_says_so_then_goes_through(
    tmp_path: Path,
) -> None:
    firm = build_firm(tmp_path)
    path = tmp_path / "firm.db"
    try:
        app = firm.app(ADMIN)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await started(app, pilot)
            await open_matter(pilot, firm.on_matter)
            table = await matter_section(pilot, "billing")
            await move_to(pilot, table, firm.final_invoice)

            holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("CREATE TABLE held_by_another_program (x INTEGER)")
            try:
                await pilot.press("s")
                expected = texts.DATABASE_WAITING.format(
                    label="firm database", place=path, seconds=BUSY_TIMEOUT_MS / 1000
                )
                await until(
                    pilot,
                    lambda: expected in _toasts(app),
                    "the app to say it waits on the lock",
                )
                assert not firm.share(ItemKind.INVOICE, firm.final_invoice).wanted
            finally:
                await asyncio.to_thread(holder.execute, "ROLLBACK")
                holder.close()
            await screen_of(pilot, Notice)
            assert dialog(app)[1] == "Invoice has been shared successfully."
            await pilot.press("enter")
        assert firm.share(ItemKind.INVOICE, firm.final_invoice).wanted
    finally:
        firm.system.close()

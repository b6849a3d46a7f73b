"""The firm's PostgreSQL server restarted under a running app: the status line says
"Reconnecting", a share tried meanwhile is refused with a clear message and changes nothing,
the app never ends on it, and once the server is back it carries on by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Static

from portal_tui.domain import ItemKind
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.modals import Notice

from ..conftest import OwnPostgres
from .helpers import ADMIN, SIZE, build_firm, dialog
from .pilot import matter_section, move_to, open_matter, screen_of, started, until

pytestmark = pytest.mark.postgres


def _status(app: PortalApp) -> str:
    return str(app.screen.query_one("#status", Static).content)


async def test_the_app_says_reconnecting_refuses_shares_and_carries_on_after_a_restart(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    firm = build_firm(tmp_path, url=own_postgres.url)
    try:
        app = firm.app(ADMIN)
        async with app.run_test(size=SIZE) as pilot:
            await started(app, pilot)
            await open_matter(pilot, firm.on_matter)
            table = await matter_section(pilot, "billing")
            await move_to(pilot, table, firm.final_invoice)

            await asyncio.to_thread(own_postgres.stop)
            await pilot.press("s")
            await screen_of(pilot, Notice)
            _, message = dialog(app)
            assert "cannot be reached" in message and "nothing was changed" in message
            await pilot.press("enter")
            # A list read while the server is away does not end the app: it says so.
            table.reload()
            await until(pilot, lambda: _status(app).startswith("Reconnecting:"), "Reconnecting")
            assert "shares and changes are refused; nothing is lost" in _status(app)
            assert app.is_running and app.return_code is None

            await asyncio.to_thread(own_postgres.start)
            await until(
                pilot,
                lambda: not _status(app).startswith("Reconnecting"),
                "the app to find the database again",
                timeout=30,
            )
            assert not firm.share(ItemKind.INVOICE, firm.final_invoice).wanted
            await move_to(pilot, table, firm.final_invoice)
            await pilot.press("s")
            await screen_of(pilot, Notice)
            assert dialog(app)[1] == "Invoice has been shared successfully."
            await pilot.press("enter")
        assert firm.share(ItemKind.INVOICE, firm.final_invoice).wanted
    finally:
        firm.system.close()

"""The app with delivery on: the embedded portal starts on loopback under a temporary data
folder, and a share goes from pending to shared by itself, with no key pressed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from portal_tui.config import load_settings
from portal_tui.domain import ItemKind, ShareState, texts
from portal_tui.tui.common.modals import Notice
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import ADMIN, SIZE, TuiFirm, cell, dialog, screen_text
from .pilot import activities, move_to, screen_of, started, until

DELIVERY_DEADLINE_S = 30.0


async def test_s0_s1_delivery_turns_pending_into_shared_without_user_action(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = load_settings(
        flags={},
        env={"PORTAL_TUI_DATA_DIR": str(data), "PORTAL_TUI_CONFIG": str(tmp_path / "none.toml")},
    )
    assert settings.portal_url is None  # the embedded portal, on loopback
    app = tui_firm.app(settings=settings, deliver=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await until(
            pilot,
            lambda: app.delivery is not None or app.delivery_problem,
            "the embedded portal to start",
            DELIVERY_DEADLINE_S,
        )
        assert app.delivery_problem is None, app.delivery_problem
        assert app.delivery is not None

        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.final_invoice)
        await pilot.press("s")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.INVOICE_SHARED
        await pilot.press("enter")
        await screen_of(pilot, MainScreen)
        icon = cell(invoices, tui_firm.final_invoice, "share")
        assert icon in (app.glyphs.pending, app.glyphs.shared)

        # No key from here on: the delivery thread reports, the list refreshes itself.
        await until(
            pilot,
            lambda: cell(invoices, tui_firm.final_invoice, "share") == app.glyphs.shared,
            "the shared icon",
            DELIVERY_DEADLINE_S,
        )
        share = tui_firm.share(ItemKind.INVOICE, tui_firm.final_invoice)
        assert share.wanted and share.state is ShareState.SHARED

        # Unshare: taken off the portal, and the icon goes, again by itself.
        await pilot.press("s")
        await until(
            pilot,
            lambda: cell(invoices, tui_firm.final_invoice, "share") == " ",
            "the icon to go",
            DELIVERY_DEADLINE_S,
        )
        share = tui_firm.share(ItemKind.INVOICE, tui_firm.final_invoice)
        assert not share.wanted and share.state is not ShareState.PENDING
        assert tui_firm.invoice_status(tui_firm.final_invoice).value == "final"
        assert app.delivery_problem is None


async def test_an_import_from_another_process_shows_in_the_open_list_by_itself(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    """Another staff user's command (here `portal-tui import`, a process of its own) changes
    the firm: the app's open list shows it within a delivery poll, no key pressed."""
    data = tmp_path / "data"
    env = {"PORTAL_TUI_DATA_DIR": str(data), "PORTAL_TUI_CONFIG": str(tmp_path / "none.toml")}
    settings = load_settings(flags={}, env=env)
    invoices_csv = tmp_path / "invoices.csv"
    invoices_csv.write_text(
        "Invoice Number,Matter,Invoice Date,Total\nINV-7001,2026-0003,2026-04-01,125.00\n",
        encoding="utf-8",
    )
    app = tui_firm.app(settings=settings, deliver=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await until(pilot, lambda: app.delivery is not None, "delivery", DELIVERY_DEADLINE_S)
        invoices = await activities(pilot, ItemKind.INVOICE)
        assert "INV-7001" not in screen_text(app)
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "portal_tui",
                "import",
                "invoices",
                str(invoices_csv),
                "--apply",
            ],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_TUI_")},
                **env,
                "PORTAL_TUI_DATABASE_URL": tui_firm.url,
                "PORTAL_TUI_STAFF_USER": ADMIN,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        await until(pilot, lambda: "INV-7001" in screen_text(app), "the imported invoice", 15.0)
        assert invoices.has_focus  # the list read again where it was, the focus kept

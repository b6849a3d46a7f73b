"""The app with delivery on: the embedded portal starts on loopback under a temporary data
folder, and a share goes from pending to shared by itself, with no key pressed."""

from __future__ import annotations

from pathlib import Path

from portal_tui.config import load_settings
from portal_tui.domain import ItemKind, ShareState, texts
from portal_tui.tui.common.modals import Notice
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import SIZE, TuiFirm, cell, dialog
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

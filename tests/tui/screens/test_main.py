"""The main screen: the Matters list with the portal icon (M3), client data shown literally,
and opening a matter by keyboard and by mouse."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from portal_tui.domain import ItemKind
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen

from ..helpers import ADMIN, SIZE, TuiFirm, cell, ids, row_index, screen_text
from ..pilot import (
    activities,
    loaded,
    matter_section,
    open_matter,
    screen_of,
    shown,
    started,
    until,
)


@pytest.mark.parametrize("ascii_only", [False, True], ids=["unicode", "ascii"])
async def test_m3_portal_icon_left_of_the_client_name_only_when_portal_on(
    tui_firm: TuiFirm, ascii_only: bool
) -> None:
    app = tui_firm.app(ascii_only=ascii_only)
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        icon = app.glyphs.portal
        assert icon == ("P" if ascii_only else "◆")
        assert cell(matters, tui_firm.on_matter, "Client") == f"{icon} Ada Byrne"
        assert cell(matters, tui_firm.narrow_matter, "Client") == f"{icon} Carla Diaz"
        off = cell(matters, tui_firm.off_matter, "Client")
        assert off == "  Smith [Deceased]"
        assert icon not in off
        # The client column comes after the number, as in the seed's list; the icon is in it.
        headers = [c.label.plain for c in matters.columns.values()]
        assert headers.index("Client") == headers.index("Number") + 1


async def test_m3_icon_follows_the_matter_switch(tui_firm: TuiFirm) -> None:
    repo = tui_firm.repo(ADMIN)
    repo.set_matter_portal(tui_firm.off_matter, True)
    repo.set_matter_portal(tui_firm.on_matter, False, confirmed=True)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        assert cell(matters, tui_firm.off_matter, "Client") == "◆ Smith [Deceased]"
        assert cell(matters, tui_firm.on_matter, "Client") == "  Ada Byrne"


async def test_client_data_is_escaped(tui_firm: TuiFirm) -> None:
    """ "Smith [Deceased]" and "[b]bold[/b]" are client data, not markup: shown as typed."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        assert cell(matters, tui_firm.off_matter, "Client").strip() == "Smith [Deceased]"
        await shown(pilot, "Smith [Deceased]")

        notes = await activities(pilot, ItemKind.NOTE)
        assert cell(notes, tui_firm.off_note, "Subject") == "[b]bold[/b]"
        assert cell(notes, tui_firm.off_note, "Note") == "[red]not red[/red]"
        text = screen_text(app)
        assert "[b]bold[/b]" in text
        assert "[red]not red[/red]" in text

        invoices = await activities(pilot, ItemKind.INVOICE)
        assert cell(invoices, tui_firm.off_invoice, "Client") == "Smith [Deceased]"
        await shown(pilot, "Smith [Deceased]")

        details = await open_matter(pilot, tui_firm.off_matter)
        summary = details.query_one("#summary", Static)
        await until(pilot, lambda: "Smith" in str(summary.content), "the matter's summary")
        assert "Client: Smith [Deceased]" in str(summary.content)
        await pilot.pause()
        await shown(pilot, "Client: Smith [Deceased]")


async def test_matters_open_by_enter_and_by_double_click_and_esc_goes_back(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        details = await open_matter(pilot, tui_firm.narrow_matter)
        assert details.matter_id == tui_firm.narrow_matter
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)

        # A single click only highlights; a double-click opens, once.
        depth = len(app.screen_stack)
        y = 1 + row_index(matters, tui_firm.off_matter)
        assert await pilot.click(matters, offset=(4, y))
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert matters.current is not None and matters.current.id == tui_firm.off_matter
        assert await pilot.click(matters, offset=(4, y))
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "a second single click only highlights"
        assert await pilot.double_click(matters, offset=(20, y))
        details = await screen_of(pilot, MatterDetails)
        assert details.matter_id == tui_firm.off_matter
        assert len(app.screen_stack) == depth + 1
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)
        assert len(app.screen_stack) == depth


async def test_esc_clears_the_filter_first_then_goes_back(tui_firm: TuiFirm) -> None:
    """In a Matter Details list, Esc closes a filter in use; with none, it goes back one
    level: to the matter's tab list, then out of the matter."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        invoices = await matter_section(pilot, "billing")
        await pilot.press("slash")
        await pilot.press(*"0002")
        await until(pilot, lambda: ids(invoices) == [tui_firm.draft_invoice], "the filter")
        await pilot.press("escape")
        await until(pilot, lambda: len(ids(invoices)) == 2, "the filter to clear")
        assert isinstance(app.screen, MatterDetails)
        assert invoices.has_focus
        await pilot.press("escape")
        await until(pilot, lambda: app.focused is app.screen.query_one("#matter-nav"), "tabs")
        assert isinstance(app.screen, MatterDetails)
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)


async def test_a_list_reloading_on_a_screen_beneath_leaves_the_status_line_alone(
    tui_firm: TuiFirm,
) -> None:
    """Delivery and the portal switch re-read every list shown, the Matters list beneath
    Matter Details among them: the status line must keep saying where the user is."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        await matter_section(pilot, "notes")
        where = app.location
        assert where.startswith("Matter Details")
        matters.loaded.clear()
        matters.reload()
        await loaded(matters, pilot)
        status = app.screen.query_one("#status", Static)
        assert str(status.content).startswith("Matter Details")
        assert "Matters >" not in str(status.content)

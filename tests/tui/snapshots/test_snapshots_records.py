"""SVG snapshots of the screens where staff keep clients, matters and contacts, at 80x24 and
120x40 on the demo firm: New matter, choosing its client, Edit matter, Setup > Clients with its
New client box, and Edit Contact; and each drawn in ASCII mode with nothing outside ASCII.

After a deliberate change of the look: `pytest tests/tui/snapshots/test_snapshots_records.py
--snapshot-update`, then look at the new SVGs before keeping them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.matter.edit_contact import EditContact
from portal_tui.tui.matters.client_picker import ClientPicker
from portal_tui.tui.matters.matter_form import MatterForm
from portal_tui.tui.setup.client_form import ClientForm
from portal_tui.tui.setup.clients_pane import ClientsPane
from portal_tui.tui.setup.setup_pane import SETUP_SECTIONS

from ..pilot import ASKING, portal_app, press_until, settle, start, until, waited
from .conftest import MakeApp
from .test_snapshots import SIZES, drawn_text
from .test_snapshots_matter_portal import PANE_ASKING, portal_pane

AnyPilot = Pilot[Any]
Steps = Callable[[AnyPilot], Awaitable[None]]

# Flows that wait on a box the user has not answered yet: never waited for.
RECORDS_ASKING = ASKING | {"matter-form", "matter-client", "client-edit", "picker-new"}


async def _new_matter(pilot: AnyPilot) -> None:
    await start(pilot)
    await press_until(pilot, "n", MatterForm, "the New matter screen", RECORDS_ASKING)
    await settle(pilot, RECORDS_ASKING)


async def _client_picker(pilot: AnyPilot) -> None:
    await _new_matter(pilot)
    portal_app(pilot).screen.query_one("#matter-client").focus()
    await press_until(pilot, "enter", ClientPicker, "the client picker", RECORDS_ASKING)
    picker = portal_app(pilot).screen
    await waited(picker.query_one(ItemTable).loaded)
    await pilot.press(*"ok")  # filtered as typed: Okafor
    await until(
        pilot,
        lambda: (
            picker.query_one(ItemTable).loaded.is_set()
            and all("ok" in r.name.lower() for r in picker.query_one(ItemTable).rows_shown)
        ),
        "the filtered list",
    )
    await settle(pilot, RECORDS_ASKING)


async def _edit_matter(pilot: AnyPilot) -> None:
    await start(pilot)
    await press_until(pilot, "e", MatterForm, "the Edit matter screen", RECORDS_ASKING)
    await settle(pilot, RECORDS_ASKING)


async def _clients(pilot: AnyPilot) -> None:
    await start(pilot)
    await pilot.press("3")
    app = portal_app(pilot)
    nav = app.screen.query_one("#setup-nav", OptionList)
    index = [key for key, _, _ in SETUP_SECTIONS].index("clients")
    while nav.highlighted != index:
        await pilot.press("down" if (nav.highlighted or 0) < index else "up")
    await pilot.press("enter")
    pane = app.screen.query_one(ClientsPane)
    await until(pilot, lambda: pane.table.has_focus, "the focus in the clients list")
    await waited(pane.table.loaded)
    await settle(pilot, RECORDS_ASKING)


async def _new_client(pilot: AnyPilot) -> None:
    await _clients(pilot)
    await press_until(pilot, "a", ClientForm, "the New client box", RECORDS_ASKING)
    await settle(pilot, RECORDS_ASKING)


async def _edit_contact(pilot: AnyPilot) -> None:
    await portal_pane(pilot)
    await press_until(pilot, "e", EditContact, "the Edit Contact box", PANE_ASKING)
    await settle(pilot, PANE_ASKING)


SCREENS: dict[str, Steps] = {
    "matter-new": _new_matter,
    "matter-client-picker": _client_picker,
    "matter-edit": _edit_matter,
    "clients": _clients,
    "client-new": _new_client,
    "contact-edit": _edit_contact,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_records_screen(name: str, size: str, make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SCREENS[name])


@pytest.mark.parametrize("name", SCREENS)
async def test_records_screens_draw_only_ascii_in_ascii_mode(name: str, make_app: MakeApp) -> None:
    app = make_app(ascii_only=True)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await SCREENS[name](pilot)
        text = drawn_text(app)
        assert not sorted({ch for ch in text if ord(ch) >= 128}), text

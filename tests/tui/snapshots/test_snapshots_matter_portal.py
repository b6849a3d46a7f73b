"""SVG snapshots of Matter Details > Client Portal, its Invite Contact box and Preview as
client, at 80x24 and 120x40 (and the pane in ASCII mode), on the demo firm of conftest.py.

After a deliberate change of the look: `pytest tests/tui/snapshots/test_snapshots_matter_portal.py
--snapshot-update`, then look at the new SVGs before keeping them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from portal_tui.database import Database
from portal_tui.repository import Repository
from portal_tui.tui.matter.client_preview import ClientPreview
from portal_tui.tui.matter.invite_contact import InviteContact
from portal_tui.tui.matter.matter_portal import MatterPortal

from ..pilot import ASKING, open_section, portal_app, press_until, settle, waited
from .conftest import MATTER, STAFF_LOGIN, MakeApp
from .test_snapshots import SIZES, drawn_text

AnyPilot = Pilot[Any]
Steps = Callable[[AnyPilot], Awaitable[None]]

NO_EMAIL_MATTER = "2024-0033"  # Emily Foster, a client with no email on file; portal OFF

# The pane's flows that wait on a box the user has not answered yet: never waited for.
PANE_ASKING = ASKING | {"portal-contact", "portal-switch", "portal-perms", "portal-party"}


async def portal_pane(pilot: AnyPilot, number: str = MATTER) -> MatterPortal:
    await open_section(pilot, "portal", number)
    pane = portal_app(pilot).screen.query_one(MatterPortal)
    await waited(pane.loaded)
    await settle(pilot, PANE_ASKING)
    return pane


async def _pane(pilot: AnyPilot) -> None:
    await portal_pane(pilot)


async def _invite(pilot: AnyPilot) -> None:
    pane = await portal_pane(pilot, NO_EMAIL_MATTER)
    pane.query_one("#portal-invite").focus()
    await press_until(pilot, "enter", InviteContact, "the Invite Contact box", PANE_ASKING)


async def _preview(pilot: AnyPilot) -> None:
    await portal_pane(pilot)
    await press_until(pilot, "p", ClientPreview, "Preview as client", PANE_ASKING)
    preview = portal_app(pilot).screen
    assert isinstance(preview, ClientPreview)
    await waited(preview.loaded)
    await settle(pilot, PANE_ASKING)


SCREENS: dict[str, Steps] = {"portal": _pane, "invite-contact": _invite, "preview": _preview}


@pytest.fixture
def foster_portal_on(firm_url: str) -> None:
    """Emily Foster's matter with its portal ON, so that she can be invited (M1)."""
    repo = Repository(Database(firm_url), STAFF_LOGIN)
    try:
        matter = next(m for m in repo.list_matters(limit=100).rows if m.number == NO_EMAIL_MATTER)
        repo.set_matter_portal(matter.id, True)
    finally:
        repo.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.usefixtures("foster_portal_on")
def test_matter_portal_screen(name: str, size: str, make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SCREENS[name])


@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.usefixtures("foster_portal_on")
def test_matter_portal_ascii(name: str, make_app: MakeApp, snap_compare: Any) -> None:
    app = make_app(ascii_only=True)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=SCREENS[name])


@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.usefixtures("foster_portal_on")
async def test_matter_portal_draws_only_ascii_in_ascii_mode(name: str, make_app: MakeApp) -> None:
    app = make_app(ascii_only=True)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await SCREENS[name](pilot)
        text = drawn_text(app)
        assert not sorted({ch for ch in text if ord(ch) >= 128}), text

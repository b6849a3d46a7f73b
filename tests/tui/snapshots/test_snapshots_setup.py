"""SVG snapshots of Setup's screens at 80x24 and 120x40: Firm Settings > Client Portal (as the
Administrator, as a Billing user, and its F6 question), Intake Forms, the form editor with
its field box and its matter picker, and Staff (R1) with its Add box. The baselines live in
__snapshots__/test_snapshots_setup/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TextArea

from portal_tui.database import Database
from portal_tui.repository import Repository
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.modals import Confirm
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.setup.firm_portal_settings import FirmPortalSettings
from portal_tui.tui.setup.intake_form_editor import (
    FieldEditor,
    FieldsTable,
    IntakeFormEditor,
    MatterPicker,
)
from portal_tui.tui.setup.intake_forms_pane import IntakeFormsPane
from portal_tui.tui.setup.setup_pane import SETUP_SECTIONS
from portal_tui.tui.setup.staff_form import StaffForm
from portal_tui.tui.setup.staff_pane import StaffPane

from ..pilot import portal_app, settle, start, until, waited
from .conftest import MakeApp
from .test_snapshots import SIZES, drawn_text

AnyPilot = Pilot[Any]
Steps = Callable[[AnyPilot], Awaitable[None]]

BILLING_LOGIN = "bbilling"  # the demo's Billing user (F1)
QUESTIONNAIRE = "Estate Planning Questionnaire"  # the demo's associate form
CHOICE_FIELD = 4  # its "Marital status", a choice field


# Workers that wait on a box the user has not answered yet: never waited for.
SETUP_ASKING = frozenset({"edit", "firm-save", "staff-edit"})


async def setup_section(pilot: AnyPilot, index: int) -> None:
    """`3`, then the arrows to one entry of Setup's navigation."""
    await start(pilot)
    await pilot.press("3")
    nav = portal_app(pilot).screen.query_one("#setup-nav", OptionList)
    while nav.highlighted != index:
        await pilot.press("down" if (nav.highlighted or 0) < index else "up")


async def firm_portal(pilot: AnyPilot) -> None:
    """`3`, then Enter: the firm's settings, the focus on the first one it may change."""
    await setup_section(pilot, 0)
    panel = portal_app(pilot).screen.query_one(FirmPortalSettings)
    await waited(panel.loaded)
    await pilot.press("enter")
    await settle(pilot, SETUP_ASKING)


async def intake_forms(pilot: AnyPilot) -> None:
    await setup_section(pilot, 1)
    await pilot.press("enter")
    pane = portal_app(pilot).screen.query_one(IntakeFormsPane)
    await until(pilot, lambda: pane.table.has_focus, "the focus in the list")
    await waited(pane.table.loaded)
    await settle(pilot, SETUP_ASKING)


async def on_top(pilot: AnyPilot, screen: type, what: str) -> Any:
    await until(pilot, lambda: isinstance(pilot.app.screen, screen), what)
    await settle(pilot, SETUP_ASKING)
    return pilot.app.screen


SCREENS: dict[str, Steps] = {}


def screen(name: str) -> Callable[[Steps], Steps]:
    def register(steps: Steps) -> Steps:
        SCREENS[name] = steps
        return steps

    return register


@screen("firm-portal")
async def _firm_portal(pilot: AnyPilot) -> None:
    await firm_portal(pilot)


@screen("firm-portal-off-question")
async def _firm_off(pilot: AnyPilot) -> None:
    """F6: Space on the firm switch asks before the portal goes OFF."""
    await firm_portal(pilot)
    await pilot.press("space")
    await on_top(pilot, Confirm, "the F6 question")


@screen("intake-forms")
async def _intake_forms(pilot: AnyPilot) -> None:
    await intake_forms(pilot)


@screen("intake-form-add")
async def _add(pilot: AnyPilot) -> None:
    await intake_forms(pilot)
    await pilot.press("n")
    await on_top(pilot, IntakeFormEditor, "the Add screen")


async def _edit_questionnaire(pilot: AnyPilot) -> IntakeFormEditor:
    await intake_forms(pilot)
    table = portal_app(pilot).screen.query_one(IntakeFormsPane).table
    index = [row.name for row in table.rows_shown].index(QUESTIONNAIRE)
    table.move_cursor(row=index, animate=False)
    await pilot.press("enter")
    editor: IntakeFormEditor = await on_top(pilot, IntakeFormEditor, "the Edit screen")
    return editor


@screen("intake-form-edit")
async def _edit(pilot: AnyPilot) -> None:
    editor = await _edit_questionnaire(pilot)
    editor.query_one(FieldsTable).focus()
    await settle(pilot, SETUP_ASKING)


@screen("intake-form-field")
async def _field(pilot: AnyPilot) -> None:
    """The box of one field: a choice field, its choices one per line."""
    editor = await _edit_questionnaire(pilot)
    fields = editor.query_one(FieldsTable)
    fields.focus()
    fields.move_cursor(row=CHOICE_FIELD, animate=False)
    await pilot.press("e")
    await on_top(pilot, FieldEditor, "the field's box")


@screen("intake-form-matter")
async def _matter(pilot: AnyPilot) -> None:
    await intake_forms(pilot)
    await pilot.press("n")
    editor = await on_top(pilot, IntakeFormEditor, "the Add screen")
    editor.query_one("#ife-choose").focus()
    await pilot.press("enter")
    picker = await on_top(pilot, MatterPicker, "the matter picker")
    await waited(picker.query_one(ItemTable).loaded)
    await settle(pilot, SETUP_ASKING)


async def staff_list(pilot: AnyPilot) -> None:
    """`3`, Down to Staff, Enter: the firm's staff users, the focus in the list."""
    await setup_section(pilot, [key for key, _, _ in SETUP_SECTIONS].index("staff"))
    await pilot.press("enter")
    pane = portal_app(pilot).screen.query_one(StaffPane)
    await until(pilot, lambda: pane.table.has_focus, "the focus in the staff list")
    await waited(pane.loaded)
    await settle(pilot, SETUP_ASKING)


@screen("staff")
async def _staff(pilot: AnyPilot) -> None:
    await staff_list(pilot)


@screen("staff-add")
async def _staff_add(pilot: AnyPilot) -> None:
    await staff_list(pilot)
    await pilot.press("a")
    await on_top(pilot, StaffForm, "the Add staff user box")


@pytest.fixture
def billing_app(firm_url: str) -> Callable[[], PortalApp]:
    """The app on the demo firm as its Billing user (F1: may look, may not change)."""

    def make() -> PortalApp:
        app = PortalApp(lambda: Repository(Database(firm_url), BILLING_LOGIN), deliver=False)
        app.animation_level = "none"
        return app

    return make


# The snapshots ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_setup_screen(name: str, size: str, make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SCREENS[name])


@pytest.mark.parametrize("size", SIZES)
def test_firm_portal_as_billing(
    size: str, billing_app: Callable[[], PortalApp], snap_compare: Any
) -> None:
    """F1: every setting shown disabled, with the reason above them."""
    assert snap_compare(billing_app(), terminal_size=SIZES[size], run_before=firm_portal)


@pytest.mark.parametrize("name", ["firm-portal", "intake-form-field"])
def test_setup_ascii(name: str, make_app: MakeApp, snap_compare: Any) -> None:
    app = make_app(ascii_only=True)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=SCREENS[name])


async def test_setup_screens_in_ascii_mode_draw_only_ascii_and_nothing_blinks(
    make_app: MakeApp,
) -> None:
    """A tour of Setup's screens in an ASCII-only app: nothing drawn outside ASCII, and no
    Input or TextArea with a blinking cursor."""
    app = make_app(ascii_only=True)
    inputs_seen = 0
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await waited(app.ready)
        for name, steps in SCREENS.items():
            while not isinstance(app.screen, MainScreen):
                await pilot.press("escape")
                await settle(pilot, SETUP_ASKING)
            if isinstance(app.focused, Input):
                await pilot.press("escape")
            await steps(pilot)
            text = drawn_text(app)
            strange = sorted({ch for ch in text if ord(ch) >= 128})
            assert not strange, f"{name}: non-ASCII on screen: {strange!r}\n{text}"
            for box in app.screen.query("*"):
                if isinstance(box, (Input, TextArea)) and box.display and box.focusable:
                    box.focus()
                    await pilot.pause()
                    assert box.cursor_blink is False, f"{name}: {box!r} blinks"
                    inputs_seen += 1
    assert inputs_seen >= 5

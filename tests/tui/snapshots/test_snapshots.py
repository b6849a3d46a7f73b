"""SVG snapshots of every screen and modal of the staff app, at 80x24 and at 120x40, and what
must hold on every one of them: ASCII only in ASCII mode and no blinking cursor (the README's
keys are checked against the bindings in tests/tui/test_keys.py).

The baselines live in __snapshots__/ beside this file. After a deliberate change of the look,
run `pytest tests/tui/snapshots --snapshot-update`, then look at the new SVGs before keeping
them; a failing run writes snapshot_report.html with both pictures side by side.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.color import ColorSystem
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.command import CommandPalette
from textual.filter import LineFilter
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, TextArea

from portal_tui.tui.activities.activities_pane import ACTIVITIES
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.keys import KeysScreen
from portal_tui.tui.common.modals import ActionMenu, Confirm, Notice
from portal_tui.tui.common.tick_box import TickBox
from portal_tui.tui.matter.item_form import ItemForm
from portal_tui.tui.matter.matter_details import SECTIONS, MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen

from ..pilot import (
    activity,
    back_to,
    cursor_to,
    open_section,
    portal_app,
    press_until,
    settle,
    start,
    until,
    waited,
)
from .conftest import FAILED_FILE, FORMS_MATTER, MATTER, OFF_MATTER, MakeApp

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

AnyPilot = Pilot[Any]
Steps = Callable[[AnyPilot], Awaitable[None]]


# Getting somewhere as a user would, waiting for the work each step starts ------------------------


# Every screen and modal ------------------------------------------------------------------------

SCREENS: dict[str, Steps] = {}


def screen(name: str) -> Callable[[Steps], Steps]:
    def register(steps: Steps) -> Steps:
        SCREENS[name] = steps
        return steps

    return register


@screen("matters")
async def _matters(pilot: AnyPilot) -> None:
    await start(pilot)


@screen("matters-filter")
async def _matters_filter(pilot: AnyPilot) -> None:
    await start(pilot)
    table = portal_app(pilot).screen.query_one("#matters ItemTable", ItemTable)
    await pilot.press("slash", *"okafor")
    await until(pilot, lambda: len(table.rows_shown) == 2, "the filtered list")
    await settle(pilot)


for _kind, _label in ACTIVITIES:

    async def _activity(pilot: AnyPilot, label: str = _label) -> None:
        await activity(pilot, label)

    screen(f"activities-{_label.lower()}")(_activity)


@screen("setup")
async def _setup(pilot: AnyPilot) -> None:
    await start(pilot)
    await pilot.press("3")
    await settle(pilot)


for _section, _ in sorted(SECTIONS, key=lambda entry: entry[0] == "forms"):

    async def _details(pilot: AnyPilot, section: str = _section) -> None:
        await open_section(pilot, section, FORMS_MATTER if section == "forms" else MATTER)

    screen(f"details-{_section}")(_details)


@screen("details-documents-failed")
async def _failed_file(pilot: AnyPilot) -> None:
    """The file the portal refused: its icon, and the reason on the status line."""
    pane = await open_section(pilot, "documents", MATTER)
    assert pane is not None
    await cursor_to(pilot, pane.table, name=FAILED_FILE)


async def _draft_invoice_menu(pilot: AnyPilot) -> None:
    pane = await open_section(pilot, "billing", MATTER)
    assert pane is not None
    await cursor_to(pilot, pane.table, number="INV-01045")
    await press_until(pilot, "a", ActionMenu, "the Action menu")


@screen("action-menu")
async def _action_menu(pilot: AnyPilot) -> None:
    await _draft_invoice_menu(pilot)


@screen("confirm-unfinal")
async def _confirm_unfinal(pilot: AnyPilot) -> None:
    """S1: sharing a Draft invoice asks first."""
    await _draft_invoice_menu(pilot)
    await press_until(pilot, "enter", Confirm, "the S1 question")


@screen("notice-shared")
async def _notice_shared(pilot: AnyPilot) -> None:
    await _confirm_unfinal(pilot)
    await press_until(pilot, "y", Notice, "Invoice has been shared successfully.")


@screen("confirm-share-file")
async def _confirm_share_file(pilot: AnyPilot) -> None:
    pane = await open_section(pilot, "documents", MATTER)
    assert pane is not None
    await cursor_to(pilot, pane.table, name="Complaint.pdf")
    await press_until(pilot, "s", Confirm, "the Share File question")


@screen("notice-refused")
async def _notice_refused(pilot: AnyPilot) -> None:
    """A rule refuses: the portal is OFF for this matter."""
    await open_section(pilot, "billing", OFF_MATTER)
    await press_until(pilot, "s", Notice, "the refusal")


for _section, _what in (("calendar", "event"), ("tasks", "task"), ("notes", "note")):

    async def _add(pilot: AnyPilot, section: str = _section) -> None:
        await open_section(pilot, section, MATTER)
        await press_until(pilot, "n", ItemForm, "the Add screen")

    screen(f"add-{_what}")(_add)


@screen("edit-shared-note")
async def _edit_shared(pilot: AnyPilot) -> None:
    """An Edit screen whose Share via Client Portal box is checked (the note is shared)."""
    pane = await open_section(pilot, "notes", MATTER)
    assert pane is not None
    await cursor_to(pilot, pane.table, subject="Meeting summary")
    await press_until(pilot, "e", ItemForm, "the Edit screen")


@screen("keys")
async def _keys(pilot: AnyPilot) -> None:
    await start(pilot)
    await press_until(pilot, "question_mark", KeysScreen, "the keys")


@screen("palette")
async def _palette(pilot: AnyPilot) -> None:
    await start(pilot)
    await press_until(pilot, "ctrl+p", CommandPalette, "the command palette")
    # Textual's own commands and the app's arrive in whichever order their providers answer:
    # a search for the app's own commands makes the list the same every time.
    await pilot.press(*"go to")
    await pilot.pause(0.3)
    await settle(pilot)


# The snapshots ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_screen(name: str, size: str, make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SCREENS[name])


@pytest.mark.parametrize("name", ["matters", "confirm-unfinal", "edit-shared-note"])
def test_ascii(name: str, make_app: MakeApp, snap_compare: Any) -> None:
    """`--ascii`: plain ASCII glyphs, borders and checkbox."""
    app = make_app(ascii_only=True)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=SCREENS[name])


def test_no_color(make_app: MakeApp, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR: Textual draws in greys; the portal and shared icons still read by shape."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app(), terminal_size=SIZES["80x24"], run_before=_failed_file)


class SixteenColours(LineFilter):
    """What a 16-colour terminal shows: every colour brought down to the nearest of the 16, as
    Rich does on output when Textual runs with TEXTUAL_COLOR_SYSTEM=standard. (The SVG
    exporter always records truecolour, so the 16 colours are made here, before it.)"""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(text, _sixteen(style), control) for text, style, control in segments]


def _sixteen(style: Style | None) -> Style | None:
    if style is None:
        return None
    color = style.color.downgrade(ColorSystem.STANDARD) if style.color else None
    bgcolor = style.bgcolor.downgrade(ColorSystem.STANDARD) if style.bgcolor else None
    return style + Style(color=color, bgcolor=bgcolor)


class SixteenColourApp(PortalApp):
    def get_line_filters(self) -> list[LineFilter]:  # type: ignore[override]
        return [*super().get_line_filters(), SixteenColours()]


@pytest.mark.parametrize("name", ["matters", "confirm-unfinal"])
def test_sixteen_colours(name: str, make_app: MakeApp, snap_compare: Any) -> None:
    app = make_app(cls=SixteenColourApp)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=SCREENS[name])


# What must hold on every screen ----------------------------------------------------------------


def drawn_text(app: PortalApp) -> str:
    """Every character the app has drawn, as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text(styles=False)


TOUR = list(SCREENS)
LEGS = {"main": TOUR[:9], "details": TOUR[9:19], "boxes": TOUR[19:]}  # (run side by side)


@pytest.mark.parametrize("leg", LEGS)
async def test_every_screen_in_ascii_mode_draws_only_ascii_and_nothing_blinks(
    leg: str, make_app: MakeApp
) -> None:
    """A tour of every screen and modal in an ASCII-only app: nothing it draws is outside
    ASCII (Textual's borders, scrollbars and footer included), and no Input or TextArea,
    Textual's own included, has a blinking cursor: it costs bytes over SSH."""
    app = make_app(ascii_only=True)
    inputs_seen = 0
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await waited(app.ready)
        for name in LEGS[leg]:
            steps = SCREENS[name]
            await back_to(pilot, MainScreen, MatterDetails)  # close what the last one opened
            await steps(pilot)
            text = drawn_text(app)
            strange = sorted({ch for ch in text if ord(ch) >= 128})
            assert not strange, f"{name}: non-ASCII on screen: {strange!r}\n{text}"
            boxes = [w for w in app.screen.query("*") if isinstance(w, (Input, TextArea))]
            for box in boxes:
                if box.display and box.focusable:
                    box.focus()
                    await pilot.pause()
                    assert box.cursor_blink is False, f"{name}: {box!r} blinks"
                    inputs_seen += 1
    assert inputs_seen >= {"main": 1, "details": 0, "boxes": 10}[leg]


def test_the_tour_sees_every_screen() -> None:
    assert sorted(name for leg in LEGS.values() for name in leg) == sorted(SCREENS)


async def test_nothing_moves_on_a_still_screen(make_app: MakeApp) -> None:
    """An open form left alone draws exactly the same all the while: looked at five times a
    second for over two blink periods (Textual's cursor blinks every half second)."""
    app = make_app()
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await SCREENS["add-note"](pilot)
        assert isinstance(app.focused, Input)
        before = app.export_screenshot()
        for _ in range(6):
            await pilot.pause(0.2)
            assert app.export_screenshot() == before


async def test_the_share_box_reads_without_colour(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under NO_COLOR the Share via Client Portal box still says checked or not, by its mark:
    Textual's own checkbox tells them apart by colour alone."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    changed: list[bool] = []

    def hook(message: object) -> None:
        if isinstance(message, Checkbox.Changed):
            changed.append(message.value)

    async with app.run_test(size=SIZES["80x24"], message_hook=hook) as pilot:
        await SCREENS["edit-shared-note"](pilot)

        def share_line() -> str:
            return next(line for line in drawn_text(app).splitlines() if "Share via" in line)

        assert "X" in share_line()
        box = app.screen.query_one("#share", TickBox)
        box.focus()
        await pilot.press("space")
        await settle(pilot)
        assert box.value is False
        assert changed[-1:] == [False]  # still a Checkbox: it tells of the change
        assert "X" not in share_line()


def test_every_screen_has_a_snapshot() -> None:
    """Each screen and modal the issue names is covered."""
    wanted = {
        "matters",
        "matters-filter",
        *(f"activities-{label.lower()}" for _, label in ACTIVITIES),
        "setup",
        *(f"details-{key}" for key, _ in SECTIONS),
        "action-menu",
        "confirm-unfinal",
        "notice-shared",
        "confirm-share-file",
        "notice-refused",
        "add-event",
        "add-task",
        "add-note",
        "edit-shared-note",
        "keys",
        "palette",
    }
    assert wanted <= set(SCREENS)

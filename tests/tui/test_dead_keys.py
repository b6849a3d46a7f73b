"""No dead keys: the section keys work from every screen that is not a form or a box; a list
has the focus whenever a section opens; a digit typed in a filter is text; `t` and Esc go back
to a matter's tab list, one level at a time; keys typed ahead reach what the key before them
opened, in order (a burst of keys, as a slow SSH link delivers them)."""

from __future__ import annotations

import unicodedata

from textual import events
from textual.keys import _character_to_key, _get_unicode_name_from_key
from textual.widgets import ContentSwitcher, Input, OptionList

from portal_tui.domain import ItemKind
from portal_tui.tui.common.keys import KeysScreen
from portal_tui.tui.common.list_pane import ListPane
from portal_tui.tui.matter.item_form import ItemForm
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import SIZE, AppPilot, TuiFirm, ids, screen_text
from .pilot import (
    activities,
    loaded,
    matter_section,
    move_to,
    open_matter,
    screen_of,
    settle,
    started,
    until,
)


def burst(pilot: AppPilot, *keys: str) -> None:
    """Keys arriving all at once, none waited for (a paste-speed typist, a slow SSH link)."""
    app = pilot.app
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(key))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)


def section(pilot: AppPilot) -> str | None:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen.query_one("#body", ContentSwitcher).current


def nav(pilot: AppPilot) -> OptionList:
    return pilot.app.screen.query_one("#matter-nav", OptionList)


# a. The section keys, from inside a matter too ---------------------------------------------


async def test_section_keys_work_inside_a_matter_and_its_tabs(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        await pilot.press("2")  # on the matter's tab list
        await screen_of(pilot, MainScreen)
        assert section(pilot) == "activities"

        await open_matter(pilot, tui_firm.on_matter)
        await matter_section(pilot, "notes")  # in a tab's list
        await pilot.press("3")
        await screen_of(pilot, MainScreen)
        assert section(pilot) == "setup"
        await pilot.press("1")
        await settle(pilot)
        assert section(pilot) == "matters"


async def test_keys_screen_lists_the_section_keys_inside_a_matter(tui_firm: TuiFirm) -> None:
    """`?` says "1 / 2 / 3 Go to …" where they work, a matter included; in a form, where a
    digit is typed, they are not offered."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        await pilot.press("question_mark")
        await screen_of(pilot, KeysScreen)
        assert "Go to Matters, Activities, Setup" in screen_text(app)
        await pilot.press("escape")
        await screen_of(pilot, MatterDetails)
        await matter_section(pilot, "notes")
        await pilot.press("n")
        form = await screen_of(pilot, ItemForm)
        actions = {b.binding.action for b in form.active_bindings.values()}
        assert not any(a.startswith("section") for a in actions)
        await pilot.press("2")
        await settle(pilot)
        assert app.screen is form, "a digit in a form is typed, never a section key"


# b. A list has the focus when a section opens ----------------------------------------------


async def test_activities_open_with_their_list_focused(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("2")
        await settle(pilot)
        invoices = app.screen.query_one(f"#act-{ItemKind.INVOICE.value}", ListPane).table
        await loaded(invoices, pilot)
        assert invoices.has_focus
        await pilot.press("slash")  # works at once
        await settle(pilot)
        assert isinstance(app.focused, Input)


# c. Digits in a filter are text ---------------------------------------------------------------


def found_by_0002(firm: TuiFirm) -> set[int]:
    """The invoices "0002" finds: INV-0002, and INV-0003 of matter 2026-0002."""
    return {firm.draft_invoice, firm.off_invoice}


async def test_digits_typed_in_a_filter_filter(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        invoices = await activities(pilot, ItemKind.INVOICE)
        await pilot.press("slash", *"0002")
        await until(pilot, lambda: set(ids(invoices)) == found_by_0002(tui_firm), "the filter")
        assert section(pilot) == "activities"
        assert app.screen.query_one(f"#act-{ItemKind.INVOICE.value} #filter", Input).value == (
            "0002"
        )


# d. Back to the tab list: t, and Esc one level at a time --------------------------------------


async def test_t_and_esc_go_back_one_level_at_a_time(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        notes = await matter_section(pilot, "notes")
        assert "esc Tabs" in screen_text(app)  # the footer says what Esc does here
        await pilot.press("t")
        await settle(pilot)
        assert nav(pilot).has_focus
        assert "esc Back" in screen_text(app)

        await pilot.press("enter")
        await settle(pilot)
        assert notes.has_focus
        await pilot.press("escape")  # item list -> tab list
        await settle(pilot)
        assert isinstance(app.screen, MatterDetails)
        assert nav(pilot).has_focus
        await pilot.press("escape")  # tab list -> out of the matter
        await screen_of(pilot, MainScreen)


async def test_t_goes_back_to_the_activities_tabs(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await activities(pilot, ItemKind.NOTE)
        await pilot.press("t")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#activities-nav", OptionList)


# e. Keys typed ahead reach what the key before them opened, in order -------------------------


async def test_down_right_after_enter_on_a_matter_reaches_the_matter(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        await move_to(pilot, matters, tui_firm.on_matter)
        burst(pilot, "enter", "down")
        details = await screen_of(pilot, MatterDetails)
        await until(pilot, lambda: nav(pilot).highlighted == 1, "Down in the matter's tabs")
        await settle(pilot)
        assert details.matter_id == tui_firm.on_matter
        assert matters.current is not None and matters.current.id == tui_firm.on_matter


async def test_a_filter_typed_in_one_burst_is_all_text(tui_firm: TuiFirm) -> None:
    """`2`, `/` and "0003" in one burst: Activities, its list, the filter, every digit."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        burst(pilot, "2", "slash", *"0002")
        invoices = app.screen.query_one(f"#act-{ItemKind.INVOICE.value}", ListPane).table
        await until(pilot, lambda: set(ids(invoices)) == found_by_0002(tui_firm), "the filter")
        await settle(pilot)
        assert section(pilot) == "activities"
        assert isinstance(app.focused, Input) and app.focused.value == "0002"


async def test_a_tab_opened_by_enter_takes_the_keys_behind_it(tui_firm: TuiFirm) -> None:
    """Enter on a tab never shown before, then Down: the Down moves in that tab's list."""
    tui_firm.repo().add_note(tui_firm.on_matter, subject="Second call", body="More.")
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        nav(pilot).highlighted = 4  # Notes, as the arrows leave it
        await settle(pilot)
        burst(pilot, "enter", "down")
        await until(pilot, lambda: app.screen.query(ListPane), "the Notes tab")
        notes = app.screen.query_one("#notes", ListPane).table
        await until(pilot, lambda: notes.has_focus and notes.cursor_row == 1, "Down in Notes")
        await settle(pilot)
        assert nav(pilot).highlighted == 4


async def test_letters_typed_behind_n_land_in_the_form(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        await matter_section(pilot, "notes")
        burst(pilot, "n", *"Hello")
        form = await screen_of(pilot, ItemForm)
        first = form.query(Input).first()
        await until(pilot, lambda: first.value == "Hello", "the letters in the form")

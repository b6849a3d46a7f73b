"""Getting about the staff app as a user would, and waiting for what each step starts: the
one set of moves every TUI test makes, the pilot tests and the snapshot tests alike.

Waiting is by events (the app's `ready`, a list's `loaded`) or, for work a worker does in a
thread, by letting the app run until the screen shows the result, with a deadline; never by
sleeping a fixed time. A screen that never becomes ready fails in a minute with a clear error
(`waited`), instead of holding the whole suite until CI's limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input, OptionList

from portal_tui.domain import ItemKind
from portal_tui.tui.activities.activities_pane import ACTIVITIES
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.list_pane import ListPane
from portal_tui.tui.matter.matter_details import SECTIONS as MATTER_SECTIONS
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import TIMEOUT_S, AppPilot, Table, row_index, screen_text

AnyPilot = Pilot[Any]

# Generous: a snapshot on a loaded 2-core CI machine can take seconds to settle.
READY_TIMEOUT_S = 60.0


async def waited(event: asyncio.Event, what: str = "the screen") -> None:
    try:
        await asyncio.wait_for(event.wait(), READY_TIMEOUT_S)
    except TimeoutError:
        raise AssertionError(f"{what} was not ready within {READY_TIMEOUT_S:.0f} s") from None


# Waiting ---------------------------------------------------------------------------------------


async def until(
    pilot: AppPilot, ready: Callable[[], object], what: str, timeout: float = TIMEOUT_S
) -> None:
    """Let the app run until `ready()` holds — for work a worker does in a thread."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.01)


async def shown(pilot: AppPilot, text: str) -> None:
    """Until the terminal shows `text`: the data can change a tick before the screen repaints."""
    await until(pilot, lambda: text in screen_text(pilot.app), f"the screen to show {text!r}")


async def screen_of(pilot: AppPilot, kind: type[Screen[Any]]) -> Any:
    """Wait for a screen of `kind` to be on top (a modal a worker opens, a pushed screen)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, kind), f"the {kind.__name__} screen")
    await pilot.pause()
    return app.screen


async def started(app: PortalApp, pilot: AppPilot) -> Table:
    """The firm database open and the first page of the Matters list shown."""
    await asyncio.wait_for(app.ready.wait(), TIMEOUT_S)
    return await loaded(app.screen.query_one("#matters ItemTable", ItemTable), pilot)


async def loaded(table: Table, pilot: AppPilot) -> Table:
    """The list's first page shown (a failed read fails the test, it does not hang it)."""
    await asyncio.wait_for(table.loaded.wait(), TIMEOUT_S)
    await pilot.pause()
    return table


async def row_shared(pilot: AppPilot, table: Table, item_id: int, wanted: bool) -> None:
    """Wait for the list to show the item shared (or not): a share runs in a worker."""

    def shown() -> bool:
        row = table.rows_shown[row_index(table, item_id)]
        return bool(row.share.wanted) is wanted

    await until(pilot, shown, f"item {item_id} to show {'shared' if wanted else 'unshared'}")


# Moving about, by keyboard and mouse: one step at a time, asserting where it lands -----------


async def move_to(pilot: AppPilot, table: Table, item_id: int) -> None:
    """Highlight a row with the arrow keys."""
    target = row_index(table, item_id)
    assert table.has_focus, "the list should have the focus"
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")
    await pilot.pause()
    assert table.current is not None and table.current.id == item_id


async def choose(pilot: AppPilot, menu: OptionList, index: int) -> None:
    """Highlight one option of a focused option list with the arrows, then Enter."""
    assert menu.has_focus, f"{menu} should have the focus"
    if menu.highlighted is None:
        await pilot.press("down")
    while menu.highlighted != index:
        assert menu.highlighted is not None
        await pilot.press("down" if menu.highlighted < index else "up")
    await pilot.press("enter")
    await pilot.pause()


async def click_option(pilot: AppPilot, index: int, selector: str = "OptionList") -> None:
    """Click one option of an option list on the top screen (the Action menu, a navigation
    panel; one line per option), wherever the stylesheet puts it."""
    region = pilot.app.screen.query_one(selector, OptionList).content_region
    assert await pilot.click(offset=(region.x + 1, region.y + index))


async def open_matter(pilot: AppPilot, matter_id: int) -> MatterDetails:
    """Matters (1) > highlight the matter > Enter."""
    await pilot.press("1")
    app = pilot.app
    table = await loaded(app.screen.query_one("#matters ItemTable", ItemTable), pilot)
    await move_to(pilot, table, matter_id)
    await pilot.press("enter")
    details: MatterDetails = await screen_of(pilot, MatterDetails)
    return details


async def matter_section(pilot: AppPilot, section: str) -> Table:
    """In Matter Details: the left navigation > `section` (Billing gives the Invoice tab)."""
    app = pilot.app
    nav = app.screen.query_one("#matter-nav", OptionList)
    keys = [key for key, _ in MATTER_SECTIONS]
    await choose(pilot, nav, keys.index(section))
    pane_id = "invoices" if section == "billing" else section
    table = app.screen.query_one(f"#{pane_id}", ListPane).table
    assert table.has_focus
    return await loaded(table, pilot)


async def activities(pilot: AppPilot, kind: ItemKind) -> Table:
    """2 > `t` (Activities opens on its list) > its navigation > the list of `kind`."""
    app = pilot.app
    await pilot.press("2", "t")
    nav = app.screen.query_one("#activities-nav", OptionList)
    await choose(pilot, nav, [k for k, _ in ACTIVITIES].index(kind))
    table = app.screen.query_one(f"#act-{kind.value}", ListPane).table
    assert table.has_focus
    return await loaded(table, pilot)


# Getting somewhere from anywhere, as the snapshot tour does: back out to the main screen if
# need be, then go; each step waits for the work it starts, so a snapshot shows a still screen.


# Flows that wait on a message box the user has not answered yet: never waited for.
ASKING = frozenset({"share", "edit"})


async def settle(pilot: AnyPilot, asking: frozenset[str] = ASKING) -> None:
    """Let the background work finish (list pages, summaries) and the screen catch up; the
    worker groups in `asking` wait on a box the user has not answered yet and are not waited
    for."""
    busy = [w for w in pilot.app.workers if w.group not in asking and not w.is_finished]
    if busy:  # (an empty list would mean "all of them")
        await pilot.app.workers.wait_for_complete(busy)
    await pilot.pause()


def portal_app(pilot: AnyPilot) -> PortalApp:
    app = pilot.app
    assert isinstance(app, PortalApp)
    return app


async def back_to(pilot: AnyPilot, *screens: type) -> None:
    """Esc (No, Cancel, OK, clear the filter, Back) until one of `screens` shows, with the
    focus out of any input line."""
    app = portal_app(pilot)
    for _ in range(8):
        if isinstance(app.screen, screens) and not isinstance(app.focused, Input):
            return
        await pilot.press("escape")
        await settle(pilot)
    raise AssertionError(f"stuck on {app.screen!r}")


async def start(pilot: AnyPilot) -> None:
    """Matters, on the main screen: where the app opens."""
    app = portal_app(pilot)
    await waited(app.ready)
    main = app.screen
    if not (
        isinstance(main, MainScreen)
        and main.query_one("#body", ContentSwitcher).current == "matters"
        and not isinstance(app.focused, Input)
    ):
        await back_to(pilot, MainScreen)
        await pilot.press("1")
    await waited(app.screen.query_one("#matters ItemTable", ItemTable).loaded)
    await settle(pilot)


async def cursor_to(pilot: AnyPilot, table: ItemTable[Any], **wanted: object) -> None:
    """Put the cursor on the row whose attributes are `wanted` (number=..., title=...)."""
    await waited(table.loaded)
    rows = table.rows_shown
    index = next(
        i for i, row in enumerate(rows) if all(getattr(row, k) == v for k, v in wanted.items())
    )
    table.focus()
    table.move_cursor(row=index, animate=False)
    await pilot.pause()


async def open_matter_numbered(pilot: AnyPilot, number: str) -> None:
    app = portal_app(pilot)
    await waited(app.ready)
    if any(getattr(s, "matter_number", None) == number for s in app.screen_stack):
        await back_to(pilot, MatterDetails)  # already open (a tour of several screens)
        return
    await start(pilot)
    await cursor_to(pilot, app.screen.query_one("#matters ItemTable", ItemTable), number=number)
    await pilot.press("enter")
    await until(pilot, lambda: getattr(app.screen, "matter_number", None), "Matter Details")


async def pick(pilot: AnyPilot, nav: OptionList, index: int) -> None:
    """Highlight an entry of a navigation list (as the arrows do) and press Enter on it."""
    nav.focus()
    nav.highlighted = index
    await pilot.press("enter")


async def open_section(pilot: AnyPilot, section: str, number: str) -> ListPane | None:
    """Matter Details > section, through its own left navigation."""
    await open_matter_numbered(pilot, number)
    return await go_to_section(pilot, section)


async def go_to_section(pilot: AnyPilot, section: str) -> ListPane | None:
    screen = portal_app(pilot).screen
    index = [key for key, _ in MATTER_SECTIONS].index(section)
    await pick(pilot, screen.query_one("#matter-nav", OptionList), index)
    assert isinstance(screen, MatterDetails)
    body = screen.query_one("#matter-body", ContentSwitcher)
    assert body.current == f"sec-{section}"
    if section == "billing":
        pane = screen.query_one("#invoices", ListPane)
    elif section in ("summary", "portal"):
        return None
    else:
        pane = screen.query_one(f"#{section}", ListPane)
    await waited(pane.table.loaded)
    await settle(pilot)
    return pane


async def activity(pilot: AnyPilot, label: str) -> None:
    """Activities > label: `2`, then that entry of its list of lists."""
    app = portal_app(pilot)
    await waited(app.ready)
    await back_to(pilot, MainScreen)
    await waited(app.screen.query_one("#matters ItemTable", ItemTable).loaded)
    await settle(pilot)
    await pilot.press("2")
    index = [name for _, name in ACTIVITIES].index(label)
    await pick(pilot, portal_app(pilot).screen.query_one("#activities-nav", OptionList), index)
    kind = ACTIVITIES[index][0]
    pane = portal_app(pilot).screen.query_one(f"#act-{kind.value}", ListPane)
    await waited(pane.table.loaded)
    await settle(pilot)


async def press_until(
    pilot: AnyPilot, key: str, screen: type, what: str, asking: frozenset[str] = ASKING
) -> None:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, screen), what)
    await settle(pilot, asking)

"""Cold start (first matter row <= 2.5x a bare Textual app): with a first page read with sqlite3,
the Matters list shows its rows before the repository is open; everything the user does meanwhile
waits for it and then works as usual, and a database that then cannot be opened still ends the app
with its one line.

The repository "still opening" is an `open_repo` that waits for the test to let it go."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from textual.widgets import ContentSwitcher, Input

from portal_tui.cli import _read_first_page_soon
from portal_tui.domain import ItemKind
from portal_tui.migrating import DatabaseUnavailableError
from portal_tui.repository import Repository
from portal_tui.repository.first_page import FIRST_PAGE_ROWS, FirstPage, read_first_page
from portal_tui.tui.app import OPENING, PortalApp
from portal_tui.tui.common import item_table
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.setup.setup_pane import SetupPane

from .helpers import ADMIN, SIZE, TIMEOUT_S, AppPilot, Table, TuiFirm, ids, screen_text
from .pilot import loaded, move_to, screen_of, until


class Opening:
    """The repository's `open_repo`, held until `let_go()` (or made to fail)."""

    def __init__(self, url: str, login: str) -> None:
        self.url = url
        self.login = login
        self.gate = threading.Event()
        self.error: Exception | None = None

    def __call__(self) -> Repository:
        if not self.gate.wait(TIMEOUT_S):
            raise TimeoutError("the test never let the repository open")
        if self.error is not None:
            raise self.error
        return Repository.open(self.url, self.login)

    def let_go(self, error: Exception | None = None) -> None:
        self.error = error
        self.gate.set()


@pytest.fixture
def opening(tui_firm: TuiFirm) -> Iterator[Opening]:
    held = Opening(tui_firm.url, ADMIN)
    yield held
    held.gate.set()  # never leave its thread waiting


def read_already(first: FirstPage | None) -> Future[FirstPage | None]:
    done: Future[FirstPage | None] = Future()
    done.set_result(first)
    return done


def cold_app(tui_firm: TuiFirm, opening: Opening) -> PortalApp:
    first = read_first_page(tui_firm.url, ADMIN, FIRST_PAGE_ROWS)
    assert first is not None, "the test firm should take the cold-start path"
    return PortalApp(opening, deliver=False, first_page=read_already(first))


async def first_rows(app: PortalApp, pilot: AppPilot) -> Table:
    await screen_of(pilot, MainScreen)
    table: Table = app.screen.query_one("#matters ItemTable", ItemTable)
    return await loaded(table, pilot)


def body(app: PortalApp) -> str | None:
    return app.screen.query_one("#body", ContentSwitcher).current


def test_the_first_page_asks_for_the_rows_the_matters_list_shows_first() -> None:
    assert FIRST_PAGE_ROWS == item_table.PAGE


def test_the_command_line_reads_the_first_page_in_a_thread(tui_firm: TuiFirm) -> None:
    soon = _read_first_page_soon(tui_firm.url, ADMIN)
    assert soon.result(TIMEOUT_S) == read_first_page(tui_firm.url, ADMIN, FIRST_PAGE_ROWS)


async def test_cold_start_shows_the_first_matters_before_the_database_opens_then_works(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        table = await first_rows(app, pilot)
        assert not app.repo_open
        assert ids(table) == [tui_firm.on_matter, tui_firm.off_matter, tui_firm.narrow_matter]
        shown = screen_text(app)
        assert "Hale & Forde LLP" in shown and "Avery Admin (Admin)" in shown
        assert "Smith [Deceased]" in shown  # client data as written, not markup
        await move_to(pilot, table, tui_firm.off_matter)

        opening.let_go()
        await app.ready.wait()
        await pilot.pause()
        # No jump: the same rows, the cursor where the user left it.
        assert ids(table) == [tui_firm.on_matter, tui_firm.off_matter, tui_firm.narrow_matter]
        assert table.current is not None and table.current.id == tui_firm.off_matter
        await pilot.press("enter")
        details: MatterDetails = await screen_of(pilot, MatterDetails)
        assert details.matter_id == tui_firm.off_matter
        await until(pilot, lambda: "Estate of Smith" in screen_text(app), "the matter's summary")


async def test_enter_before_the_database_opens_opens_the_matter_once_it_is(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        table = await first_rows(app, pilot)
        await move_to(pilot, table, tui_firm.narrow_matter)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # nothing broke, nothing opened yet
        assert OPENING in screen_text(app)

        opening.let_go()
        details: MatterDetails = await screen_of(pilot, MatterDetails)
        assert details.matter_id == tui_firm.narrow_matter
        await until(pilot, lambda: "Lease of Unit 4" in screen_text(app), "the matter's summary")


async def test_activities_before_the_database_opens_fill_in_once_it_is(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        await first_rows(app, pilot)
        await pilot.press("2")
        await until(pilot, lambda: body(app) == "activities", "Activities")
        # Activities opens on its first list, Invoices, focused: its read waits for the
        # repository, and `/` and the arrows already go to it.
        invoices: Table = app.screen.query_one("#act-invoice ItemTable", ItemTable)
        await until(pilot, lambda: invoices.has_focus, "the Invoices list")
        assert not invoices.loaded.is_set()  # waiting, not crashed

        opening.let_go()
        await loaded(invoices, pilot)
        expected = tui_firm.system.list_items(ItemKind.INVOICE, limit=100)
        assert ids(invoices) == [row.id for row in expected.rows]


async def test_setup_before_the_database_opens_shows_once_it_is(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        await first_rows(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        assert body(app) == "matters" and OPENING in screen_text(app)

        opening.let_go()
        await until(pilot, lambda: body(app) == "setup", "Setup")
        setup = app.screen.query_one(SetupPane)
        await until(pilot, lambda: setup.focus_target() is app.focused, "Setup's navigation")
        await until(pilot, lambda: "Client Portal" in screen_text(app), "the firm's settings")


async def test_a_section_chosen_after_setup_overtakes_it(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        await first_rows(app, pilot)
        await pilot.press("3")
        await pilot.press("1")
        opening.let_go()
        await app.ready.wait()
        await pilot.pause()
        assert body(app) == "matters"


async def test_a_filter_typed_before_the_database_opens_applies_once_it_is(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        table = await first_rows(app, pilot)
        await pilot.press("slash", *"Smith")
        assert isinstance(app.focused, Input)
        opening.let_go()
        await until(pilot, lambda: ids(table) == [tui_firm.off_matter], "the filtered list")
        await pilot.press("escape")
        await until(pilot, lambda: len(ids(table)) == 3, "the whole list again")


async def test_a_database_that_then_cannot_be_opened_ends_the_app_with_its_one_line(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    app = cold_app(tui_firm, opening)
    problem = DatabaseUnavailableError("/srv/firm.db", "disk I/O error", label="firm database")
    async with app.run_test(size=SIZE) as pilot:
        await first_rows(app, pilot)
        await pilot.press("2")  # a list's read is waiting for the repository in a thread
        await until(pilot, lambda: body(app) == "activities", "Activities")
        opening.let_go(problem)
        await until(pilot, lambda: app.failure is not None, "the failure")
    assert app.failure is problem
    assert app.return_code == 2
    assert app._exception is None  # the waiting read ended quietly, not as a crash


@pytest.mark.parametrize("keys", [(), ("2",), ("3",), ("enter",), ("slash", "S")])
async def test_quitting_before_the_database_opens_ends_quietly(
    tui_firm: TuiFirm, opening: Opening, keys: tuple[str, ...]
) -> None:
    app = cold_app(tui_firm, opening)
    async with app.run_test(size=SIZE) as pilot:
        await first_rows(app, pilot)
        await pilot.press(*keys)
        if keys[:1] == ("slash",):
            await pilot.press("escape")
        await pilot.press("ctrl+q")
    assert not app.repo_open
    assert app.return_code == 0 and app.failure is None
    assert app._exception is None  # no waiting read, mount or screen left to crash


async def test_once_started_the_collector_is_back_on_without_start_up_in_its_way(
    tui_firm: TuiFirm, opening: Opening
) -> None:
    first = read_first_page(tui_firm.url, ADMIN, FIRST_PAGE_ROWS)
    app = PortalApp(opening, deliver=False, first_page=read_already(first), freeze_gc=True)
    gc.disable()  # as the command line does before the app starts
    try:
        async with app.run_test(size=SIZE) as pilot:
            await first_rows(app, pilot)
            assert not gc.isenabled()  # no full collection on the way to the first rows
            opening.let_go()
            await app.ready.wait()
            assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # (this test process goes on to other tests)
        gc.enable()


@pytest.mark.parametrize("outcome", ["none", "error"])
async def test_without_a_first_page_the_app_opens_as_it_always_has(
    tui_firm: TuiFirm, opening: Opening, outcome: str
) -> None:
    first: Future[FirstPage | None] = Future()
    if outcome == "none":
        first.set_result(None)
    else:
        first.set_exception(OSError("the reading thread failed"))
    app = PortalApp(opening, deliver=False, first_page=first)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not isinstance(app.screen, MainScreen)
        assert OPENING in screen_text(app)
        opening.let_go()
        table = await first_rows(app, pilot)
        assert app.repo_open
        assert ids(table) == [tui_firm.on_matter, tui_firm.off_matter, tui_firm.narrow_matter]

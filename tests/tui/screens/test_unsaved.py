"""A key does what the footer says and never throws work away: `q` typed in a form or a
dialog is the form's (it never quits the app, and the footer does not offer Quit there);
leaving a form with changes not saved — Esc, Cancel, Ctrl+Q — asks "Discard changes?"; and
quitting while this app's relay still has changes to deliver asks first."""

from __future__ import annotations

import socket
from pathlib import Path

from textual.widgets import Checkbox, Input

from portal_tui.config import load_settings
from portal_tui.domain import ItemKind, texts
from portal_tui.repository import Repository
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.modals import Confirm
from portal_tui.tui.matter.item_form import ItemForm
from portal_tui.tui.matter.matter_details import MatterDetails

from ..helpers import ADMIN, SIZE, TuiFirm, dialog, screen_text
from ..pilot import matter_section, move_to, open_matter, screen_of, started, until


async def _edit_task(pilot, tui_firm: TuiFirm) -> ItemForm:  # type: ignore[no-untyped-def]
    await open_matter(pilot, tui_firm.on_matter)
    table = await matter_section(pilot, "tasks")
    await move_to(pilot, table, tui_firm.task)
    await pilot.press("e")
    form: ItemForm = await screen_of(pilot, ItemForm)
    return form


def _footer(app: PortalApp) -> str:
    return screen_text(app).splitlines()[-1]


async def test_q_in_an_edit_form_is_the_forms_and_quits_nothing(tui_firm: TuiFirm) -> None:
    """The reported case: Calendar › Enter › e › Tab ×5 › Space › q exited and lost the edit."""
    title = tui_firm.row(ItemKind.TASK, tui_firm.task).title
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        form = await _edit_task(pilot, tui_firm)
        assert "Quit" not in _footer(app)
        for _ in range(5):
            await pilot.press("tab")
        await pilot.press("space", "q")
        await pilot.pause()
        assert app.is_running and app.screen is form
        assert app.return_code is None
        # In a text field, q is a letter like any other.
        field = form.query_one("#f-title", Input)
        field.focus()
        await pilot.press("end", "q")
        assert field.value == title + "q"
        assert app.screen is form
    assert tui_firm.row(ItemKind.TASK, tui_firm.task).title == title


async def test_esc_with_changes_asks_to_discard_and_keeps_them_on_no(tui_firm: TuiFirm) -> None:
    title = tui_firm.row(ItemKind.TASK, tui_firm.task).title
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        form = await _edit_task(pilot, tui_firm)
        form.query_one("#f-title", Input).value = "Sign the inventory today"
        await pilot.press("escape")
        await screen_of(pilot, Confirm)
        assert dialog(app) == (texts.DISCARD_TITLE, texts.DISCARD_QUESTION)
        assert "Quit" not in _footer(app)
        await pilot.press("q")  # not an answer, and not the app's Quit either
        await pilot.pause()
        assert isinstance(app.screen, Confirm) and app.is_running
        await pilot.press("n")  # keep editing: everything typed is still there
        await until(pilot, lambda: app.screen is form, "back in the form")
        assert form.query_one("#f-title", Input).value == "Sign the inventory today"
        await pilot.press("escape")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await screen_of(pilot, MatterDetails)
    assert tui_firm.row(ItemKind.TASK, tui_firm.task).title == title  # nothing saved


async def test_esc_on_a_form_left_as_it_was_closes_it_at_once(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        form = await _edit_task(pilot, tui_firm)
        box = form.query_one("#share", Checkbox)
        box.focus()
        await pilot.press("space", "space")  # ticked and unticked again: nothing changed
        await pilot.press("escape")
        await screen_of(pilot, MatterDetails)


async def test_ctrl_q_over_an_unsaved_form_asks_and_quits_only_on_discard(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        form = await _edit_task(pilot, tui_firm)
        form.query_one("#f-title", Input).value = "Changed"
        await pilot.press("ctrl+q")
        await screen_of(pilot, Confirm)
        assert dialog(app)[0] == texts.DISCARD_TITLE
        await pilot.press("n")
        await until(pilot, lambda: app.screen is form, "back in the form")
        assert app.is_running
        await pilot.press("ctrl+q")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the app to quit")


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_quitting_with_changes_not_yet_delivered_asks_first(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    """The portal is down, so the share made here waits in the outbox: quitting stops this
    app's relay, and the user is told what that means before it does."""
    settings = load_settings(
        {
            "database_url": tui_firm.url,
            "portal_url": f"http://127.0.0.1:{_dead_port()}",
            "portal_token": "t",
        },
        env={"PORTAL_TUI_DATA_DIR": str(tmp_path / "data"), "PORTAL_TUI_CONFIG": ""},
    )
    url = tui_firm.url
    app = PortalApp(lambda: Repository.open(url, ADMIN), settings=settings, deliver=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pending = tui_firm.system.pending_deliveries()
        assert pending > 0
        await pilot.press("q")
        await screen_of(pilot, Confirm)
        assert dialog(app) == (
            texts.QUIT_PENDING_TITLE,
            texts.QUIT_PENDING.format(count=pending),
        )
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, Confirm), "the question gone")
        assert app.is_running
        await pilot.press("q")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the app to quit")

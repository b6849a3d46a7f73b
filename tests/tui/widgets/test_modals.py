"""The message boxes on their own, in a bare app: the Confirm of every yes/no question (y, n,
Esc, a click on either button; the safe choice, No, has the focus) and the Notice (OK)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button, Static

from portal_tui.domain import texts
from portal_tui.tui.app import styles_path
from portal_tui.tui.common.modals import ActionMenu, Confirm, Notice

from ..helpers import SIZE


class Host(App[None]):
    """Shows one box and keeps its answer."""

    CSS_PATH = str(styles_path())

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("beneath")

    def ask(self, screen: Confirm | Notice | ActionMenu) -> None:
        self.push_screen(screen, self.answers.append)


def question() -> Confirm:
    return Confirm(texts.SHARE_FILE_TITLE, texts.SHARE_FILE_CONFIRM)


async def test_confirm_modal_no_has_focus_when_it_opens() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(question())
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert isinstance(app.focused, Button) and app.focused.id == "no"
        assert str(app.screen.query_one("#yes", Button).label) == "Yes"
        assert str(app.focused.label) == "No"
        await pilot.press("enter")  # Enter on the focused button: the safe answer
        await pilot.pause()
        assert app.answers == [False]


@pytest.mark.parametrize(("key", "answer"), [("y", True), ("n", False), ("escape", False)])
async def test_confirm_modal_keys(key: str, answer: bool) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(question())
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert app.answers == [answer]
        assert not isinstance(app.screen, Confirm)


@pytest.mark.parametrize(("button", "answer"), [("#yes", True), ("#no", False)])
async def test_confirm_modal_buttons_by_mouse(button: str, answer: bool) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(question())
        await pilot.pause()
        assert await pilot.click(button)
        await pilot.pause()
        assert app.answers == [answer]


async def test_confirm_modal_is_modal() -> None:
    """Keys and clicks meant for the screen beneath go nowhere while the question is open."""
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(question())
        await pilot.pause()
        await pilot.press("a", "s", "tab", "tab")
        await pilot.click(offset=(0, 0))
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert app.answers == []


async def test_confirm_modal_shows_the_exact_words() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(Confirm(texts.SHARE_VIA_PORTAL, texts.UNFINAL_INVOICE_CONFIRM))
        await pilot.pause()
        title = app.screen.query_one(".dialog-title", Static)
        body = app.screen.query_one(".dialog-body", Static)
        assert str(title.content) == "Share via Client Portal"
        assert str(body.content) == (
            "This is an Unfinal invoice. Invoice will be marked as Final once shared. Continue?"
        )


@pytest.mark.parametrize("key", ["enter", "escape"])
async def test_notice_ok_closes(key: str) -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(Notice(texts.SHARE_VIA_PORTAL, texts.INVOICE_SHARED))
        await pilot.pause()
        assert isinstance(app.focused, Button) and str(app.focused.label) == "OK"
        await pilot.press(key)
        await pilot.pause()
        assert app.answers == [None]


async def test_action_menu_escape_chooses_nothing() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.ask(ActionMenu("Action", [("share", texts.SHARE_VIA_PORTAL), ("edit", "Edit")]))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        app.ask(ActionMenu("Action", [("share", texts.SHARE_VIA_PORTAL), ("edit", "Edit")]))
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.answers == [None, "edit"]

"""The first run on an empty firm database: the questions `portal-tui init` asks, on screen —
the firm's name, its first staff user (an Admin; the OS login by default) and, optionally, the
portal's address and token. Save sets the firm up; a refusal shows under the fields in its own
words, what was typed kept. Esc with something typed asks before it throws it away."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from ..common.unsaved import SaveOrCancel, UnsavedChanges, form_keys

TITLE = "Set up your firm"
INTRO = (
    "This firm database has no firm yet. Name it and yourself, its first staff user and "
    "Admin; add your colleagues later under Setup > Staff."
)


@dataclass(frozen=True, slots=True)
class FirstRunAnswers:
    firm: str
    login: str
    name: str
    email: str
    portal: str  # blank: the embedded portal
    token: str


# Sets the firm up from the answers: None when done, else the one-line reason it was not.
SetUp = Callable[[FirstRunAnswers], str | None]

FIELDS = (
    ("first-firm", "Firm name", "Harbor & Vale LLP", False),
    ("first-login", "Your login", "your OS login", False),
    ("first-name", "Your name", "your full name", False),
    ("first-email", "Your email", "you@yourfirm.example", False),
    ("first-portal", "Portal URL", "blank: the embedded portal", False),
    ("first-token", "Its token", "from `portal-tui token create` on its server", True),
)


class FirstRunScreen(UnsavedChanges, SaveOrCancel, Screen[FirstRunAnswers | None]):
    """Dismisses with the answers the firm was set up from, or None (Esc, Cancel)."""

    BINDINGS = form_keys()

    DEFAULT_CSS = """
    FirstRunScreen {
        align: center middle;
    }
    FirstRunScreen #first-run {
        width: 76;
        height: auto;
    }
    FirstRunScreen #first-intro {
        width: 1fr;
        height: auto;
        margin-bottom: 1;
    }
    FirstRunScreen .row {
        height: 1;
        margin-bottom: 1;
    }
    FirstRunScreen .row > Label {
        width: 12;
    }
    FirstRunScreen .row > Input {
        width: 1fr;
    }
    FirstRunScreen #first-problem {
        color: $error;
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self, set_up: SetUp, login: str | None, name: str | None) -> None:
        super().__init__()
        self._set_up = set_up
        self._defaults = {"first-login": login or "", "first-name": name or ""}

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="first-run"):
            yield Label(Text(TITLE), classes="dialog-title")
            yield Static(Text(INTRO), id="first-intro")
            for field_id, label, placeholder, secret in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(Text(label))
                    yield Input(
                        self._defaults.get(field_id, ""),
                        placeholder=placeholder,
                        password=secret,
                        id=field_id,
                        compact=True,
                    )
            yield Static("", id="first-problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Set up", id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#first-firm", Input).focus()
        self.remember_as_saved()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter goes on to the next field; on the last one it saves.
        event.stop()
        if event.input.id == FIELDS[-1][0]:
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        self._save()

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    @work(group="first-run", exclusive=True)
    async def _save(self) -> None:
        answers = FirstRunAnswers(*(self._value(field_id) for field_id, *_ in FIELDS))
        problem = await asyncio.to_thread(self._set_up, answers)
        if problem is not None:
            # Text, never markup: the reason may quote what was typed.
            self.query_one("#first-problem", Static).update(Text(problem))
            return
        self.dismiss(answers)


class FirstRunApp(App[FirstRunAnswers | None]):
    """The first-run questions as an app of their own, run before the staff app when the
    firm database is empty; returns the answers the firm was set up from, or None."""

    TITLE = "portal-tui"
    CSS_PATH = str(Path(__file__).parent.parent / "styles" / "app.tcss")
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, set_up: SetUp, *, login: str | None, name: str | None) -> None:
        super().__init__()
        self._screen = FirstRunScreen(set_up, login, name)

    def on_mount(self) -> None:
        self.push_screen(self._screen, self.exit)

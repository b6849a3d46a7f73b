"""The app's message boxes: one confirmation that serves every yes/no, one OK box, and the
Action menu. Each is modal; the safe choice has the focus.

What they say is often the app's sentence around a client's or a contact's name, a document's
name or an email address as typed: titles and messages are shown inert (client_text.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from .client_text import inert


class Confirm(ModalScreen[bool]):
    """A question with Yes and No. `y`/`n` answer; Esc is No; No has the focus."""

    BINDINGS = [
        Binding(
            "y",
            "answer(True)",
            "Yes",
            show=False,
            id="confirm.yes",
            tooltip="Answer Yes or No in a question",
        ),
        Binding(
            "n",
            "answer(False)",
            "No",
            show=False,
            id="confirm.no",
            tooltip="Answer Yes or No in a question",
        ),
        Binding(
            "escape",
            "answer(False)",
            "No",
            show=False,
            id="confirm.dismiss",
            tooltip="Go back; close a box; clear the filter",
        ),
    ]

    def __init__(self, title: str, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self._title, self._question, self._yes, self._no = title, question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(inert(self._title)), classes="dialog-title")
            yield Static(Text(inert(self._question, multiline=True)), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._yes, id="yes", variant="primary")
                yield Button(self._no, id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class Notice(ModalScreen[None]):
    """A message with one OK button (Enter or Esc closes it)."""

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "OK",
            show=False,
            id="notice.close",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "enter",
            "close",
            "OK",
            show=False,
            id="notice.ok",
            tooltip="Close a notice, a summary or the share history",
        ),
    ]

    def __init__(self, title: str, message: str, *, error: bool = False) -> None:
        super().__init__()
        self._title, self._message, self._error = title, message, error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -error" if self._error else "dialog"):
            yield Label(Text(inert(self._title)), classes="dialog-title")
            yield Static(Text(inert(self._message, multiline=True)), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ActionMenu(ModalScreen[str | None]):
    """The toolbar's Action menu: pick one action (Enter), or Esc for none."""

    BINDINGS = [
        Binding(
            "escape",
            "dismiss_none",
            "Close",
            show=False,
            id="menu.close",
            tooltip="Go back; close a box; clear the filter",
        )
    ]

    def __init__(self, title: str, actions: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._actions = actions  # (id, label)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog menu"):
            yield Label(Text(inert(self._title)), classes="dialog-title")
            yield OptionList(*(Option(Text(label), id=key) for key, label in self._actions))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

"""Forms that keep what was typed into them: `q` is the form's (the app's Quit does not apply
while a form or a dialog is open), and leaving with changes not saved — Esc, Cancel, or the
app's own quit — asks "Discard changes?" first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Select, TextArea

from portal_tui.domain import texts

from .modals import Confirm


class UnsavedChanges:
    """Mixed into a form Screen: `remember_as_saved()` once its fields hold what is stored;
    `leave(result)` dismisses it, asking first if anything was changed since."""

    HOLDS_TYPING = True  # the app hides and refuses its Quit key here
    _saved: tuple[Any, ...] | None = None

    def extra_state(self) -> Any:
        """What the form holds beyond its input widgets (a list of fields, say)."""
        return None

    def _state(self) -> tuple[Any, ...]:
        assert isinstance(self, Screen)
        values = [
            (widget.id, _value(widget))
            for widget in self.query("Input, TextArea, Checkbox, Select")
        ]
        return (*values, self.extra_state())

    def remember_as_saved(self) -> None:
        self._saved = self._state()

    def has_unsaved_changes(self) -> bool:
        return self._saved is not None and self._state() != self._saved

    def ask_to_discard(self, then: Callable[[], object]) -> None:
        """Run `then` at once if nothing is unsaved, else once the user says Discard."""
        assert isinstance(self, Screen)
        if not self.has_unsaved_changes():
            then()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                then()

        self.app.push_screen(
            Confirm(
                texts.DISCARD_TITLE,
                texts.DISCARD_QUESTION,
                yes=texts.DISCARD_YES,
                no=texts.DISCARD_NO,
            ),
            answered,
        )

    def leave(self, result: Any = None) -> None:
        assert isinstance(self, Screen)
        screen = self
        self.ask_to_discard(lambda: screen.dismiss(result))


def _value(widget: Any) -> Any:
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Input | Checkbox | Select):
        return widget.value
    return None


def form_keys(*, save: str = "Save", cancel_in_footer: bool = True) -> list[BindingType]:
    """A form's two keys, the same ids everywhere so [keymap] remaps every form at once: Esc
    (Cancel, asking before it drops what was typed) and Ctrl+S (Save, or what the form's
    button says)."""
    return [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            show=cancel_in_footer,
            id="form.cancel",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "ctrl+s",
            "save",
            save,
            id="form.save",
            tooltip="Save an Add or Edit screen; send a message",
        ),
    ]


class SaveOrCancel:
    """For a form with a Save button (id "save") and a Cancel one: each does what its key
    does. Mixed in after UnsavedChanges; the form has its own `action_save`."""

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        assert isinstance(self, UnsavedChanges)
        self.leave(None)

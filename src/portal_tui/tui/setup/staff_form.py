"""Add staff user (R1): login, name, email and role. The repository checks the fields and the
rules; a refusal shows in a Notice with its own words and the box stays open, what was typed
kept, so it can be corrected. Esc with something typed asks "Discard changes?" first."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from portal_tui.domain.decision import Invalid, Refused
from portal_tui.domain.states import StaffRole

from ..common.context import StaffAware
from ..common.modals import Notice
from ..common.unsaved import SaveOrCancel, UnsavedChanges, form_keys

ADD_TITLE = "Add staff user"
FIELDS = (
    ("staff-login", "Login", "their OS login, e.g. mkay"),
    ("staff-name", "Name", "Max Kay"),
    ("staff-email", "Email", "max@example.com"),
)


class StaffForm(UnsavedChanges, SaveOrCancel, ModalScreen[str | None], StaffAware):
    """Dismisses with the login added, or None (Cancel, Esc)."""

    BINDINGS = form_keys(cancel_in_footer=False)

    DEFAULT_CSS = """
    StaffForm .row {
        height: 1;
        margin-bottom: 1;
    }
    StaffForm .row > Label {
        width: 8;
    }
    StaffForm .row > Input, StaffForm .row > Select {
        width: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(ADD_TITLE), classes="dialog-title")
            for field_id, label, placeholder in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(Text(label))
                    yield Input(placeholder=placeholder, id=field_id, compact=True)
            with Horizontal(classes="row"):
                yield Label(Text("Role"))
                yield Select(
                    [(role.label, role) for role in StaffRole],
                    value=StaffRole.NORMAL,
                    allow_blank=False,
                    id="staff-role",
                    compact=True,
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#staff-login", Input).focus()
        self.remember_as_saved()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter goes on to the next field; on the email, the last one typed, it saves.
        event.stop()
        if event.input.id == "staff-email":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        self._save()

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    @work(group="staff-save", exclusive=True)
    async def _save(self) -> None:
        login, name, email = (self._value(field_id) for field_id, _, _ in FIELDS)
        chosen = self.query_one("#staff-role", Select).value
        role = chosen if isinstance(chosen, StaffRole) else StaffRole.NORMAL
        repo = self.staff.repo
        try:
            await asyncio.to_thread(repo.add_staff, login, name, email, role)
        except (Refused, Invalid) as refused:
            message = refused.message if isinstance(refused, Refused) else str(refused)
            await self.app.push_screen_wait(Notice(ADD_TITLE, message, error=True))
            return
        self.dismiss(login.strip())

"""New client and Edit client (R1: Admin and Normal staff): name, email, phone, address.

The repository checks the fields and the role; a refusal shows in the form in its own words,
what was typed kept and nothing saved. A Save crossed by another staff member's is refused
(their change stands): Reload shows theirs. Esc with something typed asks "Discard changes?"
first (unsaved.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from portal_tui.domain import texts
from portal_tui.domain.decision import EditConflict, Invalid, NotFound, Refused
from portal_tui.domain.records import ClientRow

from ..common.context import StaffAware
from ..common.modals import Confirm
from ..common.unsaved import SaveOrCancel, UnsavedChanges, form_keys

NEW_TITLE, EDIT_TITLE = "New client", "Edit client"
# (field, label, placeholder)
FIELDS = (
    ("name", "Name", "Ada Byrne"),
    ("primary_email", "Email", "ada@example.com"),
    ("phone", "Phone", "+1 555 0100"),
    ("address", "Address", "14 Elm St, Springfield"),
)


def refusal_text(refused: Exception) -> str:
    """The one sentence a refusal says (a rule's, or a field's)."""
    return refused.message if isinstance(refused, Refused) else str(refused)


class ClientForm(UnsavedChanges, SaveOrCancel, ModalScreen[ClientRow | None], StaffAware):
    """New (row None) or Edit a client; dismisses with the client as saved, or None."""

    BINDINGS = form_keys(cancel_in_footer=False)

    DEFAULT_CSS = """
    ClientForm .row {
        height: 1;
        margin-bottom: 1;
    }
    ClientForm .row > Label {
        width: 9;
    }
    ClientForm .row > Input {
        width: 1fr;
    }
    ClientForm #client-error {
        height: auto;
        color: $error;
        margin-bottom: 1;
    }
    ClientForm #client-error.-empty {
        display: none;
    }
    """

    def __init__(self, row: ClientRow | None = None, *, name: str = "") -> None:
        super().__init__()
        self.row = row
        self._name = name  # a New client from a picker starts with what was typed there

    @property
    def title_text(self) -> str:
        return EDIT_TITLE if self.row is not None else NEW_TITLE

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            for field, label, placeholder in FIELDS:
                value = getattr(self.row, field) if self.row is not None else None
                if self.row is None and field == "name":
                    value = self._name
                with Horizontal(classes="row"):
                    yield Label(Text(label + (" *" if field == "name" else "")))
                    yield Input(
                        value or "", placeholder=placeholder, id=f"client-{field}", compact=True
                    )
            yield Static("", id="client-error", classes="-empty")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#client-name", Input).focus()
        self.remember_as_saved()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter goes on to the next field; on the last one, it saves.
        event.stop()
        if event.input.id == f"client-{FIELDS[-1][0]}":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        self._save()

    def values(self) -> dict[str, Any]:
        return {field: self.query_one(f"#client-{field}", Input).value for field, _, _ in FIELDS}

    def show_error(self, message: str) -> None:
        error = self.query_one("#client-error", Static)
        error.update(Text(message))
        error.remove_class("-empty")

    @work(group="client-save", exclusive=True)
    async def _save(self) -> None:
        values = self.values()
        repo = self.staff.repo
        row = self.row
        try:
            if row is None:
                client_id = await asyncio.to_thread(lambda: repo.add_client(**values))
                saved = await asyncio.to_thread(repo.client, client_id)
            else:
                saved = await asyncio.to_thread(
                    lambda: repo.edit_client(row.id, expected_version=row.edit_version, **values)
                )
        except EditConflict as crossed:
            self.show_error(crossed.message)
            # Theirs stands: Reload shows it (dropping these changes); keeping them lets the
            # user copy what they typed first.
            if await self.app.push_screen_wait(
                Confirm(texts.NOT_SAVED, crossed.message, yes="Reload", no="Keep my changes")
            ):
                await self.reload()
            return
        except (Refused, Invalid, NotFound) as refused:
            self.show_error(refusal_text(refused))
            return
        self.dismiss(saved)

    async def reload(self) -> None:
        assert self.row is not None
        self.row = await asyncio.to_thread(self.staff.repo.client, self.row.id)
        await self.recompose()
        self.query_one("#client-name", Input).focus()
        self.remember_as_saved()

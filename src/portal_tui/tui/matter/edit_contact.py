"""Edit Contact (C1): a portal contact's name and email, corrected. The repository checks
them (the email as an invitation's) and tells the portal; a refusal shows in the box, which
stays open with what was typed. Esc with something changed asks "Discard changes?" first."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from portal_tui.domain.decision import Invalid, NotFound, Refused
from portal_tui.domain.records import ContactRow

from ..common.context import StaffAware
from ..common.unsaved import SaveOrCancel, UnsavedChanges, form_keys

EDIT_CONTACT_TITLE = "Edit Contact"


class EditContact(UnsavedChanges, SaveOrCancel, ModalScreen[str | None], StaffAware):
    """Dismisses with the message to show once saved, or None (Cancel, Esc)."""

    DEFAULT_CSS = """
    EditContact Input, EditContact Input:focus {
        height: 1;
        border: none;
        padding: 0 1;
        margin-bottom: 1;
    }
    EditContact Input:focus {
        background-tint: $primary 20%;
    }
    EditContact #contact-error {
        height: auto;
        color: $error;
    }
    EditContact #contact-error.-empty {
        display: none;
    }
    """

    BINDINGS = form_keys(cancel_in_footer=False)

    def __init__(self, contact: ContactRow) -> None:
        super().__init__()
        self.contact = contact

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(EDIT_CONTACT_TITLE), classes="dialog-title")
            yield Label(Text("Name"))
            yield Input(self.contact.name, id="contact-name")
            yield Label(Text("Email"))
            yield Input(self.contact.email, placeholder="name@example.com", id="contact-email")
            yield Static("", id="contact-error", classes="-empty")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#contact-name", Input).focus()
        self.remember_as_saved()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "contact-email":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        self._save()

    @work(group="contact-save", exclusive=True)
    async def _save(self) -> None:
        name = self.query_one("#contact-name", Input).value
        email = self.query_one("#contact-email", Input).value
        repo, contact = self.staff.repo, self.contact
        try:
            message = await asyncio.to_thread(
                lambda: repo.edit_contact(
                    contact.id, name=name, email=email, expected_version=contact.version
                )
            )
        except (Refused, Invalid, NotFound) as refused:
            # EditConflict is a Refused: someone changed the contact since (theirs stands).
            text = refused.message if isinstance(refused, Refused) else str(refused)
            error = self.query_one("#contact-error", Static)
            error.update(Text(text))
            error.remove_class("-empty")
            return
        self.dismiss(message)

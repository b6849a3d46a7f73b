"""Invite Contact (C1): the client's name and email; a blank email may be typed, and is then
saved as the client's primary email. The repository decides (role, M1, the email itself); a
refusal shows in the box, which stays open so the email can be corrected."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from portal_tui.domain import texts
from portal_tui.domain.decision import Invalid, NotFound, Refused

from ..common.client_text import inert
from ..common.context import StaffAware
from ..common.unsaved import UnsavedChanges

INVITE_TITLE = "Invite Contact"


class InviteContact(UnsavedChanges, ModalScreen[str | None], StaffAware):
    """Dismisses with the message to show once invited, or None (Cancel, Esc)."""

    DEFAULT_CSS = """
    InviteContact .invite-line {
        height: auto;
        padding: 0 0 1 0;
    }
    InviteContact .invite-hint {
        height: auto;
        color: $text-muted;
        padding: 0 0 1 0;
    }
    InviteContact Input, InviteContact Input:focus {
        height: 1;
        border: none;
        padding: 0 1;
        margin-bottom: 1;
    }
    InviteContact Input:focus {
        background-tint: $primary 20%;
    }
    InviteContact #invite-error {
        height: auto;
        color: $error;
    }
    InviteContact #invite-error.-empty {
        display: none;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            show=False,
            id="invite.cancel",
            tooltip="Go back; close a box; clear the filter",
        )
    ]

    def __init__(
        self,
        matter_id: int,
        client_id: int,
        name: str,
        email: str | None,
        *,
        primary_email: str | None,
    ) -> None:
        super().__init__()
        self.matter_id, self.client_id = matter_id, client_id
        self.contact_name = name
        self._email = email or ""
        self._primary = primary_email

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(INVITE_TITLE), classes="dialog-title")
            yield Static(
                Text.assemble("Client: ", (inert(self.contact_name), "bold")),
                id="invite-name",
                classes="invite-line",
            )
            yield Label(Text("Email"))
            yield Input(self._email, placeholder="name@example.com", id="invite-email")
            if not (self._primary or "").strip():
                yield Static(
                    Text(texts.INVITE_EMAIL_BECOMES_PRIMARY.format(name=inert(self.contact_name))),
                    classes="invite-hint",
                )
            yield Static(Text(texts.INVITE_EXPLAINS), classes="invite-hint")
            yield Static("", id="invite-error", classes="-empty")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(INVITE_TITLE, id="invite", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#invite-email", Input).focus()
        self.remember_as_saved()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_invite()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "invite":
            self.action_invite()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.leave(None)

    def action_invite(self) -> None:
        self._invite()

    @work(group="invite", exclusive=True)
    async def _invite(self) -> None:
        email = self.query_one("#invite-email", Input).value.strip()
        repo = self.staff.repo
        try:
            await asyncio.to_thread(
                lambda: repo.invite_contact(
                    self.matter_id, self.client_id, name=self.contact_name, email=email
                )
            )
        except (Refused, Invalid, NotFound) as refused:
            message = refused.message if isinstance(refused, Refused) else str(refused)
            error = self.query_one("#invite-error", Static)
            error.update(Text(message))
            error.remove_class("-empty")
            return
        self.dismiss(texts.CONTACT_INVITED.format(email=email))

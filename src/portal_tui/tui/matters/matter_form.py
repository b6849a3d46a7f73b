"""New matter and Edit matter (R1: Admin and Normal staff): number, name, client (chosen from
a filterable list, where a new client can be added), responsible staff user (an active one),
status and practice area.

The repository checks it all; a refusal shows in the form in its own words and nothing is
saved. Closing a matter whose portal is ON asks whether to turn its portal off too (M4): Yes
closes it and turns the portal off in one change, the share marks kept; No closes it only. A
Save crossed by another staff member's is refused, theirs standing; Reload shows it. Esc with
something changed asks "Discard changes?" first (unsaved.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Select, Static

from portal_tui.domain import texts
from portal_tui.domain.decision import (
    EditConflict,
    Invalid,
    NeedsConfirmation,
    NotFound,
    Refused,
)
from portal_tui.domain.records import ClientRow, MatterDetail, StaffRow
from portal_tui.domain.states import MatterStatus

from ..common.client_text import inert
from ..common.context import StaffAware
from ..common.footer import footer
from ..common.modals import Confirm
from ..common.unsaved import UnsavedChanges, form_keys

NEW_TITLE, EDIT_TITLE = "New matter", "Edit matter"
CLOSE_TITLE = "Close matter"
NO_CLIENT = "(none chosen)"


def _refusal(refused: Exception) -> str:
    return refused.message if isinstance(refused, Refused) else str(refused)


def responsible_choices(
    staff: list[StaffRow], detail: MatterDetail | None
) -> list[tuple[str, int]]:
    """The active staff users by name; a matter's responsible user no longer active stays
    listed (as it is), so that opening the form changes nothing by itself."""
    choices = [(row.name, row.id) for row in staff if row.active]
    kept = detail.responsible_id if detail is not None else None
    if detail is not None and kept is not None and kept not in {i for _, i in choices}:
        name = detail.responsible_name or f"Staff user {kept}"
        choices.append((f"{name} (disabled)", kept))
    return choices


class MatterForm(UnsavedChanges, Screen[int | None], StaffAware):
    """New (detail None) or Edit a matter; dismisses with its id, or None."""

    BINDINGS = form_keys()

    DEFAULT_CSS = """
    MatterForm #matter-client-row {
        height: 1;
        margin-bottom: 1;
    }
    MatterForm #matter-client-name {
        width: 1fr;
        padding: 0 1;
    }
    MatterForm Select, MatterForm Input {
        margin-bottom: 1;
    }
    MatterForm #form-error {
        height: auto;
        color: $error;
    }
    """

    def __init__(self, staff: list[StaffRow], detail: MatterDetail | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.staff_rows = staff
        self.client: ClientRow | None = detail.client if detail is not None else None

    def extra_state(self) -> Any:
        return self.client.id if self.client is not None else None

    def compose(self) -> ComposeResult:
        detail = self.detail
        with Vertical(id="matter-form"):
            yield Label(
                Text(EDIT_TITLE if detail is not None else NEW_TITLE), classes="screen-title"
            )
            with VerticalScroll():
                yield Label(Text("Number *"))
                yield Input(detail.number if detail else "", id="matter-number", compact=True)
                yield Label(Text("Name *"))
                yield Input(detail.name if detail else "", id="matter-name", compact=True)
                yield Label(Text("Client *"))
                with Horizontal(id="matter-client-row"):
                    yield Static(self._client_text(), id="matter-client-name")
                    yield Button("Choose...", id="matter-client", compact=True)
                yield Label(Text("Responsible"))
                responsible = detail.responsible_id if detail else None
                yield Select(
                    responsible_choices(self.staff_rows, detail),
                    value=responsible if responsible is not None else Select.NULL,
                    prompt="(nobody)",
                    allow_blank=True,
                    id="matter-responsible",
                    compact=True,
                )
                yield Label(Text("Status"))
                yield Select(
                    [(status.value.capitalize(), status) for status in MatterStatus],
                    value=detail.status if detail else MatterStatus.OPEN,
                    allow_blank=False,
                    id="matter-status",
                    compact=True,
                )
                yield Label(Text("Practice area"))
                yield Input(
                    (detail.practice_area or "") if detail else "",
                    placeholder="e.g. Probate",
                    id="matter-practice-area",
                    compact=True,
                )
                yield Static("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
        yield footer()

    def _client_text(self) -> Text:
        if self.client is None:
            return Text(NO_CLIENT, style="dim")
        return Text(inert(self.client.name))

    def on_mount(self) -> None:
        self.query_one("#matter-number", Input).focus()
        self.remember_as_saved()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "matter-client":
            self._choose_client()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.leave(None)

    def action_save(self) -> None:
        self._save()

    @work(group="matter-client", exclusive=True)
    async def _choose_client(self) -> None:
        from .client_picker import ClientPicker

        chosen: ClientRow | None = await self.app.push_screen_wait(ClientPicker())
        if chosen is not None:
            self.client = chosen
            self.query_one("#matter-client-name", Static).update(self._client_text())
        self.query_one("#matter-client", Button).focus()

    def values(self) -> dict[str, Any]:
        responsible = self.query_one("#matter-responsible", Select).value
        status = self.query_one("#matter-status", Select).value
        return {
            "number": self.query_one("#matter-number", Input).value,
            "name": self.query_one("#matter-name", Input).value,
            "client_id": self.client.id if self.client is not None else None,
            "responsible_id": responsible if isinstance(responsible, int) else None,
            "status": status if isinstance(status, MatterStatus) else MatterStatus.OPEN,
            "practice_area": self.query_one("#matter-practice-area", Input).value,
        }

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(Text(message, style="bold"))

    @work(group="matter-save", exclusive=True)
    async def _save(self) -> None:
        values = self.values()
        repo = self.staff.repo
        detail = self.detail
        try:
            if detail is None:
                client_id = values.pop("client_id")
                matter_id = await asyncio.to_thread(lambda: repo.add_matter(client_id, **values))
            else:
                matter_id = detail.id

                def edit(portal_off: bool | None) -> MatterDetail:
                    assert detail is not None
                    return repo.edit_matter(
                        detail.id,
                        expected_version=detail.edit_version,
                        portal_off=portal_off,
                        **values,
                    )

                try:
                    await asyncio.to_thread(edit, None)
                except NeedsConfirmation as asked:
                    # M4: closing a matter whose portal is ON: off too (Yes), or not (No).
                    off = await self.app.push_screen_wait(Confirm(CLOSE_TITLE, asked.question))
                    await asyncio.to_thread(edit, bool(off))
        except EditConflict as crossed:
            self.show_error(crossed.message)
            if await self.app.push_screen_wait(
                Confirm(texts.NOT_SAVED, crossed.message, yes="Reload", no="Keep my changes")
            ):
                await self.reload()
            return
        except (Refused, Invalid, NotFound) as refused:
            self.show_error(_refusal(refused))
            return
        self.staff.wake_delivery()  # a new number or name, a portal turned off: to the portal
        self.dismiss(matter_id)

    async def reload(self) -> None:
        assert self.detail is not None
        self.detail = await asyncio.to_thread(self.staff.repo.matter, self.detail.id)
        self.client = self.detail.client
        await self.recompose()
        self.query_one("#matter-number", Input).focus()
        self.remember_as_saved()

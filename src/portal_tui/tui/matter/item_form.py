"""Add and Edit screens for calendar events, tasks and notes. Their Details section holds the
"Share via Client Portal" box; Save applies it with the rest, and unchecking then saving
unshares (S2)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import EditConflict, Invalid, NotFound, Refused
from portal_tui.domain.kinds import ItemKind

from ..common.context import StaffAware
from ..common.footer import footer
from ..common.modals import Confirm, Notice
from ..common.tick_box import TickBox
from ..common.unsaved import SaveOrCancel, UnsavedChanges, form_keys


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str = "line"  # line, area, date, datetime, check
    required: bool = False


FIELDS: dict[ItemKind, list[Field]] = {
    ItemKind.EVENT: [
        Field("title", "Title", required=True),
        Field("all_day", texts.ALL_DAY, "check"),
        Field("starts_at", "Starts (YYYY-MM-DD HH:MM)", "datetime", required=True),
        Field("ends_at", "Ends (YYYY-MM-DD HH:MM)", "datetime"),
        Field("first_day", "Day (YYYY-MM-DD)", "date", required=True),
        Field("last_day", "Last day (YYYY-MM-DD, if more than one)", "date"),
        Field("location", "Location"),
        Field("description", "Description", "area"),
    ],
    ItemKind.TASK: [
        Field("title", "Task", required=True),
        Field("due_on", "Due (YYYY-MM-DD)", "date"),
        Field("done", "Done", "check"),
        Field("description", "Description", "area"),
    ],
    ItemKind.NOTE: [
        Field("subject", "Subject", required=True),
        Field("body", "Note", "area"),
    ],
}

# An event's All day box shows the fields of its days and hides those of its times; the
# hidden ones are neither checked nor saved.
TIMES = frozenset({"starts_at", "ends_at"})
DAYS = frozenset({"first_day", "last_day"})

TITLES = {ItemKind.EVENT: "Calendar Event", ItemKind.TASK: "Task", ItemKind.NOTE: "Note"}


def _show(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "datetime" and isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse(field: Field, raw: str) -> Any:
    raw = raw.strip()
    if not raw:
        if field.required:
            raise Invalid(f"{field.label.split(' (')[0]} cannot be blank.")
        return None if field.kind != "line" else ""
    try:
        if field.kind == "date":
            return date.fromisoformat(raw)
        if field.kind == "datetime":
            # Typed in local time, kept in UTC.
            return datetime.strptime(raw, "%Y-%m-%d %H:%M").astimezone()
    except ValueError:
        raise Invalid(f"{field.label}: {raw!r} is not a valid date.") from None
    return raw


class ItemForm(UnsavedChanges, SaveOrCancel, Screen[int | None], StaffAware):
    """Add (row None) or Edit an event, task or note of one matter; dismisses with its id."""

    BINDINGS = form_keys()

    def __init__(self, kind: ItemKind, matter_id: int, row: Any | None = None) -> None:
        super().__init__()
        self.kind, self.matter_id, self.row = kind, matter_id, row

    def compose(self) -> ComposeResult:
        verb = "Edit" if self.row is not None else "Add"
        with Vertical(id="item-form"):
            yield Label(Text(f"{verb} {TITLES[self.kind]}"), classes="screen-title")
            with VerticalScroll():
                for field in FIELDS[self.kind]:
                    value = getattr(self.row, field.name, None) if self.row is not None else None
                    if field.kind == "check":
                        yield TickBox(field.label, bool(value), id=f"f-{field.name}")
                        continue
                    yield Label(
                        Text(field.label + (" *" if field.required else "")),
                        id=f"l-{field.name}",
                    )
                    if field.kind == "area":
                        yield TextArea(_show(value, field.kind), id=f"f-{field.name}")
                    else:
                        yield Input(_show(value, field.kind), id=f"f-{field.name}")
                yield Label(Text("Details"), classes="section-title")
                shared = bool(self.row is not None and self.row.share.wanted)
                # R1: a user who may not share this kind sees the box, but cannot change it.
                may_share = bool(rules.r1_may_share(self.staff.role, self.kind))
                yield TickBox(texts.SHARE_VIA_PORTAL, shared, id="share", disabled=not may_share)
                yield Static("", id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
        yield footer()

    def on_mount(self) -> None:
        self._show_when()
        self.query(Input).first().focus()
        self.remember_as_saved()

    def _all_day(self) -> bool:
        boxes = self.query("#f-all_day")
        return bool(boxes and boxes.first(Checkbox).value)

    def _hidden(self) -> frozenset[str]:
        if self.kind is not ItemKind.EVENT:
            return frozenset()
        return TIMES if self._all_day() else DAYS

    def _show_when(self) -> None:
        hidden = self._hidden()
        for name in TIMES | DAYS if self.kind is ItemKind.EVENT else ():
            for widget in self.query(f"#l-{name}, #f-{name}"):
                widget.display = name not in hidden

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "f-all_day":
            self._show_when()

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        hidden = self._hidden()
        for field in FIELDS[self.kind]:
            if field.name in hidden:
                continue
            widget = self.query_one(f"#f-{field.name}")
            if isinstance(widget, Checkbox):
                values[field.name] = widget.value
            elif isinstance(widget, TextArea):
                values[field.name] = _parse(field, widget.text)
            else:
                assert isinstance(widget, Input)
                values[field.name] = _parse(field, widget.value)
        return values

    def action_save(self) -> None:
        self._save()

    @work(group="save", exclusive=True)
    async def _save(self) -> None:
        error = self.query_one("#form-error", Static)
        try:
            values = self._values()
        except Invalid as bad:
            error.update(Text(str(bad), style="bold red"))
            return
        share = self.query_one("#share", Checkbox).value
        repo = self.staff.repo
        try:
            item_id: int
            if self.row is None:
                add: Any = {
                    ItemKind.EVENT: repo.add_event,
                    ItemKind.TASK: repo.add_task,
                    ItemKind.NOTE: repo.add_note,
                }[self.kind]
                item_id = await asyncio.to_thread(
                    lambda: int(add(self.matter_id, share=share, **values))
                )
            else:
                item_id = self.row.id
                # The box is sent only if the user changed it: a share or unshare made by
                # someone else since the screen opened must not be undone by an untouched box.
                box = share if share != self.row.share.wanted else None
                version = self.row.edit_version
                await asyncio.to_thread(
                    partial(
                        repo.edit_item,
                        self.kind,
                        item_id,
                        share=box,
                        expected_version=version,
                        **values,
                    )
                )
        except EditConflict as crossed:
            # Someone else saved it first: theirs stands. Reloading shows it (and drops these
            # changes); keeping them lets the user copy what they typed before reloading.
            if await self.app.push_screen_wait(
                Confirm(texts.NOT_SAVED, crossed.message, yes="Reload", no="Keep my changes")
            ):
                await self.reload()
            return
        except (Refused, Invalid, NotFound) as refused:
            message = refused.message if isinstance(refused, Refused) else str(refused)
            await self.app.push_screen_wait(
                Notice(texts.SHARE_VIA_PORTAL if share else "Save", message, error=True)
            )
            return
        self.staff.wake_delivery()
        self.dismiss(item_id)

    async def reload(self) -> None:
        """Show the item as it now is, everyone's changes in it."""
        assert self.row is not None
        self.row = await asyncio.to_thread(self.staff.repo.item_row, self.kind, self.row.id)
        await self.recompose()
        self._show_when()
        self.query(Input).first().focus()
        self.remember_as_saved()

"""Add and Edit an intake form: its name, description and processing rule (associate with an
existing matter, or create a new one), and its fields — each with a label, a type, whether it
is required, and which client or matter field it fills when submitted (S4).

Fields are added, edited, removed and reordered from the keyboard on the fields list. Nothing
is saved until Save; the repository checks the whole form and says what is wrong, if anything.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TextArea

from portal_tui.domain import texts
from portal_tui.domain.decision import EditConflict, Invalid, NotFound, Refused
from portal_tui.domain.records import Key, MatterRow, Page
from portal_tui.domain.states import FieldType, FormRule
from portal_tui.repository.items import FORM_TARGETS, check_form_fields

from ..common.columns import matter_columns
from ..common.context import StaffAware
from ..common.footer import footer
from ..common.item_table import ItemTable, text
from ..common.modals import Confirm, Notice
from ..common.tick_box import TickBox
from ..common.unsaved import UnsavedChanges

if TYPE_CHECKING:
    from portal_tui.repository.forms import IntakeFormRow


TITLE = "Intake Form"
TYPE_LABELS: dict[FieldType, str] = {
    FieldType.TEXT: "Text",
    FieldType.MULTILINE: "Multi-line",
    FieldType.DATE: "Date",
    FieldType.CHOICE: "Choice",
    FieldType.EMAIL: "Email",
    FieldType.PHONE: "Phone",
}
RULE_LABELS: dict[FormRule, str] = {
    FormRule.ASSOCIATE: "Associate with an existing matter",
    FormRule.CREATE: "Create a new matter",
}
# Client fields first, then the matter's, each in the order a person reads them.
TARGETS: tuple[str, ...] = tuple(
    sorted(FORM_TARGETS, key=lambda t: (not t.startswith("client."), t != "client.name", t))
)


def target_label(target: str | None) -> str:
    """A form target as a person says it: "client.primary_email" is "Client primary email"."""
    if not target:
        return ""
    owner, _, field = target.partition(".")
    return f"{owner.capitalize()} {field.replace('_', ' ')}"


@dataclass(frozen=True, slots=True)
class DraftField:
    """One field of the form being edited. `key` names its answers in submissions, so an
    existing field keeps its key whatever its label becomes."""

    key: str
    label: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    target: str | None = None

    def stored(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type.value,
            "required": self.required,
            "choices": list(self.choices) if self.type is FieldType.CHOICE else [],
            "target": self.target,
        }


def matter_words(number: str | None, name: str | None, client: str | None) -> Text:
    """The chosen matter as the editor shows it: "2026-0003 Estate of Byrne (Ada Byrne)"."""
    return Text.assemble(
        text(number), " ", text(name), " (", text(client), ")", no_wrap=True, overflow="ellipsis"
    )


def new_key(label: str, taken: set[str]) -> str:
    """A key for a new field, from its label, unlike any other field's of the form."""
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "field"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


def _dialog_css(screen: str) -> str:
    return f"""
    {screen} .row {{
        height: 1;
        margin-bottom: 1;
    }}
    {screen} .row > Label {{
        width: 16;
    }}
    {screen} .row > Input, {screen} .row > Select {{
        width: 1fr;
    }}
    {screen} .error {{
        height: auto;
        color: $text-error;
    }}
    """


# One field ----------------------------------------------------------------------------------


class FieldEditor(UnsavedChanges, ModalScreen["DraftField | None"]):
    """Add or edit one field. OK (or Ctrl+S) checks it; Esc leaves the form as it was."""

    DEFAULT_CSS = (
        _dialog_css("FieldEditor")
        + """
    FieldEditor #fe-choices-box {
        height: auto;
        margin-bottom: 1;
    }
    FieldEditor #fe-choices-box.-hidden {
        display: none;
    }
    FieldEditor TextArea, FieldEditor TextArea:focus {
        height: 4;
        border: none;
        padding: 0 1;
        background-tint: $foreground 5%;
    }
    FieldEditor TickBox, FieldEditor TickBox:focus {
        border: none;
        padding: 0;
        background: transparent;
    }
    """
    )

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="field.cancel",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "ctrl+s",
            "ok",
            "OK",
            id="field.ok",
            tooltip="Save an Add or Edit screen; send a message",
        ),
    ]

    def __init__(self, field: DraftField | None, taken: set[str]) -> None:
        super().__init__()
        self.field = field
        self.taken = taken  # the other fields' keys

    def compose(self) -> ComposeResult:
        f = self.field or DraftField("", "", FieldType.TEXT)
        with Vertical(classes="dialog"):
            yield Label(Text("Edit field" if self.field else "Add field"), classes="dialog-title")
            with Horizontal(classes="row"):
                yield Label(Text("Label *"))
                yield Input(f.label, id="fe-label", compact=True)
            with Horizontal(classes="row"):
                yield Label(Text("Type"))
                yield Select(
                    [(label, t) for t, label in TYPE_LABELS.items()],
                    value=f.type,
                    allow_blank=False,
                    id="fe-type",
                    compact=True,
                )
            with Vertical(id="fe-choices-box"):
                yield Label(Text("Choices, one per line *"))
                yield TextArea("\n".join(f.choices), id="fe-choices", soft_wrap=False)
            with Horizontal(classes="row"):
                yield Label(Text(""))
                yield TickBox("Required", f.required, id="fe-required")
            with Horizontal(classes="row"):
                yield Label(Text("Fills"))
                yield Select(
                    [(target_label(t), t) for t in TARGETS],
                    value=f.target if f.target else Select.NULL,
                    prompt="Nothing",
                    id="fe-target",
                    compact=True,
                )
            yield Static(id="fe-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self._show_choices()
        self.query_one("#fe-label", Input).focus()
        self.remember_as_saved()

    def _type(self) -> FieldType:
        value = self.query_one("#fe-type", Select).value
        return value if isinstance(value, FieldType) else FieldType.TEXT

    def _show_choices(self) -> None:
        box = self.query_one("#fe-choices-box")
        box.set_class(self._type() is not FieldType.CHOICE, "-hidden")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "fe-type":
            self._show_choices()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_ok()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.leave(None)

    def action_ok(self) -> None:
        label = self.query_one("#fe-label", Input).value.strip()
        error = self.query_one("#fe-error", Static)
        if not label:
            error.update(Text("Label cannot be blank."))
            self.query_one("#fe-label", Input).focus()
            return
        lines = self.query_one("#fe-choices", TextArea).text.splitlines()
        target = self.query_one("#fe-target", Select).value
        draft = DraftField(
            key=self.field.key if self.field else new_key(label, self.taken),
            label=label,
            type=self._type(),
            required=self.query_one("#fe-required", TickBox).value,
            choices=tuple(c.strip() for c in lines if c.strip()),
            target=target if isinstance(target, str) else None,
        )
        try:
            # The repository's own check (pure, no database): the same words as on Save.
            check_form_fields([draft.stored()])
        except Invalid as bad:
            error.update(Text(str(bad)))
            return
        self.dismiss(draft)


# The matter an associate form fills ------------------------------------------------------------


class MatterPicker(ModalScreen["MatterRow | None"], StaffAware):
    """Type to filter the matters, Enter or Down to the list, Enter picks; Esc picks none."""

    DEFAULT_CSS = """
    MatterPicker > #mp-box {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    MatterPicker #mp-title {
        text-style: bold;
        padding: 0 0 1 0;
    }
    MatterPicker #mp-filter, MatterPicker #mp-filter:focus {
        height: 1;
        border: none;
        padding: 0 1;
        margin-bottom: 1;
        background-tint: $primary 20%;
    }
    MatterPicker ItemTable {
        height: 12;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="matter-picker.cancel",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "down", "to_list", "List", show=False, id="matter-picker.list", tooltip="Move in a list"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._filter = ""

    def compose(self) -> ComposeResult:
        glyphs = self.staff.glyphs
        with Vertical(id="mp-box"):
            yield Label(Text("Choose the matter"), id="mp-title")
            yield Input(placeholder="Filter: number, matter or client", id="mp-filter")
            yield ItemTable(matter_columns(glyphs), self._fetch, glyphs, shares=False)

    def on_mount(self) -> None:
        self.query_one("#mp-filter", Input).focus()

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[MatterRow]:
        return self.staff.repo.list_matters(self._filter, after=after, before=before, limit=limit)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value
        self.query_one(ItemTable).reload_soon()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_to_list()

    def action_to_list(self) -> None:
        self.query_one(ItemTable).focus()

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        event.stop()
        self.dismiss(event.row)

    def action_cancel(self) -> None:
        self.dismiss(None)


# The form ---------------------------------------------------------------------------------------


class FieldsTable(DataTable[Text]):
    """The form's fields in order; their keys act on the highlighted one."""

    BINDINGS = [
        Binding("n", "screen.add_field", "Add field", id="fields.add", tooltip="Add a form field"),
        Binding(
            "e",
            "screen.edit_field",
            "Edit",
            show=False,
            id="fields.edit",
            tooltip="Edit a form field",
        ),
        Binding(
            "x,delete",
            "screen.remove_field",
            "Remove",
            id="fields.remove",
            tooltip="Remove a form field",
        ),
        Binding(
            "K,shift+up",
            "screen.move_field(-1)",
            "Up",
            id="fields.up",
            tooltip="Move a form field up or down",
        ),
        Binding(
            "J,shift+down",
            "screen.move_field(1)",
            "Down",
            id="fields.down",
            tooltip="Move a form field up or down",
        ),
    ]


class IntakeFormEditor(UnsavedChanges, Screen["int | None"], StaffAware):
    """Add (row None) or Edit an intake form; dismisses with its id once saved."""

    DEFAULT_CSS = """
    IntakeFormEditor #ife {
        padding: 0 1;
    }
    IntakeFormEditor #ife-title {
        text-style: bold;
        margin-bottom: 1;
    }
    IntakeFormEditor .row {
        height: 1;
        margin-bottom: 1;
    }
    IntakeFormEditor .row.-hidden {
        display: none;
    }
    IntakeFormEditor .row > Label {
        width: 17;
    }
    IntakeFormEditor .row > Input, IntakeFormEditor .row > Select {
        width: 1fr;
    }
    IntakeFormEditor #ife-matter {
        width: 1fr;
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    IntakeFormEditor #ife-matter.-none {
        color: $text-muted;
    }
    IntakeFormEditor #ife-choose {
        margin-left: 1;
    }
    IntakeFormEditor #ife-fields-head {
        height: 1;
    }
    IntakeFormEditor #ife-fields-head > Label {
        text-style: bold;
        color: $primary;
        margin-right: 2;
    }
    IntakeFormEditor #ife-fields-keys {
        color: $text-muted;
    }
    IntakeFormEditor #ife-fields {
        height: 1fr;
        min-height: 3;
        scrollbar-size-vertical: 1;
    }
    IntakeFormEditor .toolbar {
        height: 1;
        padding: 0;
    }
    IntakeFormEditor .toolbar Button {
        margin-right: 1;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="form.cancel",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="form.save",
            tooltip="Save an Add or Edit screen; send a message",
        ),
    ]

    def __init__(self, row: IntakeFormRow | None = None) -> None:
        super().__init__()
        self._take(row)

    def _take(self, row: IntakeFormRow | None) -> None:
        """Start from `row` (the form as read), or from nothing."""
        self.row = row
        self.fields: list[DraftField] = [
            DraftField(
                f.key,
                f.label,
                FieldType(f.type),
                f.required,
                tuple(f.choices),
                f.target,
            )
            for f in (row.fields if row is not None else ())
        ]
        self.matter_id: int | None = row.matter_id if row is not None else None

    def compose(self) -> ComposeResult:
        row = self.row
        rule = row.rule if row is not None else FormRule.ASSOCIATE
        with Vertical(id="ife"):
            verb = "Edit" if row is not None else "Add"
            yield Label(Text(f"{verb} Intake Form"), id="ife-title")
            with Horizontal(classes="row"):
                yield Label(Text("Name *"))
                yield Input(row.name if row else "", id="ife-name", compact=True)
            with Horizontal(classes="row"):
                yield Label(Text("Description"))
                yield Input(
                    (row.description or "") if row else "", id="ife-description", compact=True
                )
            with Horizontal(classes="row"):
                yield Label(Text("Processing rule"))
                yield Select(
                    [(label, r) for r, label in RULE_LABELS.items()],
                    value=rule,
                    allow_blank=False,
                    id="ife-rule",
                    compact=True,
                )
            with Horizontal(classes="row", id="ife-matter-row"):
                yield Label(Text("Matter *"))
                yield Static(self._matter_text(), id="ife-matter")
                yield Button("Choose...", id="ife-choose", compact=True)
            with Horizontal(id="ife-fields-head"):
                yield Label(Text("Fields"))
                yield Static(
                    Text("on the list: n add, Enter edit, x remove, K/J move"), id="ife-fields-keys"
                )
            yield FieldsTable(id="ife-fields", cursor_type="row", zebra_stripes=False)
            with Horizontal(classes="toolbar"):
                yield Button("Add field", id="ife-add", compact=True)
                yield Button("Edit", id="ife-edit", compact=True)
                yield Button("Remove", id="ife-remove", compact=True)
                yield Button("Up", id="ife-up", compact=True)
                yield Button("Down", id="ife-down", compact=True)
            with Horizontal(classes="form-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")
        yield footer()

    def _matter_text(self) -> Text:
        row = self.row
        if row is not None and row.matter_id is not None and row.matter_id == self.matter_id:
            return matter_words(row.matter_number, row.matter_name, row.client_name)
        return Text("(none chosen)")

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(FieldsTable)
        table.add_column(Text("Label"), width=28, key="label")
        table.add_column(Text("Type"), width=11, key="type")
        table.add_column(Text("Required"), width=8, key="required")
        table.add_column(Text("Fills"), width=21, key="target")
        self._show_fields()
        self._show_rule()
        self.query_one("#ife-matter", Static).set_class(self.matter_id is None, "-none")
        self.query_one("#ife-name", Input).focus()
        self.remember_as_saved()

    # The form's parts ------------------------------------------------------------------------

    def _rule(self) -> FormRule:
        value = self.query_one("#ife-rule", Select).value
        return value if isinstance(value, FormRule) else FormRule.ASSOCIATE

    def _show_rule(self) -> None:
        row = self.query_one("#ife-matter-row")
        row.set_class(self._rule() is not FormRule.ASSOCIATE, "-hidden")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._show_rule()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def _show_fields(self, cursor: int | None = None) -> None:
        table = self.query_one(FieldsTable)
        if cursor is None:
            cursor = table.cursor_row
        table.clear()
        for f in self.fields:
            kind = TYPE_LABELS[f.type]
            if f.type is FieldType.CHOICE:
                kind += f" ({len(f.choices)})"
            table.add_row(
                text(f.label),
                Text(kind),
                Text("Yes" if f.required else ""),
                Text(target_label(f.target)),
            )
        if self.fields:
            table.move_cursor(row=max(0, min(cursor, len(self.fields) - 1)), animate=False)

    def _current(self) -> int | None:
        table = self.query_one(FieldsTable)
        if not self.fields:
            return None
        return max(0, min(table.cursor_row, len(self.fields) - 1))

    # Field keys (on the fields list) and buttons -------------------------------------------

    def action_add_field(self) -> None:
        self._edit_field(None)

    def action_edit_field(self) -> None:
        index = self._current()
        if index is not None:
            self._edit_field(index)

    @work(group="edit", exclusive=True)
    async def _edit_field(self, index: int | None) -> None:
        keys = {f.key for i, f in enumerate(self.fields) if i != index}
        current = self.fields[index] if index is not None else None
        draft = await self.app.push_screen_wait(FieldEditor(current, keys))
        table = self.query_one(FieldsTable)
        if draft is not None:
            if index is None:
                self.fields.append(draft)
                index = len(self.fields) - 1
            else:
                self.fields[index] = draft
            self._show_fields(index)
        table.focus()

    def action_remove_field(self) -> None:
        index = self._current()
        if index is not None:
            del self.fields[index]
            self._show_fields(index)

    def action_move_field(self, by: int) -> None:
        index = self._current()
        if index is None or not 0 <= index + by < len(self.fields):
            return
        fields = self.fields
        fields[index], fields[index + by] = fields[index + by], fields[index]
        self._show_fields(index + by)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit_field()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions: dict[str, Callable[[], None]] = {
            "ife-choose": self.action_choose_matter,
            "ife-add": self.action_add_field,
            "ife-edit": self.action_edit_field,
            "ife-remove": self.action_remove_field,
            "ife-up": partial(self.action_move_field, -1),
            "ife-down": partial(self.action_move_field, 1),
            "save": self.action_save,
            "cancel": self.action_cancel,
        }
        button = event.button.id or ""
        handler = actions.get(button)
        if handler is not None:
            handler()
        if button in ("ife-remove", "ife-up", "ife-down"):
            self.query_one(FieldsTable).focus()  # back on the field the button moved

    # The matter ------------------------------------------------------------------------------

    def action_choose_matter(self) -> None:
        self._choose_matter()

    @work(group="edit", exclusive=True)
    async def _choose_matter(self) -> None:
        matter = await self.app.push_screen_wait(MatterPicker())
        if matter is None:
            return
        self.matter_id = matter.id
        shown = self.query_one("#ife-matter", Static)
        shown.update(matter_words(matter.number, matter.name, matter.client_name))
        shown.remove_class("-none")

    # Saving ----------------------------------------------------------------------------------

    def extra_state(self) -> object:
        return (tuple(self.fields), self.matter_id)

    def action_cancel(self) -> None:
        self.leave(None)

    def action_save(self) -> None:
        self._save()

    @work(group="save", exclusive=True)
    async def _save(self) -> None:
        rule = self._rule()
        values: dict[str, Any] = {
            "fields": [f.stored() for f in self.fields],
            "rule": rule,
            "matter_id": self.matter_id if rule is FormRule.ASSOCIATE else None,
            "description": self.query_one("#ife-description", Input).value.strip() or None,
        }
        name = self.query_one("#ife-name", Input).value
        repo = self.staff.repo
        try:
            if self.row is None:
                form_id = await asyncio.to_thread(partial(repo.add_form, name, **values))
            else:
                form_id = self.row.id
                version = self.row.edit_version
                await asyncio.to_thread(
                    partial(repo.edit_form, form_id, name=name, expected_version=version, **values)
                )
        except EditConflict as crossed:
            # Someone else saved the form first: theirs stands; reloading shows it.
            if await self.app.push_screen_wait(
                Confirm(texts.NOT_SAVED, crossed.message, yes="Reload", no="Keep my changes")
            ):
                await self.reload()
            return
        except (Invalid, Refused, NotFound) as bad:
            message = bad.message if isinstance(bad, Refused) else str(bad)
            await self.app.push_screen_wait(Notice(TITLE, message, error=True))
            return
        self.staff.wake_delivery()
        saved = texts.FORM_SAVED.format(name=name.strip())
        self.app.notify(saved, title=TITLE, timeout=4, markup=False)  # the name is as typed
        self.dismiss(form_id)

    async def reload(self) -> None:
        """Show the form as it now is, everyone's changes in it."""
        assert self.row is not None
        self._take(await asyncio.to_thread(self.staff.repo.intake_form, self.row.id))
        await self.recompose()
        self._fill()

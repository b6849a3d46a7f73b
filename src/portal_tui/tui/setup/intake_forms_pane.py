"""Setup > Intake Forms: every intake form of the firm, whatever its matter — its processing
rule, its matter, its fields and how often clients submitted it — with Add and Edit.

Here forms are defined; they are shared from their matter (Matter Details > Forms, S4), so
this list shows the shared icon (S0) but offers no Share of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import Key, Page
from portal_tui.domain.states import FormRule

from ..common.item_table import Column, ItemTable, text
from ..common.list_pane import ListPane

if TYPE_CHECKING:
    from portal_tui.repository.forms import IntakeFormRow


def _matter(row: IntakeFormRow) -> Text:
    if row.rule is FormRule.CREATE or row.matter_number is None:
        return Text("")
    return text(row.matter_number)


# Name and matter first: at 80 columns they are what tells the forms apart.
FORMS_COLUMNS: list[Column[IntakeFormRow]] = [
    Column("Form", lambda r: r.name, 30),
    Column("Matter", _matter, 9),
    Column("Fields", lambda r: str(len(r.fields)), 6),
    Column("Submissions", lambda r: str(r.submissions), 11),
    Column(
        "Processing rule",
        lambda r: "Existing matter" if r.rule is FormRule.ASSOCIATE else "New matter",
        15,
    ),
]


class IntakeFormsPane(ListPane):
    """The firm's intake forms. Enter or `e` edits the highlighted one, `n` adds one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(ItemKind.FORM, None, id=id)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Button("Action", id="tb-action", compact=True)
            yield Button("Add", id="tb-add", compact=True)
            yield Button("Edit", id="tb-edit", compact=True)
        yield Input(placeholder="Filter forms (Esc clears)", id="filter", classes="filter -hidden")
        yield ItemTable(FORMS_COLUMNS, self._fetch, self.staff.glyphs)

    def _fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[Any]:
        return self.staff.repo.list_intake_forms(
            self._filter, after=after, before=before, limit=limit
        )

    def focus_into(self) -> None:
        """Enter on Setup's navigation: into the list."""
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "edit"):
            return True
        if action.startswith("share"):  # (see the module's note: shared from the matter)
            return False
        return super().check_action(action, parameters)

    def menu_actions(self, row: Any) -> list[tuple[str, str]]:
        return [("edit", "Edit")]

    def on_item_table_opened(self, event: ItemTable.Opened) -> None:
        # Enter edits the form; ListPane's own handler (the Action menu) is not to run too.
        event.stop()
        event.prevent_default()
        self.action_edit()

    def action_add(self) -> None:
        self._edit(None)

    def action_edit(self) -> None:
        row = self.table.current
        if row is not None:
            self._edit(row)

    @work(group="edit", exclusive=True)
    async def _edit(self, row: Any | None) -> None:
        from .intake_form_editor import IntakeFormEditor

        form_id = await self.app.push_screen_wait(IntakeFormEditor(row))
        if form_id is not None:
            self.table.reload(keep_id=form_id)

"""Forms > Action > Share via Client Portal: the form as the client will get it — its name,
its processing rule, its matter and its fields — with Share and Cancel (S4). Share dismisses
with True; the share itself, and any refusal naming the condition S4 misses, are the list's
(the one share path of tui/flows.py)."""

from __future__ import annotations

import asyncio

from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from portal_tui.domain import texts
from portal_tui.domain.kinds import Category
from portal_tui.domain.records import FormField, FormRow
from portal_tui.domain.states import FormRule

from ..common.client_text import inert
from ..common.context import StaffAware

FIXED_LINES = 16  # the box's lines but the fields': borders, title, summary, buttons
RULE_WORDS = {
    FormRule.ASSOCIATE: "Associate with an existing matter",
    FormRule.CREATE: "Create a new client and matter",
}


def target_label(target: str) -> str:
    """A client or matter field a form fills, in words ("client.primary_email" -> "Client
    primary email")."""
    owner, _, attr = target.partition(".")
    return f"{owner.capitalize()} {attr.replace('_', ' ')}".strip()


def grid(*ratios: int | None) -> Table:
    """A borderless table: labels in bold on the left, values that wrap under themselves."""
    table = Table.grid(padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    for ratio in ratios:
        table.add_column(ratio=ratio, overflow="fold")
    return table


def fields_table(fields: tuple[FormField, ...]) -> Table:
    """One row per field: its label, its type (and choices), and the client or matter field
    a submission fills with the answer."""
    table = Table(box=None, padding=(0, 2, 0, 0), expand=True, show_edge=False)
    table.add_column("Field", style="bold", ratio=4)
    table.add_column("Type", style="dim", ratio=3)
    table.add_column("Fills", ratio=3)
    for field in fields:
        kind = field.type.capitalize() + (", required" if field.required else "")
        if field.choices:
            kind += ": " + " / ".join(field.choices)
        fills = target_label(field.target) if field.target else ""
        table.add_row(Text(field.label), Text(kind), Text(fills))
    return table


class FormShare(ModalScreen[bool], StaffAware):
    """Share (or `y`) shares; Cancel, `n` or Esc leaves it unshared. Cancel has the focus."""

    DEFAULT_CSS = """
    FormShare {
        #share-summary {
            height: auto;
        }
        #share-fields-title {
            padding: 1 0 0 0;
            text-style: bold;
        }
        #share-fields {
            height: auto;
            margin-bottom: 1;
            scrollbar-size-vertical: 1;
        }
    }
    """

    BINDINGS = [
        Binding(
            "y",
            "answer(True)",
            "Share",
            show=False,
            id="form-share.yes",
            tooltip="Answer Yes or No in a question",
        ),
        Binding(
            "n",
            "answer(False)",
            "Cancel",
            show=False,
            id="form-share.no",
            tooltip="Answer Yes or No in a question",
        ),
        Binding(
            "escape",
            "answer(False)",
            "Cancel",
            show=False,
            id="form-share.dismiss",
            tooltip="Go back; close a box; clear the filter",
        ),
    ]

    def __init__(self, form: FormRow) -> None:
        super().__init__()
        self.form = form

    def compose(self) -> ComposeResult:
        form = self.form
        with Vertical(classes="dialog"):
            yield Label(Text(texts.SHARE_VIA_PORTAL), classes="dialog-title")
            yield Static(self._summary(None), id="share-summary")
            yield Label(Text(f"Fields ({len(form.fields)})"), id="share-fields-title")
            with VerticalScroll(id="share-fields"):
                yield Static(fields_table(form.fields))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Share", id="share", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_resize(self, event: events.Resize) -> None:
        # The fields scroll within what the rest of the box leaves of the terminal's height
        # (about 16 lines): 8 of them at 80x24, all of a usual form at 120x40.
        fields = self.query_one("#share-fields", VerticalScroll)
        fields.styles.max_height = max(4, event.size.height - FIXED_LINES)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        if self.form.matter_id is not None:
            self._load_matter(self.form.matter_id)

    @work(exclusive=True)
    async def _load_matter(self, matter_id: int) -> None:
        repo = self.staff.repo
        matter = await asyncio.to_thread(repo.matter, matter_id)
        firm = await asyncio.to_thread(repo.firm_portal)
        if not firm.enabled:
            portal = "OFF for the firm"
        else:
            portal = "ON" if matter.portal_enabled else "OFF"
        forms = "permitted" if Category.FORMS in matter.effective_permissions else "not permitted"
        self.query_one("#share-summary", Static).update(
            self._summary(
                Text.assemble(matter.number, "  ", inert(matter.name)),
                Text(f"{portal}  |  Forms {forms}"),
            )
        )

    def _summary(self, matter: Text | None, portal: Text | None = None) -> Table:
        """What the client gets and where it applies: the S4 conditions in plain view."""
        form = self.form
        table = grid(None)
        table.add_row("Form:", Text(form.name))
        if form.description:
            table.add_row("", Text(form.description, style="dim"))
        table.add_row("Processing rule:", Text(RULE_WORDS[form.rule]))
        if form.matter_id is None:
            table.add_row("Matter:", Text("none (each submission makes a new matter)"))
        else:
            table.add_row("Matter:", matter or Text("...", style="dim"))
            table.add_row("Client portal:", portal or Text("...", style="dim"))
        return table

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "share")

    def action_answer(self, share: bool) -> None:
        self.dismiss(share)

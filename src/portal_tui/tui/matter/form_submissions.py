"""Forms > Submissions (or Enter on a form): what clients submitted through the portal (S4) —
who and when, and for the one selected, its answers and what the form's processing rule
changed in the firm's records (a field set from one value to another, a matter created)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from portal_tui.domain.decision import NotFound
from portal_tui.domain.records import FormRow, MatterDetail, SubmissionRow
from portal_tui.domain.states import FormRule

from ..common.client_text import inert
from ..common.columns import day
from ..common.context import StaffAware
from ..common.footer import footer
from ..common.item_table import text
from ..messages import PortalSynced
from ..sharing.form_share import grid, target_label

NO_SUBMISSIONS = (
    "No submissions yet. The client opens the form from the Forms drop-down at the top right "
    "of the client portal, fills it out and submits it."
)


def answer_text(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(blank)"
    return str(value)


class SubmissionsView(Vertical, StaffAware):
    """The list and the selected submission; reloads itself when sync brings one in."""

    def __init__(self, form: FormRow) -> None:
        super().__init__(id="submissions-view")
        self.form = form
        self.rows: list[SubmissionRow] = []
        self._matters: dict[int, MatterDetail | None] = {}
        self.loaded = asyncio.Event()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#submissions", DataTable)

    def compose(self) -> ComposeResult:
        yield Label(Text(f"Submissions: {self.form.name}"), classes="screen-title")
        yield DataTable[Text](id="submissions", cursor_type="row", zebra_stripes=False)
        with VerticalScroll(id="submission"):
            yield Static(Text(""), id="submission-body")

    def on_mount(self) -> None:
        table = self.table
        table.add_column(Text("Submitted"), width=16, key="at")
        table.add_column(Text("By"), width=28, key="by")
        table.add_column(Text("Changes"), width=7, key="changes")
        self.reload()

    def reload(self) -> None:
        self.loaded.clear()
        self._load()

    @work(group="submissions", exclusive=True)
    async def _load(self) -> None:
        repo = self.staff.repo
        rows = await asyncio.to_thread(repo.form_submissions, self.form.id)
        keep = self.current.id if self.current is not None else None
        self.rows = list(reversed(rows))  # newest first
        table = self.table
        with self.app.batch_update():
            table.clear()
            for sub in self.rows:
                table.add_row(
                    text(day(sub.submitted_at)),
                    text(sub.submitted_by),
                    Text(str(len(sub.changes)), justify="right"),
                    key=str(sub.id),
                )
            index = next((i for i, r in enumerate(self.rows) if r.id == keep), 0)
            if self.rows:
                table.move_cursor(row=index, animate=False)
        await self._show(self.current)
        self.loaded.set()

    @property
    def current(self) -> SubmissionRow | None:
        if not self.rows:
            return None
        return self.rows[min(max(self.table.cursor_row, 0), len(self.rows) - 1)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_highlighted(self.current)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # Enter: the submission is already shown below

    @work(group="detail", exclusive=True)
    async def _show_highlighted(self, sub: SubmissionRow | None) -> None:
        # In a worker of its own: the newest highlight wins.
        await self._show(sub)

    async def _show(self, sub: SubmissionRow | None) -> None:
        body = self.query_one("#submission-body", Static)
        if sub is None:
            body.update(Text(NO_SUBMISSIONS, style="italic"))
            return
        matter: MatterDetail | None = None
        if sub.matter_id is not None:
            if sub.matter_id not in self._matters:
                try:
                    found = await asyncio.to_thread(self.staff.repo.matter, sub.matter_id)
                except NotFound:
                    found = None
                self._matters[sub.matter_id] = found
            matter = self._matters[sub.matter_id]
        body.update(self._detail(sub, matter))

    def _detail(self, sub: SubmissionRow, matter: MatterDetail | None) -> Group:
        meta = Text.assemble("Submitted by ", (inert(sub.submitted_by), "bold"), " on ")
        meta.append(day(sub.submitted_at))
        if sub.processed_at is not None:
            meta.append(f"; processed {day(sub.processed_at)}")

        labels = {f.key: f.label for f in self.form.fields}
        keys = [f.key for f in self.form.fields if f.key in sub.answers]
        keys += [k for k in sub.answers if k not in labels]
        answers = grid(None)
        for key in keys:
            answers.add_row(
                Text(inert(labels.get(key, key))),
                Text(inert(answer_text(sub.answers[key]), multiline=True)),
            )
        if not keys:
            answers.add_row(Text("(none)", style="dim"))

        parts: list[RenderableType] = [meta, "", Text("Answers", style="bold underline"), answers]
        parts += ["", Text("What it changed", style="bold underline")]
        if matter is not None:
            what = Text.assemble(matter.number, "  ", inert(matter.name))
            created = self.form.rule is FormRule.CREATE
            parts.append(
                Text.assemble(
                    (("Matter created" if created else "Applied to matter"), "bold"), ": ", what
                )
            )
        if sub.changes:
            changes = Table(box=None, padding=(0, 2, 0, 0), show_edge=False)
            changes.add_column("Field", style="bold", no_wrap=True)
            changes.add_column("Was", ratio=1, overflow="fold")
            changes.add_column("Now", ratio=1, overflow="fold")
            for change in sub.changes:
                before = change.get("before")
                # Was and Now are a client's fields: what the firm held, and the answer.
                changes.add_row(
                    Text(target_label(str(change.get("field", "")))),
                    Text("(blank)", style="dim")
                    if before in (None, "")
                    else Text(inert(before, multiline=True)),
                    Text(inert(change.get("after"), multiline=True)),
                )
            parts.append(changes)
        else:
            parts.append(Text("No field changed: the answers matched what the firm holds."))
        return Group(*parts)

    def on_portal_synced(self, _: PortalSynced) -> None:
        """Delivery or sync ran: new answers may have come in."""
        self.reload()


class FormSubmissions(Screen[None]):
    DEFAULT_CSS = """
    FormSubmissions {
        #submissions-view {
            padding: 0 1;
        }
        .screen-title {
            padding: 0;
            margin-bottom: 1;
        }
        #submissions {
            height: auto;
            max-height: 8;
            scrollbar-size-vertical: 1;
        }
        #submission {
            height: 1fr;
            border-top: solid $primary 30%;
            scrollbar-size-vertical: 1;
        }
        #submission:focus {
            background-tint: $primary 10%;
        }
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back",
            id="nav.back",
            tooltip="Go back; close a box; clear the filter",
        )
    ]

    def __init__(self, form: FormRow) -> None:
        super().__init__()
        self.form = form

    @property
    def view(self) -> SubmissionsView:
        return self.query_one(SubmissionsView)

    def compose(self) -> ComposeResult:
        yield Header()
        yield SubmissionsView(self.form)
        yield footer()

    def on_mount(self) -> None:
        self.view.table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

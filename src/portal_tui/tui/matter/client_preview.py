"""Preview as client: for each active contact of the matter, what that contact sees in the
client portal right now, by category (P3, S7, F6, M4). The repository answers with the same
rule the portal service applies; this screen only shows the answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from portal_tui.domain.records import Share
from portal_tui.domain.states import ShareState

from ..common.client_text import inert
from ..common.columns import day
from ..common.context import StaffAware
from ..common.footer import footer

if TYPE_CHECKING:
    from portal_tui.repository.preview import ContactPreview, MatterPreview


PREVIEW_TITLE = "Preview as client"
WHEN_WIDTH = 16  # "YYYY-MM-DD HH:MM"
LEGEND = (
    (ShareState.SHARED, "shown"),
    (ShareState.PENDING, "on its way (shows once delivered)"),
    (ShareState.FAILED, "delivery failed (not shown)"),
)


class ClientPreview(Screen[None], StaffAware):
    DEFAULT_CSS = """
    ClientPreview #preview-title {
        padding: 0 1;
    }
    ClientPreview #preview-body {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    ClientPreview #preview {
        height: auto;
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

    def __init__(self, matter_id: int) -> None:
        super().__init__()
        self.matter_id = matter_id
        self.preview: MatterPreview | None = None
        self.loaded = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(PREVIEW_TITLE), id="preview-title", classes="screen-title")
        with VerticalScroll(id="preview-body"):
            yield Static(Text("Reading what the client sees..."), id="preview")
        yield Static(id="status", classes="status")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#preview-body", VerticalScroll).focus()
        self._load()

    @work(group="preview", exclusive=True)
    async def _load(self) -> None:
        staff = self.staff
        preview = await asyncio.to_thread(staff.repo.client_preview, self.matter_id)
        self.preview = preview
        title = Text.assemble(PREVIEW_TITLE, ": ", preview.number, "  ", inert(preview.name))
        self.query_one("#preview-title", Static).update(title)
        self.query_one("#preview", Static).update(self._preview_text(preview))
        staff.set_location(f"Matter Details > {preview.number} > Client Portal > {PREVIEW_TITLE}")
        self.loaded.set()

    def _preview_text(self, preview: MatterPreview) -> Text:
        glyphs = self.staff.glyphs
        out = Text()
        out.append("What each active contact of this matter sees in the client portal now.\n")
        for state, meaning in LEGEND:
            out.append_text(glyphs.share(Share(state, wanted=True)))
            out.append(f" {meaning}   ", style="dim")
        out.append("\n")
        if preview.reason:
            out.append("\n")
            out.append(preview.reason, style="bold")
            out.append("\n")
        for contact in preview.contacts:
            out.append("\n")
            out.append_text(self._contact_text(contact, hidden=preview.reason is not None))
        return out

    def _contact_text(self, contact: ContactPreview, *, hidden: bool) -> Text:
        glyphs = self.staff.glyphs
        out = Text()
        out.append(inert(contact.contact.name), style="bold")
        out.append(f"  <{inert(contact.contact.email)}>\n")
        if hidden:
            out.append("  Sees nothing of this matter.\n", style="dim")
            return out
        out.append("  Portal screens: ", style="dim")
        out.append(", ".join(contact.screens) + "\n")
        for group in contact.groups:
            out.append(f"  {group.category.label}\n", style="bold")
            if not group.items:
                out.append("    (nothing shared)\n", style="dim")
                continue
            for item in group.items:
                out.append("    ")
                out.append_text(glyphs.share(item.share))
                out.append(f"  {day(item.when):<{WHEN_WIDTH}}  ")
                out.append(inert(item.title))  # client data: plain text, never markup
                out.append("\n")
        return out

    def action_back(self) -> None:
        self.app.pop_screen()

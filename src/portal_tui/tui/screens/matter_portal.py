"""Matter Details > Client Portal: the matter's switch, permissions, contacts and parties."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from portal_tui.domain.kinds import Category

if TYPE_CHECKING:
    from ..app import PortalApp


class MatterPortal(VerticalScroll):
    def __init__(self, matter_id: int) -> None:
        super().__init__(id="portal")
        self.matter_id = matter_id

    @property
    def portal_app(self) -> PortalApp:
        from ..app import PortalApp

        assert isinstance(self.app, PortalApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static(id="portal-text", classes="summary")

    def on_mount(self) -> None:
        self.run_worker(self._load(), exclusive=True)

    async def _load(self) -> None:
        repo = self.portal_app.repo
        matter = await asyncio.to_thread(repo.matter, self.matter_id)
        contacts = await asyncio.to_thread(repo.contacts, self.matter_id)
        on = "ON" if matter.portal_enabled else "OFF"
        permitted = [c.label for c in Category if c in matter.effective_permissions]
        people = "\n".join(
            f"  {c.name} <{c.email}>: {c.status.value}"
            + (f", last login {c.last_login_at:%Y-%m-%d}" if c.last_login_at else "")
            for c in contacts
        )
        self.query_one("#portal-text", Static).update(
            Text(
                f"Client portal: {on}\n"
                f"Permitted: {', '.join(permitted) if permitted else 'nothing'}\n\n"
                f"Contacts:\n{people or '  (none invited)'}"
            )
        )

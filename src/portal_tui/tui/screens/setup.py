"""Setup: Firm Settings > Client Portal (F1-F6) and Intake Forms."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from portal_tui.domain.kinds import Category


class SetupPane(Vertical):
    def __init__(self) -> None:
        super().__init__(id="setup")

    def compose(self) -> ComposeResult:
        yield Static(Text("Setup"), classes="screen-title")
        yield Static(id="setup-body")

    def focus_target(self) -> Widget | None:
        """What `3` puts the focus on (None: the main navigation)."""
        return None

    def on_show(self) -> None:
        self.run_worker(self._load(), exclusive=True)

    async def _load(self) -> None:
        import asyncio

        from ..app import PortalApp

        app = self.app
        assert isinstance(app, PortalApp)
        firm = await asyncio.to_thread(app.repo.firm_portal)
        on = "ON" if firm.enabled else "OFF"
        allowed = ", ".join(c.label for c in Category if c in firm.permissions) or "none"
        self.query_one("#setup-body", Static).update(
            Text(
                f"Firm Settings > Client Portal\n\n  Client portal: {on}\n"
                f"  Permitted: {allowed}\n"
                f"  Email the client when a new item is shared: "
                f"{'yes' if firm.notify_new_items else 'no'}\n"
                f"  Daily digest: {'yes' if firm.daily_digest else 'no'}\n"
                f"  Email allowed staff when a client uploads: "
                f"{'yes' if firm.notify_staff_on_upload else 'no'}"
            )
        )

"""The app's own commands in the command palette (Ctrl+P)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class PortalCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app

        def section(name: str) -> None:
            from .matters.main_screen import MainScreen

            mains = [s for s in app.screen_stack if isinstance(s, MainScreen)]
            if not mains:
                return
            main = mains[0]
            while app.screen is not main:
                app.pop_screen()
            main.action_section(name)

        def sync_now() -> None:
            wake = getattr(app, "wake_delivery", None)
            if wake is not None:
                wake()
                app.notify("Delivering and syncing with the portal now.")

        return [
            ("Go to Matters", "The list of matters", partial(section, "matters")),
            (
                "Go to Activities",
                "Invoices, calendar, tasks, notes, messages",
                partial(section, "activities"),
            ),
            ("Go to Setup", "Firm settings", partial(section, "setup")),
            ("Sync with the portal now", "Deliver pending shares, fetch client changes", sync_now),
            (
                "Show keys",
                "Every key of the app",
                lambda: app.action_keys() if hasattr(app, "action_keys") else None,
            ),
            ("Quit", "Leave portal-tui", app.exit),
        ]

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)

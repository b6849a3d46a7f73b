"""The main screen: the left navigation panel — Matters, Activities, Setup — and what each
shows. Matters lists every matter (the portal icon left of the client's name when its portal
is ON, M3); Activities lists invoices, events, tasks, notes and messages across all matters.

At a cold start the screen may come before the repository (see app.py): the Matters list then
shows the first page read with sqlite3, which is what the repository would give; anything
further (the next page, a filter, another list) is read in a worker thread that waits for the
repository. Opening a matter, and Setup, wait for it on the event loop's side."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import ContentSwitcher, Header, OptionList, Static
from textual.widgets.option_list import Option

from ..common.context import OPENING, StaffAware
from ..common.footer import footer
from .matters_pane import MattersPane

if TYPE_CHECKING:
    from portal_tui.repository.first_page import FirstPage


SECTIONS = (("matters", "Matters"), ("activities", "Activities"), ("setup", "Setup"))


def _rest_of_the_body() -> list[Widget]:
    """Activities and Setup; imported here, as they are mounted only after the first rows at
    a cold start."""
    from ..activities.activities_pane import ActivitiesPane
    from ..setup.setup_pane import SetupPane

    return [ActivitiesPane(), SetupPane()]


class MainScreen(Screen[None], StaffAware):
    def __init__(self, first: FirstPage | None = None) -> None:
        super().__init__()
        self._first = first
        # At a cold start (a first page given) the Matters list is all that is built before
        # its first rows show: Activities and Setup, most of the screen's widgets, are
        # mounted right after (`build_rest`), or as soon as the user asks for one.
        self._rest_deferred = first is not None
        self._rest_mount: AwaitMount | None = None
        self._rest_ready = not self._rest_deferred
        # A section switch waiting (for those panes, or Setup for the repository); a later
        # switch replaces it.
        self._pending: object | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(
                *(Option(Text(label), id=key) for key, label in SECTIONS), id="nav", classes="nav"
            )
            with ContentSwitcher(initial="matters", id="body"):
                yield MattersPane(self._first)
                if not self._rest_deferred:
                    yield from _rest_of_the_body()
        yield Static(id="status", classes="status")
        yield footer()

    def on_mount(self) -> None:
        self.query_one("#matters ItemTable").focus()

    async def build_rest(self) -> None:
        """Activities and Setup mounted (once), if a cold start left them for later."""
        if self._rest_ready:
            return
        if self._rest_mount is None:
            body = self.query_one("#body", ContentSwitcher)
            if not body.is_attached:
                return  # the app is closing
            panes = _rest_of_the_body()
            for pane in panes:
                pane.display = False  # as the switcher leaves every section but its current
            self._rest_mount = body.mount(*panes)
        await self._rest_mount
        self._rest_ready = True

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "nav" and event.option.id:
            section = event.option.id
            if self._must_wait(section, lambda: self._show_highlighted(section)):
                return
            self._show_highlighted(section)

    def _show_highlighted(self, section: str) -> None:
        self.query_one("#body", ContentSwitcher).current = section
        self.staff.set_location(dict(SECTIONS)[section])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "nav" and event.option.id:
            self.action_section(event.option.id)

    def _must_wait(self, section: str, then: Callable[[], None]) -> bool:
        """Whether showing `section` must wait: for its pane to be mounted (see `build_rest`),
        and for Setup, which reads the firm's settings on the event loop's side, for the
        repository to be open. `then` runs once it can, unless another switch came first."""
        staff = self.staff
        needs_repo = section == "setup" and not staff.repo_open
        needs_rest = section != "matters" and not self._rest_ready
        if not (needs_repo or needs_rest):
            self._pending = None
            return False
        pending = self._pending = object()
        if needs_repo:
            staff.set_status(OPENING)
        self._when_ready(pending, needs_repo, then)
        return True

    @work(group="section")
    async def _when_ready(
        self, pending: object, needs_repo: bool, then: Callable[[], None]
    ) -> None:
        await self.build_rest()
        if not self._rest_ready:
            return  # the app is closing
        if needs_repo:
            await self.staff.ready.wait()
        if self._pending is pending:
            self._pending = None
            then()

    def action_section(self, section: str) -> None:
        if self._must_wait(section, lambda: self.action_section(section)):
            return
        self.query_one("#body", ContentSwitcher).current = section
        nav = self.query_one("#nav", OptionList)
        nav.highlighted = [key for key, _ in SECTIONS].index(section)
        target: Any
        if section == "matters":
            target = self.query_one("#matters ItemTable")
        elif section == "activities":
            from ..activities.activities_pane import ActivitiesPane

            # The list shown, not Activities' own navigation: `/` and the arrows work at once.
            target = self.query_one(ActivitiesPane).shown_list()
        else:
            from ..setup.setup_pane import SetupPane

            target = self.query_one(SetupPane).focus_target() or nav
        target.focus()

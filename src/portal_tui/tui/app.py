"""The staff app: a header with the firm and the staff user, the left navigation, the lists and
their flows, a status line, and the footer with the main keys.

Nothing here waits on the network or the database in the event loop: the firm database is
opened in a thread, every query runs in a worker, and delivery to the portal runs in a thread
of its own that reports back by message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.filter import LineFilter
from textual.message import Message
from textual.widgets import Header, Input, Static, TextArea

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import StaffRole

from .commands import PortalCommands
from .glyphs import ASCII, UNICODE, AsciiFilter, Glyphs
from .screens.keys import KeysScreen
from .widgets.footer import footer

if TYPE_CHECKING:
    from portal_tui.config import Settings
    from portal_tui.repository import Repository
    from portal_tui.repository.worker import DeliveryWorker, PassReport


def styles_path() -> Path:
    """The packaged stylesheet; in a source checkout, the one in styles/ at the top."""
    packaged = Path(str(resources.files("portal_tui"))) / "styles" / "app.tcss"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "styles" / "app.tcss"


class DeliveryPassed(Message):
    def __init__(self, report: PassReport) -> None:
        super().__init__()
        self.report = report


class PortalApp(App[None]):
    TITLE = "portal-tui"
    CSS_PATH = str(styles_path())
    COMMANDS = {PortalCommands}  # the app's own commands only (Textual's are not for staff)
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "keys", "Keys", id="keys"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="palette"),
    ]

    def __init__(
        self,
        open_repo: Callable[[], Repository],
        *,
        settings: Settings | None = None,
        ascii_only: bool = False,
        deliver: bool = True,
    ) -> None:
        super().__init__()
        self._open_repo = open_repo
        self._settings = settings
        self._deliver = deliver
        self.glyphs: Glyphs = ASCII if ascii_only else UNICODE
        # ASCII only: the stylesheet draws ASCII borders under `-ascii`, and the filter turns
        # whatever else Textual draws (scrollbars, footer, ellipses, client data) into ASCII.
        self._ascii_filter = AsciiFilter(enabled=ascii_only)
        self.set_class(ascii_only, "-ascii")
        self._repo: Repository | None = None
        self.role = StaffRole.READ_ONLY
        self.delivery: DeliveryWorker | None = None
        self._portal: Any = None
        self.delivery_problem: str | None = None
        self.location = ""
        self.ready = asyncio.Event()
        self.failure: Exception | None = None

    def get_line_filters(self) -> Sequence[LineFilter]:
        filters = super().get_line_filters()
        return [*filters, self._ascii_filter] if self._ascii_filter.enabled else filters

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # No blinking cursor anywhere, Textual's own inputs included: it costs bytes over SSH.
        widget = event.widget
        if isinstance(widget, (Input, TextArea)) and widget.cursor_blink:
            widget.cursor_blink = False

    @property
    def repo(self) -> Repository:
        assert self._repo is not None, "the firm database is not open yet"
        return self._repo

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Opening the firm database..."), id="loading")
        yield footer()

    def on_mount(self) -> None:
        self.run_worker(self._start(), group="start", exclusive=True)

    async def _start(self) -> None:
        # The first frame is already on screen: opening the database (importing SQLAlchemy,
        # checking the schema) happens behind it. A database that cannot be used ends the app
        # at once, and the command line says why in one line (`failure`).
        try:
            self._repo = await asyncio.to_thread(self._open_repo)
            staff = await asyncio.to_thread(self.repo.current_staff)
            firm = await asyncio.to_thread(self.repo.firm_name)
        except Exception as exc:
            self.failure = exc
            self.exit(return_code=2)
            return
        self.role = staff.role if staff is not None else StaffRole.ADMIN
        self.title = firm or "portal-tui"
        self.sub_title = f"{staff.name} ({staff.role.label})" if staff else "system"
        from .screens.main import MainScreen

        await self.push_screen(MainScreen())
        self.ready.set()
        if self._deliver and self._settings is not None:
            self.run_worker(self._start_delivery(), group="delivery")

    async def _start_delivery(self) -> None:
        from portal_tui.embedded import EmbeddedPortalError, PortalConnection
        from portal_tui.repository import Repository
        from portal_tui.repository.worker import DeliveryWorker

        assert self._settings is not None
        system = Repository(self.repo.db, None)  # sync acts as the system, not as this user
        try:
            self._portal = await asyncio.to_thread(
                PortalConnection, self._settings, system.document_content
            )
        except EmbeddedPortalError as exc:
            self.delivery_problem = str(exc)
            self.set_status(str(exc))
            return

        def passed(report: PassReport) -> None:
            self.post_message(DeliveryPassed(report))

        self.delivery = DeliveryWorker(system, self._portal.client, on_pass=passed)
        self.delivery.start()

    def wake_delivery(self) -> None:
        if self.delivery is not None:
            self.delivery.wake()

    def on_delivery_passed(self, message: DeliveryPassed) -> None:
        report = message.report
        self.delivery_problem = report.problem
        if report.problem:
            self.set_status(f"Delivery: {report.problem}")
        if report.delivered or report.failed or report.synced:
            from .widgets.item_table import ItemTable

            # Every screen of the stack, not just the top one: a share's own message box is
            # usually still open when its delivery lands, and OK must then show the icon.
            for screen in self.screen_stack:
                for table in screen.query(ItemTable):
                    if table.shown_once:
                        table.reload()
                # Views that are not item lists (a message thread, a contact list) refresh
                # themselves: they carry the class `-synced` and a `portal_synced()` method.
                for view in screen.query(".-synced"):
                    refresh = getattr(view, "portal_synced", None)
                    if refresh is not None:
                        refresh()

    async def on_unmount(self) -> None:
        if self.delivery is not None:
            await asyncio.to_thread(self.delivery.stop)
        if self._portal is not None:
            await asyncio.to_thread(self._portal.close)
        if self._repo is not None:
            self._repo.close()

    # The status line --------------------------------------------------------------------------

    def set_status(self, line: str) -> None:
        for status in self.screen.query("#status"):
            if isinstance(status, Static):
                status.update(Text(line))

    def set_location(self, where: str) -> None:
        """Where the user is, for the status line (Matters > …, Activities > Invoices …)."""
        self.location = where
        self.set_status(where)

    def show_row_status(self, kind: ItemKind, row: Any | None) -> None:
        where = self.location
        if row is None:
            self.set_status(f"{where}: no {kind.plural}")
            return
        share = getattr(row, "share", None)
        words = self.glyphs.share_words(share) if share is not None else ""
        problem = f"  |  Delivery: {self.delivery_problem}" if self.delivery_problem else ""
        self.set_status(f"{where}  |  {words}{problem}")

    def action_keys(self) -> None:
        self.push_screen(KeysScreen())

"""The staff app: a header with the firm and the staff user, the left navigation, the lists and
their flows, a status line, and the footer with the main keys.

Nothing here waits on the network or the database in the event loop: the firm database is
opened in a thread, every query runs in a worker, and delivery to the portal runs in a thread
of its own that reports back by message.

Cold start (first matter row <= 2.5x a bare Textual app): given a first page read with sqlite3 alone
(`repository.first_page`, read by the command line while Textual imports), the main screen shows it
at once and the Repository (SQLAlchemy, the models) is opened only once those rows are painted, so
its imports do not compete with the first screen for the interpreter. Until then a list read in a
worker thread waits for it (`repo`), opening a matter waits for it, and Setup opens once it is
there.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Header, Input, Static, TextArea

from portal_tui.domain import texts
from portal_tui.domain.decision import Conflict, Unavailable
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import StaffRole

from .commands import PortalCommands
from .common.client_text import InertFilter, inert
from .common.context import OPENING, ItemFlows, StaffContext
from .common.footer import footer
from .common.glyphs import ASCII, UNICODE, AsciiFilter, Glyphs
from .common.keys import KeysScreen
from .common.modals import Confirm
from .common.unsaved import UnsavedChanges
from .item_flows import AppFlows
from .key_order import OrderedKeysApp
from .keymap import check_keymap
from .messages import DatabaseBack, DeliveryPassed, LockWaitHeard, PortalSynced

if TYPE_CHECKING:
    from portal_tui.config import Settings
    from portal_tui.domain.records import StaffRow
    from portal_tui.repository import Repository
    from portal_tui.repository.first_page import FirstPage
    from portal_tui.repository.sign_ins import SignInSource
    from portal_tui.repository.worker import DeliveryWorker, PassReport

    from .matters.main_screen import MainScreen


_T = TypeVar("_T")

# While the firm database is away (a server restarting): how often the app looks for it.
RECONNECT_EVERY_S = 2.0
# How long the repository waits for the first rows to be painted before opening anyway.
FIRST_ROWS_WAIT_S = 1.0


def styles_path() -> Path:
    """The app's stylesheet, inside the package (so a wheel carries it): tui/styles/."""
    return Path(__file__).with_name("styles") / "app.tcss"


def _in_own_thread(work: Callable[[], _T], name: str) -> asyncio.Future[_T]:
    """`work()` started now in a thread of its own, to be awaited on the event loop. Not a
    daemon: like the default pool's threads, it finishes its work (a schema upgrade) before
    the process ends, even when the app has quit meanwhile."""
    outcome: Future[_T] = Future()

    def run() -> None:
        if not outcome.set_running_or_notify_cancel():
            return  # given up (the app has quit) before it began
        try:
            outcome.set_result(work())
        except BaseException as exc:
            outcome.set_exception(exc)

    threading.Thread(target=run, name=name).start()
    return asyncio.wrap_future(outcome)


# As portal_tui.database.LOCK_NOTICE_S (not imported: see _tell_waiting).
# The exit status of a program stopped by Ctrl+C (128 + SIGINT), as cli.py's.
EXIT_INTERRUPTED = 130
LOCK_NOTICE_S = 1.0
# A lock-wait notice stays up as long as the wait may last (BUSY_TIMEOUT_MS).
LOCK_WAIT_SHOWN_S = 30.0


class PortalApp(OrderedKeysApp):
    TITLE = "portal-tui"
    # Absolute: Textual resolves a relative CSS_PATH beside the module of the running class,
    # which for a subclass (a test's) is not this one.
    CSS_PATH = str(styles_path())
    COMMANDS = {PortalCommands}  # the app's own commands only (Textual's are not for staff)
    BINDINGS = [
        # The sections, from every screen that is not a form or a box — a matter and its
        # tabs included. Not priority: a digit typed in a filter or a field is text.
        *(
            Binding(
                key,
                f"section('{section}')",
                label,
                id=f"go.{section}",
                show=False,
                tooltip="Go to Matters, Activities, Setup",
            )
            for key, section, label in (
                ("1", "matters", "Matters"),
                ("2", "activities", "Activities"),
                ("3", "setup", "Setup"),
            )
        ),
        Binding(
            "q",
            "quit",
            "Quit",
            id="app.quit",
            tooltip="Quit (not in a form or a dialog: there q is typed)",
        ),
        # Works everywhere, forms included (where `q` is the form's), and asks as `q` does.
        Binding(
            "ctrl+q",
            "quit_anywhere",
            "Quit",
            show=False,
            priority=True,
            id="app.quit-anywhere",
            tooltip="Quit from anywhere; asks first about unsaved or undelivered changes",
        ),
        # Ctrl+C is the terminal's interrupt: it quits as Ctrl+Q does (asking the same
        # questions), and the exit status says it was interrupted (130), as the README says.
        Binding(
            "ctrl+c",
            "interrupt",
            "Quit",
            show=False,
            priority=True,
            id="app.interrupt",
            tooltip="Quit as Ctrl+Q does; the exit status is 130",
        ),
        # Priority, so the focus has moved before the next key is handed on: a letter typed
        # right behind Tab belongs to the next field (keys typed ahead over SSH stay in order).
        # Textual's own Tab binding is the screen's, reached only once the key has bubbled up
        # from the old field, by when the letters behind it had gone to that field too.
        Binding(
            "tab",
            "focus_next",
            "Next field",
            show=False,
            priority=True,
            id="app.focus-next",
            tooltip="Next field or list",
        ),
        Binding(
            "shift+tab",
            "focus_previous",
            "Previous field",
            show=False,
            priority=True,
            id="app.focus-previous",
            tooltip="Previous field or list",
        ),
        Binding("question_mark", "keys", "Keys", id="app.keys", tooltip="This list of keys"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            id="app.palette",
            tooltip="Command palette",
        ),
    ]

    def __init__(
        self,
        open_repo: Callable[[], Repository],
        *,
        settings: Settings | None = None,
        ascii_only: bool = False,
        deliver: bool = True,
        first_page: Future[FirstPage | None] | None = None,
        freeze_gc: bool = False,
        database_url: str | None = None,
    ) -> None:
        """`database_url`: what `open_repo` opens, named when the opening waits on a lock."""
        super().__init__()
        self._open_repo = open_repo
        self._database_url = database_url
        self._stop_lock_waits: Callable[[], None] | None = None
        self._first_page = first_page
        self._freeze_gc = freeze_gc
        self._settings = settings
        self._deliver = deliver
        # [keymap] of config.toml, checked before anything starts: a bad id or key is one
        # ConfigError here, never an app that runs with some keys remapped and some not.
        self.keymap: dict[str, str] = check_keymap(settings) if settings and settings.keymap else {}
        if self.keymap:
            self.set_keymap(self.keymap)
        self.glyphs: Glyphs = ASCII if ascii_only else UNICODE
        # ASCII only: the stylesheet draws ASCII borders under `-ascii`, and the filter turns
        # whatever else Textual draws (scrollbars, footer, ellipses, client data) into ASCII.
        self._ascii_filter = AsciiFilter(enabled=ascii_only)
        # Client text is data: no control or escape character ever reaches the terminal.
        self._inert_filter = InertFilter()
        self.set_class(ascii_only, "-ascii")
        self._repo: Repository | None = None
        # Set once the repository is open, or will never be (a failure, the app closing):
        # what a list's read in a worker thread waits on before then.
        self._repo_settled = threading.Event()
        self._loop_thread: int | None = None
        self.role = StaffRole.READ_ONLY
        self.delivery: DeliveryWorker | None = None
        self._portal: Any = None
        self.delivery_problem: str | None = None
        # Why the firm database cannot be reached, while it cannot (the app looks again).
        self.database_problem: str | None = None
        self._reconnecting: Any = None
        self.location = ""
        self._main: MainScreen | None = None  # the screen 1 / 2 / 3 go back to
        # What a list starts that lives in sharing/ and matter/ (common/ imports neither).
        self.flows: ItemFlows = AppFlows(self)
        self.ready = asyncio.Event()
        self.failure: Exception | None = None

    def get_line_filters(self) -> Sequence[LineFilter]:
        filters = [*super().get_line_filters(), self._inert_filter]
        return [*filters, self._ascii_filter] if self._ascii_filter.enabled else filters

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast. Never markup, whatever the caller asks: what it says may name a client, a
        document or a contact, and client text is data ("[@click=app.quit]" stays as typed)."""
        super().notify(
            inert(message, multiline=True),
            title=inert(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # No blinking cursor anywhere, Textual's own inputs included: it costs bytes over SSH.
        widget = event.widget
        if isinstance(widget, (Input, TextArea)) and widget.cursor_blink:
            widget.cursor_blink = False

    @property
    def repo(self) -> Repository:
        if self._repo is None and threading.get_ident() != self._loop_thread:
            # A read in a worker thread, started while the first page (read with sqlite3)
            # was on screen and the repository still opening: it waits, off the event loop.
            self._repo_settled.wait()
            if self._repo is None:
                # The database could not be opened and the app is ending (`failure` says
                # why): the worker is abandoned quietly, not reported as a crash.
                raise asyncio.CancelledError
        assert self._repo is not None, "the firm database is not open yet"
        return self._repo

    @property
    def portal_address(self) -> str | None:
        """Where clients reach the portal (invitation links start here), if known."""
        if self._portal is not None:
            return str(self._portal.url)
        if self._settings is None:
            return None
        if self._settings.portal_url:
            return self._settings.portal_url
        from portal_tui.embedded import embedded_address

        return embedded_address(self._settings)

    @property
    def repo_open(self) -> bool:
        return self._repo is not None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(OPENING), id="loading")
        yield footer()

    def on_mount(self) -> None:
        self._loop_thread = threading.get_ident()
        self._start()

    @work(group="start", exclusive=True)
    async def _start(self) -> None:
        # Opening the database (importing SQLAlchemy, checking the schema) happens behind the
        # first frame, or behind the first rows when they were read with sqlite3. A database
        # that cannot be used ends the app at once, and the command line says why in one line
        # (`failure`), as it does when the first rows are already on screen.
        first = await self._first_page_read()
        main = None
        if first is not None:
            main = await self._show_main(first.staff, first.firm_name, first)
            await self._first_rows_painted(main)
            if not main.is_attached:
                return  # the user has quit already: nothing to open
        # A thread of its own: lists waiting for the repository hold threads of the default
        # pool, which must not keep it from being opened.
        opening = _in_own_thread(self._open_repo, "open-firm-database")
        if self._database_url is not None:
            self.set_timer(LOCK_NOTICE_S, self._say_if_waiting)
        if main is not None:
            await main.build_rest()  # Activities and Setup, while the repository opens
        try:
            self._repo = repo = await opening
            self._listen_for_lock_waits()
            if first is None:
                staff = await asyncio.to_thread(repo.current_staff)
                firm = await asyncio.to_thread(repo.firm_name)
        except Exception as exc:
            self.failure = exc
            self.exit(return_code=2)
            return
        finally:
            self._repo_settled.set()
        if first is None:
            await self._show_main(staff, firm, None)
        self.ready.set()
        self._settle_gc()
        if self._deliver and self._settings is not None:
            self._start_delivery()

    def _settle_gc(self) -> None:
        """With `freeze_gc` (the command line turns the collector off while the app starts):
        what start-up built — SQLAlchemy, the models, the screens; the embedded portal on the
        second call — is set aside from the collector for good, and collection resumes. Else
        each full collection walks all of it: 100-150 ms pauses, now and then, on a keystroke
        (keystroke to screen <= 100 ms)."""
        if self._freeze_gc:
            gc.freeze()
            gc.enable()

    async def _first_page_read(self) -> FirstPage | None:
        """The first page read with sqlite3 (usually done while Textual was importing), or
        None: no such read, or the usual path must open the database."""
        if self._first_page is None:
            return None
        try:
            return await asyncio.wrap_future(self._first_page)
        except Exception:
            return None  # the usual path meets the same problem and reports it

    async def _show_main(
        self, staff: StaffRow | None, firm: str, first: FirstPage | None
    ) -> MainScreen:
        self.role = staff.role if staff is not None else StaffRole.ADMIN
        self.title = firm or "portal-tui"
        self.sub_title = f"{staff.name} ({staff.role.label})" if staff else "system"
        from .matters.main_screen import MainScreen

        main = self._main = MainScreen(first)
        await self.push_screen(main)
        return main

    async def _first_rows_painted(self, main: MainScreen) -> None:
        """Until the Matters list has painted its first rows, or a moment has passed: the
        repository's imports would take the interpreter from the first screen."""
        from .common.item_table import ItemTable

        painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            table = main.query_one("#matters ItemTable", ItemTable)
            await asyncio.wait_for(table.loaded.wait(), FIRST_ROWS_WAIT_S)

            def refreshed() -> None:
                if not painted.done():
                    painted.set_result(None)

            self.call_after_refresh(refreshed)
            await asyncio.wait_for(painted, FIRST_ROWS_WAIT_S)
        except (TimeoutError, NoMatches):
            pass

    @work(group="delivery")
    async def _start_delivery(self) -> None:
        from portal_tui.embedded import EmbeddedPortalError, PortalConnection
        from portal_tui.repository import Repository
        from portal_tui.repository.worker import DeliveryWorker, Housekeeping

        assert self._settings is not None
        system = Repository(self.repo.db, None)  # sync acts as the system, not as this user
        try:
            firm = await asyncio.to_thread(system.firm_identity)
            self._portal = await asyncio.to_thread(
                PortalConnection,
                self._settings,
                system.document_content,
                firm,
                system.invoice_pdf,
            )
        except EmbeddedPortalError as exc:
            self.delivery_problem = str(exc)
            self.set_status(str(exc))
            return
        finally:
            self._settle_gc()

        def passed(report: PassReport) -> None:
            self.post_message(DeliveryPassed(report))

        self.delivery = DeliveryWorker(
            system,
            self._portal.client,
            on_pass=passed,
            housekeeping=Housekeeping(system, self._settings.keep_outbox_days),
        )
        self.delivery.start()

    @property
    def sign_in_source(self) -> SignInSource | None:
        """The portal, as asked about a contact's sign-ins; None until it has started."""
        if self._portal is None:
            return None
        source: SignInSource = self._portal.client
        return source

    def wake_delivery(self) -> None:
        if self.delivery is not None:
            self.delivery.wake()

    def on_delivery_passed(self, message: DeliveryPassed) -> None:
        report = message.report
        if report.database_away:
            self.database_away(report.problem or "")
            return
        if self.database_problem is not None:
            self._database_back()
        self.delivery_problem = report.problem
        if report.problem:
            self.set_status(f"Delivery: {report.problem}")
        if report.delivered or report.failed or report.synced or report.changed:
            # Every screen of the stack, not just the top one: a share's own message box is
            # usually still open when its delivery lands, and OK must then show the icon.
            # Each list read once reloads; other views (a message thread, a contact list)
            # read themselves afresh.
            self._tell_every_widget(PortalSynced)

    def _tell_every_widget(self, message: type[PortalSynced | DatabaseBack]) -> None:
        for screen in self.screen_stack:
            for node in (screen, *screen.walk_children()):
                node.post_message(message())

    # The firm database going away and coming back ------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """A worker or handler that met the database away, or a change crossed by another
        staff member's, must not end the app: the first is shown on the status line until
        the database is back, the second as a notice (nothing was changed either way). This
        overrides Textual's hook for unhandled errors (textual is pinned exactly)."""
        from textual.worker import WorkerFailed

        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, Unavailable):
            self.database_away(cause.situation)
            return
        if isinstance(cause, Conflict):
            self.notify(cause.message, title="Not changed", severity="warning", timeout=6)
            return
        super()._handle_exception(error)

    def database_away(self, situation: str) -> None:
        """Say so on the status line, and look for the database every few seconds."""
        self.database_problem = situation
        self.set_status(texts.RECONNECTING.format(situation=situation))
        if self._reconnecting is None:
            self._reconnecting = self.set_interval(RECONNECT_EVERY_S, self._look_for_database)

    def _look_for_database(self) -> None:
        if self._repo is None:
            return
        self._probe()

    @work(group="reconnect", exclusive=True, exit_on_error=False)
    async def _probe(self) -> None:
        repo = self.repo
        try:
            await asyncio.to_thread(repo.ping)
        except Unavailable as exc:
            self.database_problem = exc.situation
            self.set_status(texts.RECONNECTING.format(situation=exc.situation))
            return
        self._database_back()

    def _database_back(self) -> None:
        """The database answers again: the lists are read afresh, delivery goes on."""
        if self._reconnecting is not None:
            self._reconnecting.stop()
            self._reconnecting = None
        self.database_problem = None
        self.set_status(self.location)
        self.wake_delivery()
        self._tell_every_widget(DatabaseBack)

    def _listen_for_lock_waits(self) -> None:
        from portal_tui.database import listen_for_lock_waits

        def heard(notice: str) -> None:
            # post_message: the one safe way in from the waiting (worker) thread.
            self.post_message(LockWaitHeard(notice))

        self._stop_lock_waits = listen_for_lock_waits(heard)

    def on_lock_wait_heard(self, message: LockWaitHeard) -> None:
        # "A locked database says at once that it is waiting, for what and for how long."
        self.notify(message.notice, severity="warning", timeout=LOCK_WAIT_SHOWN_S)

    async def on_unmount(self) -> None:
        if self._stop_lock_waits is not None:
            self._stop_lock_waits()
        self._repo_settled.set()  # no worker thread is left waiting for a repository
        if self.delivery is not None:
            await asyncio.to_thread(self.delivery.stop)
        if self._portal is not None:
            await asyncio.to_thread(self._portal.close)
        if self._repo is not None:
            self._repo.close()

    # The status line --------------------------------------------------------------------------

    def set_status(self, line: str) -> None:
        if self.database_problem is not None:
            # Nothing else is worth saying until the database is back.
            line = texts.RECONNECTING.format(situation=self.database_problem)
        for status in self.screen.query("#status"):
            if isinstance(status, Static):
                # A layout pass repaints every scrollbar on screen (1 KiB a cursor move over
                # SSH): only when the line needs another number of rows than it has.
                # The line may name a matter or a client as they were typed (a form answer
                # fills them): shown inert, and never markup.
                text = Text(inert(line))
                rows = len(text.wrap(self.console, max(status.content_size.width, 1)))
                status.update(text, layout=min(rows, 3) != status.content_size.height)

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

    def _say_if_waiting(self) -> None:
        if not self.repo_open:
            self._tell_waiting()

    @work(group="waiting", exclusive=True)
    async def _tell_waiting(self) -> None:
        """The opening waits on another program's lock: say so now, not 30 s later."""
        # Here, not at the top: the first rows are drawn before SQLAlchemy is imported.
        from portal_tui.database import locked_by_another, waiting_notice

        url = self._database_url
        if url is None or not await asyncio.to_thread(locked_by_another, url):
            return
        if self.repo_open:
            return
        notice = waiting_notice(url)
        try:
            self.query_one("#loading", Static).update(Text(notice))
        except NoMatches:
            self.set_status(notice)

    def action_keys(self) -> None:
        # What the keys do where `?` was pressed: the focused widget's chain, keymap applied.
        self.push_screen(KeysScreen(list(self.screen.active_bindings.values()), self.keymap))

    def action_section(self, section: str) -> None:
        """1 / 2 / 3: back out of a matter (or what it opened) to the main screen, and there to
        the section."""
        main = self._main
        if main is None or main not in self.screen_stack:
            return
        while self.screen is not main:
            self.pop_screen()
        main.action_section(section)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "section":
            # Not in a form or a box (there a digit is typed, or the box must be answered).
            screen = self.screen
            return not (
                isinstance(screen, ModalScreen) or getattr(screen, "HOLDS_TYPING", False)
            ) and (self._main is not None and self._main in self.screen_stack)
        # Keys typed in a form or a dialog are its own: `q` there must never quit (and the
        # footer must not offer it). Ctrl+Q (quit_anywhere) still quits, asking first.
        if action == "quit" and (
            isinstance(self.screen, ModalScreen) or getattr(self.screen, "HOLDS_TYPING", False)
        ):
            return False
        return super().check_action(action, parameters)

    async def action_quit_anywhere(self) -> None:
        await self.action_quit()

    async def action_interrupt(self) -> None:
        await self._quit(EXIT_INTERRUPTED)

    async def action_quit(self) -> None:
        await self._quit(0)

    async def _quit(self, code: int) -> None:
        """Quit, but not over work not done: a form with changes not saved asks to discard
        them; changes this app's relay has not delivered yet ask to quit anyway."""

        def leave() -> None:
            self.exit(return_code=code)

        await self._typed_keys_handled()
        unsaved = [
            screen
            for screen in self.screen_stack
            if isinstance(screen, UnsavedChanges) and screen.has_unsaved_changes()
        ]
        if unsaved:
            unsaved[-1].ask_to_discard(leave)
            return
        pending = await self._undelivered()
        if not pending:
            leave()
            return

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                leave()

        self.push_screen(
            Confirm(
                texts.QUIT_PENDING_TITLE,
                texts.QUIT_PENDING.format(count=pending),
                yes=texts.QUIT_YES,
                no=texts.QUIT_NO,
            ),
            answered,
        )

    async def _typed_keys_handled(self) -> None:
        """Wait until the focused field has handled the keys typed before this one. Quit is a
        priority binding, decided as its key arrives, while the letters typed just before it
        may still wait in the field's queue: "Discard changes?" must count them (keys typed
        ahead over SSH arrive in one burst)."""
        focused = self.focused
        if focused is None:
            return
        handled = asyncio.Event()
        # The callback joins the field's queue behind the keys already handed to it.
        focused.call_later(handled.set)
        # A field that never answers must not keep the app from quitting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(handled.wait(), timeout=1.0)

    async def _undelivered(self) -> int:
        """Outbox rows still waiting, when quitting stops the relay that would send them (an
        app without one changes nothing by quitting). A database that cannot say: none."""
        if self.delivery is None or not self.repo_open:
            return 0
        try:
            return await asyncio.to_thread(self.repo.pending_deliveries)
        except (Unavailable, Conflict):
            return 0


if TYPE_CHECKING:

    def _is_a_staff_context(app: PortalApp) -> StaffContext:
        return app  # mypy checks here that the app gives its screens what they use

"""The `portal-tui` command.

argparse rather than click, and every heavy module (SQLAlchemy, Alembic, Textual, rich, httpx)
imported inside the subcommand that needs it: `portal-tui --help` and `portal-tui config` must
start at once, and tests/test_boundaries.py holds `import portal_tui.cli` to that.

Errors the user can act on (a bad setting, a database that cannot be used, a rule that says no)
end as one line on stderr and exit status 2, before anything is written where possible.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from portal_tui import __version__
from portal_tui.config import (
    DATABASE_FILE_NAME,
    ConfigError,
    Settings,
    load_settings,
    mask_url_password,
)
from portal_tui.domain import texts
from portal_tui.firm_commands import (
    FIRM_COMMANDS,
    add_firm_commands,
    add_import_command,
    add_invoice_command,
    first_run_on_screen,
    run_firm_command,
)
from portal_tui.private import loose, private_folder, restrict_umask
from portal_tui.ssh_door.commands import add_ssh_command, run_ssh_command
from portal_tui.web_door.commands import add_web_command, run_web_command

if TYPE_CHECKING:
    from concurrent.futures import Future

    from portal_tui.domain.records import FirmIdentity, MatterRow
    from portal_tui.embedded import PortalConnection
    from portal_tui.repository import Repository
    from portal_tui.repository.first_page import FirstPage

PROG = "portal-tui"
EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
DEMO_SEED = 1
MATTERS_SHOWN = 100
DEMO_READY_MARK = ".complete"
DEMO_LOCK_NAME = "demo.lock"
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8765

# Keys of load_settings() that the global flags set; "config" is the file itself.
_FLAG_KEYS = ("config", "database_url", "portal_url", "staff_user", "ascii")


def _add_global_flags(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a flag out of the namespace unless given, so the copy on a subcommand
    # never overwrites the same flag given before the subcommand.
    group = parser.add_argument_group("settings (override config.toml and PORTAL_TUI_*)")
    group.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: config.toml in the user config folder)",
    )
    group.add_argument(
        "--database-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="firm database, e.g. postgresql://user@host/firm",
    )
    group.add_argument(
        "--portal-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="portal service to deliver to (default: the embedded one)",
    )
    group.add_argument(
        "--staff-user",
        metavar="LOGIN",
        default=argparse.SUPPRESS,
        help="act as this staff user (default: your OS login)",
    )
    group.add_argument(
        "--ascii",
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help="ASCII-only glyphs (default: automatic)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_global_flags(common)
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="A law firm's client portal: the staff terminal app. "
        "With no command, opens the firm database.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "config", parents=[common], help="print every effective setting and where it came from"
    )

    seed = commands.add_parser(
        "seed",
        parents=[common],
        help="write demo or scale data into the configured firm database",
        description="Write a realistic demo firm (--demo) or scale data (--matters N "
        "--activities M) into the configured firm database.",
    )
    seed.set_defaults(subparser=seed)
    seed.add_argument("--demo", action="store_true", help="the demo firm")
    seed.add_argument("--matters", type=_positive, metavar="N", help="scale data: N matters")
    seed.add_argument(
        "--activities",
        type=_not_negative,
        metavar="M",
        default=None,
        help="scale data: M activities spread over the matters",
    )
    seed.add_argument(
        "--seed",
        type=int,
        default=DEMO_SEED,
        metavar="S",
        help=f"random seed; the same seed writes the same data (default {DEMO_SEED})",
    )

    commands.add_parser(
        "demo",
        parents=[common],
        help="open a demo firm kept in a database of its own (never the configured one)",
    )

    sync = commands.add_parser(
        "sync",
        parents=[common],
        help="one delivery and sync pass with the portal, headless (for cron); --watch: for ever",
        description="Send every share, unshare and portal change pending when it starts to the "
        "portal service, bring back what clients did (uploads, form submissions, replies, first "
        "views), print what it did and exit. With --watch, keep doing so until stopped "
        "(SIGTERM or Ctrl-C hand back at once whatever it was sending). With no portal_url, "
        "the embedded portal is used.",
    )
    sync.add_argument(
        "--watch",
        action="store_true",
        help="run until stopped, delivering as staff share (a relay of its own)",
    )

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="run the portal service (staff API and client pages) under uvicorn",
        description="Run the portal service for real. Its database is its own: SQLite "
        "portal.db in the data folder unless --database says otherwise.",
    )
    serve.add_argument("--host", default=SERVE_HOST, help=f"address to listen on ({SERVE_HOST})")
    serve.add_argument(
        "--port", type=_port, default=SERVE_PORT, help=f"port to listen on ({SERVE_PORT}; 0: any)"
    )
    serve.add_argument(
        "--database", metavar="URL", help="the portal's database (default: portal.db)"
    )
    serve.add_argument(
        "--base-url",
        metavar="URL",
        help="where clients reach the portal; links in emails start with it "
        "(default: http://HOST:PORT)",
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="worker processes sharing the port (default 1; on a busy portal, one per CPU: "
        "they share the database, SQLite's included, and only one sends mail)",
    )

    backup = commands.add_parser(
        "backup",
        parents=[common],
        help="write a consistent copy of the firm database, while staff work",
        description="Write a consistent copy of the configured firm database: SQLite's online "
        "backup (checked before it takes its name), or pg_dump on PostgreSQL. PATH may be a "
        "file or a folder; by default <data folder>/backups/firm-<time>.db (or .dump).",
    )
    backup.add_argument("path", nargs="?", metavar="PATH", help="where to write the copy")

    restore = commands.add_parser(
        "restore",
        parents=[common],
        help="put a backup in place of the firm database, then bring the portal in line",
        description="Replace the configured firm database with a backup (refused while any "
        "app or sync has the firm open; a copy of the database replaced is kept in "
        "<data folder>/backups/), then send the portal what the restored firm shares and "
        "withdraw what it does not: the next sync, or the app, delivers it.",
    )
    restore.add_argument("path", metavar="PATH", help="the backup to restore")

    commands.add_parser(
        "status",
        parents=[common],
        help="which firm this is, which portal it delivers to, and how delivery stands",
    )

    token = commands.add_parser(
        "token",
        parents=[common],
        help="make or revoke a staff API token of the portal service",
        description="Staff API tokens of the portal service (stored hashed; shown once).",
    )
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser(
        "create", help="make a token for a staff user and print it (only the token)"
    )
    create.add_argument("--staff", metavar="LOGIN", required=True, help="the staff user")
    revoke = token_commands.add_parser("revoke", help="revoke a staff user's tokens, or one")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--staff", metavar="LOGIN", help="every token of this staff user")
    which.add_argument("--token", metavar="TOKEN", help="this one token")
    for action in (create, revoke):
        action.add_argument(
            "--database", metavar="URL", help="the portal's database (default: portal.db)"
        )
    add_firm_commands(commands, common)
    add_import_command(commands, common)
    add_invoice_command(commands, common)
    add_web_command(commands, common)
    add_ssh_command(commands, common)
    return parser


def _port(text: str) -> int:
    number = _not_negative(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return number


def _positive(text: str) -> int:
    number = _not_negative(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return number


def _not_negative(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script passes it to sys.exit)."""
    # Firm data is private from the moment it exists: every file this process or its children
    # create is 0600, every folder 0700 (docs: "Private by default").
    umask = restrict_umask()
    try:
        return _run_main(argv)
    finally:
        os.umask(umask)  # as it was, for a caller in the same process (the tests)


def _run_main(argv: Sequence[str] | None) -> int:
    try:
        status = _main(list(sys.argv[1:] if argv is None else argv))
        # Flush inside the try: a reader that has gone away (`| head`) shows up here, not as
        # an "Exception ignored" message at interpreter exit.
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        # argparse has printed its usage message; hand back its status instead of unwinding.
        code = exc.code
        return code if isinstance(code, int) else EXIT_OK if code is None else EXIT_USER_ERROR
    except BrokenPipeError:
        # `portal-tui config | head`: the reader left. Point stdout at devnull so the
        # interpreter's final flush does not raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        message = _user_message(exc)
        if message is None:
            raise
        _error(message)
        return EXIT_USER_ERROR


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "seed":
        _check_seed_args(args.subparser, args)
    flags = {key: getattr(args, key, None) for key in _FLAG_KEYS}
    settings = load_settings(flags)
    warning = loose(settings.data_dir)
    if warning:
        print(f"{PROG}: {warning}", file=sys.stderr)

    if args.command in ("config", "demo", "open", None):
        # The app says lock waits on its own screen; config opens no database.
        return _dispatch(args, settings)
    with _lock_waits_on_stderr():
        return _dispatch(args, settings)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "config":
        return _cmd_config(settings, sys.stdout)
    if args.command == "seed":
        return _cmd_seed(settings, args)
    if args.command == "demo":
        return _cmd_demo(settings)
    if args.command == "serve":
        return _cmd_serve(settings, args)
    if args.command == "token":
        return _cmd_token(settings, args)
    if args.command == "sync":
        return _cmd_sync(settings, watch=args.watch)
    if args.command == "backup":
        return _cmd_backup(settings, args.path)
    if args.command == "restore":
        return _cmd_restore(settings, args.path)
    if args.command == "status":
        return _cmd_status(settings, sys.stdout)
    if args.command == "web":
        return run_web_command(args, settings, sys.stdout)
    if args.command == "ssh-serve":
        return run_ssh_command(args, settings)
    if args.command in FIRM_COMMANDS:
        return run_firm_command(args, settings, sys.stdout)
    return _cmd_open(settings)


def _user_message(exc: BaseException) -> str | None:
    """The one-line message for an error the user can act on; None for a bug (traceback)."""
    if isinstance(exc, ConfigError):
        return str(exc)
    # Look the classes up only if their modules were loaded: an instance cannot exist
    # otherwise, and importing them here would cost start-up time on every error.
    # One StoreError serves the firm database and the portal's (portal_tui.migrating).
    migrating = sys.modules.get("portal_tui.migrating")
    store_error = getattr(migrating, "StoreError", None)
    if isinstance(store_error, type) and isinstance(exc, store_error):
        return str(exc) or type(exc).__name__
    domain = sys.modules.get("portal_tui.domain.decision")
    refused = getattr(domain, "Refused", None)
    if isinstance(refused, type) and isinstance(exc, refused):
        return str(getattr(exc, "message", "") or exc)
    for name in ("Invalid", "NotFound"):
        kind = getattr(domain, name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return str(exc)
    return None


def _error(message: str) -> None:
    line = " ".join(message.split())
    print(f"{PROG}: {line}", file=sys.stderr)


def _check_seed_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.demo and (args.matters is not None or args.activities is not None):
        parser.error("use either --demo or --matters N --activities M, not both")
    if not args.demo and args.matters is None:
        parser.error("say what to write: --demo, or --matters N --activities M")
    if args.matters is not None and args.activities is None:
        parser.error("--matters needs --activities M (the number of activities)")


# Commands -----------------------------------------------------------------------------------


def _cmd_config(settings: Settings, out: TextIO) -> int:
    if settings.keymap:
        # The keymap in effect is one the app accepts: its ids and keys are the app's to know,
        # so only a config with a [keymap] loads the app's screens (Textual) to check it.
        from portal_tui.tui.keymap import check_keymap

        check_keymap(settings)
    rows = [_kept_port_row(settings, row) for row in settings.describe()]
    width = max(len(key) for key, _, _ in rows)
    for key, value, source in rows:
        out.write(f"{key:<{width}} = {value}  ({source})\n")
    return EXIT_OK


def _kept_port_row(settings: Settings, row: tuple[str, str, str]) -> tuple[str, str, str]:
    """The embedded portal's port as it is used: the one kept since its first start."""
    key, _, source = row
    if key != "embedded_portal_port" or source != "default":
        return row
    from portal_tui.embedded import kept_port, port_file

    port = kept_port(settings)
    if port is None:
        return (key, "(chosen at the embedded portal's first start)", source)
    return (key, str(port), f"kept in {port_file(settings)}")


def _cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    where = mask_url_password(settings.database_url)
    if args.demo:
        from portal_tui.seed.demo import seed_demo

        seed_demo(settings.database_url, args.seed)
        print(f"Wrote the demo firm (seed {args.seed}) into {where}")
        return EXIT_OK

    from portal_tui.seed.scale import seed_scale

    seed_scale(settings.database_url, args.matters, args.activities, args.seed)
    print(
        f"Wrote {args.matters} matters and {args.activities} activities "
        f"(seed {args.seed}) into {where}"
    )
    return EXIT_OK


def _cmd_demo(settings: Settings) -> int:
    ready = settings.demo_dir / DEMO_READY_MARK
    if not (ready.exists() and (settings.demo_dir / DATABASE_FILE_NAME).exists()):
        _create_demo(settings)
    return _show_matters(settings, settings.demo_database_url, demo=True)


def _create_demo(settings: Settings) -> None:
    """Seed the demo firm into its own folder, and mark it finished only when it is.

    It is seeded in place, not in a scratch folder moved afterwards, because the demo's
    linked document folders are recorded by absolute path. A run that was interrupted leaves
    no mark, so the next one starts the folder afresh; the lock keeps two runs from doing so
    at once.
    """
    from filelock import FileLock

    from portal_tui.seed.demo import seed_demo

    private_folder(settings.data_dir)
    with FileLock(settings.data_dir / DEMO_LOCK_NAME):
        ready = settings.demo_dir / DEMO_READY_MARK
        if ready.exists() and (settings.demo_dir / DATABASE_FILE_NAME).exists():
            return
        shutil.rmtree(settings.demo_dir, ignore_errors=True)
        settings.demo_dir.mkdir(mode=0o700)
        print(f"Creating the demo firm in {settings.demo_dir} ...", file=sys.stderr)
        try:
            seed_demo(settings.demo_database_url, DEMO_SEED)
            ready.write_text(f"seed {DEMO_SEED}\n", encoding="utf-8")
        except BaseException:
            shutil.rmtree(settings.demo_dir, ignore_errors=True)
            raise


def _cmd_sync(settings: Settings, *, watch: bool) -> int:
    """A delivery and sync pass, headless (for cron), or passes until stopped (--watch); a
    portal problem ends a single pass with status 2."""
    from portal_tui import presence
    from portal_tui.repository import Repository

    with _said_while_locked(settings.database_url):
        repo = Repository.open(settings.database_url)
    try:
        with presence.held(repo.db):
            return _sync_with(settings, repo, watch=watch)
    finally:
        repo.close()


# A lock notice already said is not repeated for this long (an opening and its first write
# may both wait on the same lock).
_LOCK_NOTICE_QUIET_S = 30.0
_lock_notice_said: dict[str, float] = {}


def _say_lock_wait(notice: str) -> None:
    now = time.monotonic()
    if now - _lock_notice_said.get(notice, -_LOCK_NOTICE_QUIET_S) >= _LOCK_NOTICE_QUIET_S:
        _lock_notice_said[notice] = now
        _error(notice)


@contextlib.contextmanager
def _lock_waits_on_stderr() -> Iterator[None]:
    """A command's write that waits on another program's lock says so on stderr at once."""
    from portal_tui.database import told_of_lock_waits

    with told_of_lock_waits(_say_lock_wait):
        yield


@contextlib.contextmanager
def _said_while_locked(url: str) -> Iterator[None]:
    """An opening that waits on another program's lock says so at once (after a second),
    not only when it gives up 30 s later."""
    from portal_tui.database import LOCK_NOTICE_S, locked_by_another, waiting_notice

    done = threading.Event()

    def check() -> None:
        if not done.is_set() and locked_by_another(url):
            _say_lock_wait(waiting_notice(url))

    timer = threading.Timer(LOCK_NOTICE_S, check)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        done.set()
        timer.cancel()


def _sync_with(settings: Settings, repo: Repository, *, watch: bool) -> int:
    from portal_tui.embedded import EmbeddedPortalError, PortalConnection

    try:
        portal = PortalConnection(
            settings, repo.document_content, repo.firm_identity(), repo.invoice_pdf
        )
    except EmbeddedPortalError as exc:
        _error(str(exc))
        return EXIT_USER_ERROR
    try:
        with _stopped_by_sigterm() as stop:
            try:
                if watch:
                    return _watch(repo, portal, stop, keep_outbox_days=settings.keep_outbox_days)
                return _one_pass(repo, portal, stop)
            except _Stopped:
                # SIGTERM in the moment before or after a pass: nothing was in flight.
                if watch:
                    print("Stopped.", flush=True)
                    return EXIT_OK
                return EXIT_TERMINATED
    finally:
        portal.close()


class _Stopped(BaseException):
    """SIGTERM: raised in the main thread, so the pass unwinds (handing back what it holds)."""


@contextlib.contextmanager
def _stopped_by_sigterm() -> Iterator[threading.Event]:
    """SIGTERM stops a sync cleanly, as Ctrl-C does: set the event, and raise _Stopped once
    in the main thread (a second signal meanwhile changes nothing)."""
    import signal

    stop = threading.Event()

    def stopped(_signum: int, _frame: object) -> None:
        if not stop.is_set():
            stop.set()
            raise _Stopped

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_pass(repo: Repository, portal: PortalConnection, stop: threading.Event) -> int:
    from portal_tui.repository.worker import run_pass

    try:
        report = run_pass(repo, portal.client, bounded=True, stopping=stop.is_set)
    except _Stopped:
        _error("stopped before the pass was done; what it was sending goes out next time")
        return EXIT_TERMINATED
    where = "the embedded portal" if portal.embedded else portal.url
    print(
        f"Delivered {report.delivered} to {where}; {report.retried} to retry, "
        f"{report.failed} failed; {report.synced} change(s) from clients applied; "
        f"{repo.pending_deliveries()} still pending."
    )
    for row_id, reason in report.failures:
        print(f"  failed: outbox row {row_id}: {reason}")
    if report.problem:
        _error(report.problem)
        return EXIT_USER_ERROR
    return EXIT_OK


def _watched_pass(
    repo: Repository, portal: PortalConnection, stop: threading.Event
) -> tuple[str | None, bool]:
    """One pass of --watch, its figures printed when it did anything; returns the problem that
    stopped it, if any, and whether it is the firm database's (away while it restarts)."""
    from portal_tui.repository.worker import run_pass

    try:
        report = run_pass(repo, portal.client, stopping=stop.is_set)
    except Exception as exc:  # the database away: say so, and carry on once it is back
        problem = _user_message(exc)
        if problem is None:
            raise
        return problem, True
    if report.delivered or report.failed or report.synced:
        print(
            f"Delivered {report.delivered}, {report.failed} failed, "
            f"{report.synced} change(s) from clients applied.",
            flush=True,
        )
    return report.problem, False


def _watch(
    repo: Repository, portal: PortalConnection, stop: threading.Event, *, keep_outbox_days: int
) -> int:
    """Passes until stopped: a relay beside the staff's own (any number may run at once).
    Each pass's figures are printed when it did anything, a problem when it changes; the
    outbox is pruned as the app's relay prunes it."""
    from portal_tui.repository.delivery import BACKOFF_CAP_S, backoff_seconds
    from portal_tui.repository.worker import DATABASE_RETRY_S, POLL_S, Housekeeping

    housekeeping = Housekeeping(repo, keep_outbox_days)

    where = "the embedded portal" if portal.embedded else portal.url
    print(f"Watching the outbox for {where}; SIGTERM or Ctrl-C stops.", flush=True)
    troubled = 0
    shown: str | None = None
    try:
        while not stop.is_set():
            problem, database_away = _watched_pass(repo, portal, stop)
            if not database_away:
                housekeeping.run_if_due()
            troubled = troubled + 1 if problem else 0
            if problem != shown:
                if problem:
                    _error(problem)
                elif shown:
                    print("The portal and the firm database answer again.", flush=True)
                shown = problem
            wait = min(BACKOFF_CAP_S, backoff_seconds(troubled)) if troubled else POLL_S
            stop.wait(min(wait, DATABASE_RETRY_S) if database_away else wait)
    except _Stopped:
        pass
    print("Stopped.", flush=True)
    return EXIT_OK


def _cmd_backup(settings: Settings, path: str | None) -> int:
    from pathlib import Path

    from portal_tui.backup import backup
    from portal_tui.database import Database

    db = Database(settings.database_url)
    try:
        made = backup(
            db,
            Path(path).absolute() if path else None,
            settings.data_dir,
            into_folder=path is not None and path.endswith(("/", os.sep)),  # made if need be
        )
    finally:
        db.dispose()
    counts = ", ".join(f"{n} {table}" for table, n in made.counts.items())
    print(
        f"Wrote a backup of {mask_url_password(settings.database_url)} to {made.path} "
        f"({made.size:,} bytes{'; ' + counts if counts else ''})."
    )
    print(f"Restore it with: portal-tui restore {made.path}")
    return EXIT_OK


def _cmd_restore(settings: Settings, path: str) -> int:
    from pathlib import Path

    from portal_tui import backup, presence
    from portal_tui.database import Database
    from portal_tui.repository import Repository

    source = Path(path).absolute()
    url = settings.database_url
    db = Database(url)
    keep = settings.data_dir / backup.BACKUPS_FOLDER
    try:
        with presence.alone(db):
            info = backup.backup_info(db, source)
            live = backup.live_identity(db)
            if info is not None:
                backup.check_same_firm(info, live)
            if db.is_sqlite:
                kept = backup.restore_sqlite(db, source, keep)
            else:
                kept = backup.restore_pg(db, source, keep)
            db.dispose()
            repo = Repository.open(url)
            try:
                report = repo.after_restore(at_least_epoch=live.epoch if live else 0)
            finally:
                repo.close()
    finally:
        db.dispose()
    print(f"Restored {source} into {mask_url_password(url)}.")
    if kept is not None:
        print(f"The database it replaced is kept at {kept}.")
    print(
        f"Queued for the portal: a reset, {report.shared} shared item(s) sent again, "
        f"{report.withdrawn} withdrawn, {report.contacts} contact(s); {report.superseded} "
        "row(s) pending in the backup were replaced by these. They go out with the next "
        "`portal-tui sync`, or when the app opens."
    )
    return EXIT_OK


def _cmd_status(settings: Settings, out: TextIO) -> int:
    """Which firm, which portal, and how delivery stands: one line each."""
    from portal_tui.repository import Repository

    repo = Repository.open(settings.database_url)
    try:
        firm = repo.firm_identity()
        pending = repo.pending_deliveries()
        problem = repo.delivery_problem()
    finally:
        repo.close()
    if settings.portal_url:
        portal = f"{settings.portal_url}  ({_portal_serves(settings, firm)})"
    else:
        from portal_tui.embedded import embedded_address

        address = embedded_address(settings) or "a port chosen at its first start"
        portal = f"the embedded portal at {address}: inside the app (or sync) while one runs"
    rows = [
        (
            "firm",
            f'"{firm.name}" (id {firm.firm_id}, epoch {firm.epoch})' if firm else "not set up",
        ),
        ("database", mask_url_password(settings.database_url)),
        ("portal", portal),
        ("pending", f"{pending} change(s) waiting for delivery"),
        ("problem", problem or "none"),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        out.write(f"{key:<{width}} : {value}\n")
    return EXIT_OK


def _portal_serves(settings: Settings, firm: FirmIdentity | None) -> str:
    """Which firm the configured portal serves, as it says itself."""
    from portal_tui.repository.portal_client import PortalClient, PortalUnusable

    client = PortalClient(settings.portal_url or "", settings.portal_token or "", firm=None)
    try:
        bound = client.binding()
    except PortalUnusable as exc:
        return f"cannot tell which firm it serves: {exc}"
    finally:
        client.close()
    if bound is None:
        return "it serves no firm yet: the first to deliver to it binds it"
    if firm is not None and bound.firm_id == firm.firm_id:
        return f"it serves this firm, epoch {bound.epoch}"
    return f'it serves another firm, "{bound.name}" (id {bound.firm_id})'


def _cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from portal_tui.service import server

    try:
        sock = server.bind(args.host, args.port)
        try:
            listening = server.listening_url(sock)
            base_url = server.check_base_url(args.base_url or listening)
            config = server.service_config(settings, database_url=args.database, base_url=base_url)
            server.prepare_database(config.database_url)
            if args.base_url is None and args.host in ("0.0.0.0", "::"):
                _error(f"note: links in emails will start with {base_url}; pass --base-url")
        except BaseException:
            sock.close()
            raise
        return server.run(config, sock, lambda line: print(line, flush=True), workers=args.workers)
    except server.ServeError as exc:
        _error(str(exc))
        return EXIT_USER_ERROR


def _cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from portal_tui.service import server, tokens

    url = args.database or server.default_database_url(settings.data_dir)
    try:
        server.prepare_database(url)
    except server.ServeError as exc:
        _error(str(exc))
        return EXIT_USER_ERROR
    from portal_tui.database import Database

    db = Database(url)
    try:
        if args.token_command == "create":
            # Only the token on stdout, so that a script can capture it.
            print(tokens.create_token(db, args.staff))
            return EXIT_OK
        count = tokens.revoke_tokens(db, staff_login=args.staff, token=args.token)
    except tokens.TokenError as exc:
        _error(str(exc))
        return EXIT_USER_ERROR
    finally:
        db.dispose()
    whose = f"of {args.staff}" if args.staff is not None else "given"
    if count == 0:
        _error(f"no live token {whose} was found; nothing was revoked")
        return EXIT_USER_ERROR
    print(f"Revoked {count} token{'s' if count != 1 else ''} {whose}.")
    return EXIT_OK


def _cmd_open(settings: Settings) -> int:
    return _show_matters(settings, settings.database_url, demo=False)


def _show_matters(settings: Settings, url: str, *, demo: bool) -> int:
    """Open the firm: the staff app on a terminal; its matters as text when piped."""
    # `portal-tui web` runs the app with pipes and names Textual's web driver to draw on them.
    browser = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")
    if browser or (sys.stdin.isatty() and sys.stdout.isatty()):
        return _run_app(settings, url, demo=demo)
    from portal_tui.repository import Repository

    repo = Repository.open(url, settings.staff_user)
    place = "the demo firm database" if demo else mask_url_password(url)
    try:
        firm = repo.firm_name()
        if not firm:
            print(f"{texts.NO_FIRM} ({place})")
            if not demo:
                print("Try the demo firm: portal-tui demo")
            return EXIT_OK
        page = repo.list_matters(limit=MATTERS_SHOWN)
    finally:
        repo.close()
    if not page.rows:
        print(f"{firm} has no matters yet ({place}).")
        if not demo:
            print("Try the demo firm: portal-tui demo")
        return EXIT_OK
    _print_matters(firm, page.rows, ascii_only=settings.ascii)
    if page.more_after:
        print(f"(the first {len(page.rows)} matters are shown)")
    return EXIT_OK


def _run_app(settings: Settings, url: str, *, demo: bool) -> int:
    import gc
    from dataclasses import replace

    # Start-up allocates a great deal and frees little: full collections on the way would
    # only delay the first rows. The app turns collection back on once started (freeze_gc).
    gc.disable()
    # The first screen's rows, read with sqlite3 in a thread while Textual imports (cold start
    # to the first matter row <= 2.5x a bare Textual app); None tells the app to take its usual
    # path.
    first_page = _read_first_page_soon(url, settings.staff_user)
    from portal_tui.tui.app import PortalApp

    held = contextlib.ExitStack()

    def open_repo() -> Repository:
        # Opened by the app in a thread behind its first frame (start-up time is the first
        # frame); an error here comes back below as the app's `failure`.
        from portal_tui import presence
        from portal_tui.repository import Repository

        repo = Repository.open(url, settings.staff_user)
        try:
            # The firm is open here until the app ends: a restore waits for that.
            held.enter_context(presence.held(repo.db))
            repo.current_staff()  # an unknown staff user is one line, not a broken screen
        except BaseException:
            held.close()
            repo.close()
            raise
        return repo

    # The demo's embedded portal keeps its data beside the demo firm, apart from a real one.
    app_settings = replace(settings, data_dir=settings.demo_dir) if demo else settings
    app = PortalApp(
        open_repo,
        settings=app_settings,
        ascii_only=settings.ascii,
        first_page=first_page,
        freeze_gc=True,
        database_url=url,
    )
    with held:
        app.run()
    if app.failure is not None:
        # An empty firm database is a first run, not an error: the same questions as `init`.
        opened = None if demo else first_run_on_screen(settings, url)
        if opened is not None:
            return _run_app(opened, url, demo=False)
        raise app.failure
    # Textual has already shown the traceback of a crash; the exit status must say so too.
    return app.return_code or EXIT_OK


def _read_first_page_soon(url: str, staff_login: str | None) -> Future[FirstPage | None]:
    from concurrent.futures import Future
    from threading import Thread

    from portal_tui.repository.first_page import FIRST_PAGE_ROWS, read_first_page

    outcome: Future[FirstPage | None] = Future()

    def read() -> None:
        if not outcome.set_running_or_notify_cancel():
            return
        try:
            outcome.set_result(read_first_page(url, staff_login, FIRST_PAGE_ROWS))
        except BaseException as exc:  # the app takes its usual path, which reports it
            outcome.set_exception(exc)

    Thread(target=read, name="first-page", daemon=True).start()
    return outcome


def _print_matters(firm: str, rows: Sequence[MatterRow], *, ascii_only: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def cell(text: str) -> Text:
        # Text(), not str: client data such as "Smith [Deceased]" is not rich markup.
        return Text(_to_ascii(text) if ascii_only else text)

    console = Console(highlight=False, emoji=False, markup=False, safe_box=True)
    table = Table(
        title=cell(firm or "Matters"),
        box=box.ASCII if ascii_only else box.SIMPLE_HEAD,
        title_justify="left",
    )
    # "fold" rather than rich's default ellipsis, which is not ASCII.
    table.add_column("Number", no_wrap=True)
    table.add_column("Client", overflow="fold")
    table.add_column("Matter", overflow="fold")
    table.add_column("Portal", no_wrap=True)
    for row in rows:
        table.add_row(
            cell(row.number),
            cell(row.client_name),
            cell(row.name),
            cell("ON" if row.portal_enabled else "OFF"),
        )
    console.print(table)


_ASCII_PUNCTUATION = str.maketrans(
    {
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'",
        "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u2022": "*", "\u00a0": " ",
    }
)  # fmt: skip


def _to_ascii(text: str) -> str:
    """Client data for a terminal that cannot show Unicode: "Jörg – Müller" as "Jorg - Muller".

    Accents are dropped rather than the letters, and whatever has no ASCII form becomes "?".
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_PUNCTUATION))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.encode("ascii", "replace").decode("ascii")

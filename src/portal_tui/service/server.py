"""`portal-tui serve`: the portal service under uvicorn, for real.

Everything that can be wrong with the command line (an address that cannot be bound, a
database that cannot be opened, a base URL that is not one) is found before uvicorn starts and
reported as one ServeError line; the socket is bound here and handed to uvicorn, so "port in
use" is that line too rather than a log message and a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from portal_tui.config import mask_url_password, sqlite_url
from portal_tui.private import private_folder

from .config import Retention, ServiceConfig, SmtpSettings

if TYPE_CHECKING:
    from portal_tui.config import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DATABASE_FILE_NAME = "portal.db"
# The service's own folder under the data folder (its mail folder lives inside).
SERVICE_FOLDER_NAME = "portal"
BACKLOG = 2048


class ServeError(Exception):
    """Why the service cannot start, in one line."""


def default_database_url(data_dir: Path) -> str:
    return sqlite_url(data_dir / DATABASE_FILE_NAME)


def check_base_url(url: str) -> str:
    """The URL clients reach the portal at (links in emails start with it)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ServeError(f"bad --base-url {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServeError(f"bad --base-url {url!r}: expected http://host[:port] or https://...")
    if parts.query or parts.fragment or any(ch.isspace() for ch in url.strip()):
        raise ServeError(f"bad --base-url {url!r}: no spaces, query or fragment")
    del port
    return url.strip().rstrip("/")


def service_config(settings: Settings, *, database_url: str | None, base_url: str) -> ServiceConfig:
    """The service's configuration from the app's settings (SMTP, sender, upload limit)."""
    smtp = None
    if settings.smtp_host:
        smtp = SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )
    config = ServiceConfig(
        database_url=database_url or default_database_url(settings.data_dir),
        data_dir=settings.data_dir / SERVICE_FOLDER_NAME,
        base_url=base_url,
        smtp=smtp,
        upload_limit_bytes=settings.upload_limit_mb * 1024 * 1024,
        reset_link_valid_minutes=settings.reset_link_valid_minutes,
        sign_in_links=settings.sign_in_links,
        session_places=settings.session_places,
        forwarded_allow_ips=tuple((settings.forwarded_allow_ips or "").split(","))
        if settings.forwarded_allow_ips
        else (),
        retention=Retention(
            feed_days=settings.keep_feed_days,
            idempotency_days=settings.keep_idempotency_days,
            mail_days=settings.keep_mail_days,
            sessions_days=settings.keep_sessions_days,
            login_failures_days=settings.keep_login_failures_days,
        ),
    )
    if settings.mail_from:
        config = replace(config, mail_from=settings.mail_from)
    return config


def proxy_settings(config: ServiceConfig) -> dict[str, Any]:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: only the proxies
    configured are trusted, and with none the header is not read at all."""
    if not config.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(config.forwarded_allow_ips)}


def prepare_database(url: str) -> None:
    """Open the database and bring its schema up to date, or say in one line why not."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from portal_tui.database import Database
    from portal_tui.migrating import StoreError

    from .schema import ensure_service_schema

    shown = mask_url_password(url)
    try:
        db = Database(url, label="portal database")
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ServeError(f"bad database URL {shown!r}: {_first_line(exc)}") from None
    try:
        if db.is_sqlite and db.url.database not in (None, "", ":memory:"):
            private_folder(Path(db.url.database).parent)
        ensure_service_schema(db)
    except StoreError as exc:
        raise ServeError(str(exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise ServeError(f"cannot use the database {shown}: {_first_line(exc)}") from None
    finally:
        db.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port (port 0: any free port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def listening_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def announcement(config: ServiceConfig, sock: socket.socket, workers: int = 1) -> str:
    processes = f"; {workers} worker processes" if workers > 1 else ""
    return (
        f"Portal service listening on {listening_url(sock)} "
        f"(database {mask_url_password(config.database_url)}; "
        f"clients use {config.base_url}{processes})"
    )


def check_workers(config: ServiceConfig, workers: int) -> None:
    """Several workers need fork() and one database they all see."""
    from sqlalchemy.engine import make_url

    if workers <= 1:
        return
    if workers > MAX_WORKERS:
        raise ServeError(f"--workers: at most {MAX_WORKERS}")
    if not hasattr(os, "fork"):
        raise ServeError("--workers above 1 needs fork(), which this system does not have")
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or "mode=memory" in str(url)
    ):
        raise ServeError(
            "--workers above 1 needs a database file or server: an in-memory SQLite "
            "database would be a different one in each worker"
        )


def run(
    config: ServiceConfig,
    sock: socket.socket,
    announce: Callable[[str], None],
    *,
    workers: int = 1,
) -> int:
    """Serve until SIGTERM or SIGINT; both end it cleanly (exit status 0). With `workers`
    above 1, that many processes share the socket (see Supervisor)."""
    try:
        check_workers(config, workers)
    except ServeError:
        sock.close()
        raise
    if workers > 1:
        return Supervisor(config, sock, announce, workers).run()
    try:
        return _serve(config, sock, lambda: announce(announcement(config, sock)))
    finally:
        sock.close()


def _serve(
    config: ServiceConfig,
    sock: socket.socket,
    started: Callable[[], None],
    *,
    worker: bool = False,
    parent_gone: int | None = None,
) -> int:
    """One uvicorn server on `sock`, until SIGTERM (or SIGINT, unless a `worker`: a
    supervisor's worker stops when the supervisor says so, or when it is gone: EOF on
    `parent_gone`)."""
    import uvicorn

    from .app import create_app

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if parent_gone is not None:
                asyncio.get_running_loop().add_reader(parent_gone, self._parent_gone)
            if self.started:
                started()

        def _parent_gone(self) -> None:
            assert parent_gone is not None
            asyncio.get_running_loop().remove_reader(parent_gone)
            self.should_exit = True

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # Ctrl-C reaches every process of the terminal's group: the supervisor turns it
            # into one SIGTERM per worker, and a second signal here would be uvicorn's
            # "force quit", dropping the requests in flight.
            if worker and sig == signal.SIGINT:
                return
            super().handle_exit(sig, frame)

    server = Server(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            access_log=False,  # never shown at "warning": spare each request the access logger
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            **proxy_settings(config),
        )
    )
    # uvicorn re-raises the signal that stopped it once it has shut down, for an outer
    # handler; a stop asked for is the normal end of a server, so it is swallowed here.
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stopped(signum: int, frame: FrameType | None) -> None:
        return None

    for sig in previous:
        signal.signal(sig, stopped)
    try:
        server.run(sockets=[sock])
    except SystemExit as exc:
        # uvicorn exits when the application fails to start (its lifespan raised).
        if exc.code not in (0, None):
            raise ServeError("the portal service failed to start (see the log above)") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


class Supervisor:
    """`serve --workers N`: N forked uvicorn processes accepting on the one socket bound
    before (so "port in use" is still one line), and this process watching over them.

    - The start-up line is printed once, by this process, when every worker is serving; a
      worker that fails to start stops them all (a ServeError, its log above).
    - SIGTERM, SIGINT or SIGHUP here: SIGTERM to each worker, which finishes the requests in
      flight and its lifespan (as one process does); the exit status is 0 when all end so.
    - Only worker 0 runs the background tasks of the app's lifespan (the mail sender: one
      sender, never N racing for the outbox); the others are started with send_mail off.
    - A worker that dies after start-up is replaced (worker 0 by a worker 0); a worker whose
      supervisor is gone (even killed) sees EOF on a pipe and stops.
    """

    def __init__(
        self,
        config: ServiceConfig,
        sock: socket.socket,
        announce: Callable[[str], None],
        workers: int,
    ) -> None:
        self.config = config
        self.sock = sock
        self.announce = announce
        self.workers = workers
        self.children: dict[int, int] = {}  # pid: worker number
        self.ready: set[int] = set()  # worker numbers serving
        self.stopping = False
        self.announced = False
        self.failed = False

    def run(self) -> int:
        # Imported (and the app built once) before forking: the workers share those pages
        # and start faster. Nothing here has opened a database or started a thread.
        from .app import create_app

        create_app(self.config)
        self._ready_r, self._ready_w = os.pipe()
        self._alive_r, self._alive_w = os.pipe()
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w, self._ready_r):
            os.set_blocking(fd, False)
        previous = {sig: signal.getsignal(sig) for sig in (*STOP_SIGNALS, signal.SIGCHLD)}
        old_wakeup = signal.set_wakeup_fd(self._wake_w)
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._stop_asked)
        # A handler (rather than the default, ignore) so a worker's end wakes the loop.
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        try:
            for number in range(self.workers):
                self._fork(number)
            self._watch()
        finally:
            self._stop_all()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for fd in (self._ready_r, self._ready_w, self._alive_r, self._alive_w):
                os.close(fd)
            os.close(self._wake_r)
            os.close(self._wake_w)
            self.sock.close()
        if self.failed and self.announced:
            raise ServeError("a worker that ended could not be started again (see the log above)")
        if self.failed:
            raise ServeError("the portal service failed to start (see the log above)")
        return 0

    def _stop_asked(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _fork(self, number: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.children[pid] = number
            return
        status = 1
        try:
            status = self._worker(number)
        except ServeError:
            status = 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def _worker(self, number: int) -> int:
        # Until uvicorn takes SIGTERM over, it simply ends a worker that has nothing to lose.
        signal.set_wakeup_fd(-1)
        for sig in (*STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        for fd in (self._ready_r, self._alive_w, self._wake_r, self._wake_w):
            os.close(fd)

        def started() -> None:
            os.write(self._ready_w, bytes([number]))

        return _serve(
            self.worker_config(number), self.sock, started, worker=True, parent_gone=self._alive_r
        )

    def worker_config(self, number: int) -> ServiceConfig:
        """Worker 0 runs the app's background tasks (the mail sender, the pruner); the others
        only serve requests."""
        return self.config if number == 0 else replace(self.config, send_mail=False, prune=False)

    def _watch(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not self.stopping:
            timeout = None if self._all_ready() else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self._wake_r, self._ready_r], [], [], timeout)
            if self._wake_r in readable:
                _drain(self._wake_r)
            if self._ready_r in readable:
                self._note_ready()
            if self._reap():
                return
            if not self._all_ready() and time.monotonic() > deadline:
                _say(f"the workers did not all start within {START_SECONDS:.0f} s")
                self.failed = True
                return

    def _all_ready(self) -> bool:
        return len(self.ready) == self.workers

    def _note_ready(self) -> None:
        was_ready = self._all_ready()
        self.ready.update(_drain(self._ready_r))
        if self._all_ready() and not was_ready and not self.announced:
            self.announced = True
            self.announce(announcement(self.config, self.sock, self.workers))

    def _reap(self) -> bool:
        """Collect ended workers; True when the service must stop (one failed to start)."""
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return False
            number = self.children.pop(pid)
            if self.stopping:
                continue
            if number not in self.ready or not self.announced:
                self.failed = True
                return True
            self.ready.discard(number)
            _say(
                f"worker {number} (process {pid}) ended unexpectedly "
                f"({_status_text(status)}); starting another"
            )
            self._fork(number)
        return False

    def _stop_all(self) -> None:
        """SIGTERM to every worker, then wait for them (killed after the grace time)."""
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACEFUL_SECONDS + 5
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid:
                self.children.pop(pid, None)
                if os.waitstatus_to_exitcode(status) > 0 and not self.failed:
                    _say(f"worker process {pid} ended with {_status_text(status)}")
                continue
            if time.monotonic() > deadline:
                for late in self.children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(late, signal.SIGKILL)
                deadline = float("inf")
            select.select([self._wake_r], [], [], 0.1)
            _drain(self._wake_r)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
MAX_WORKERS = 64
GRACEFUL_SECONDS = 10
START_SECONDS = 120.0


def _drain(fd: int) -> bytes:
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 512):
            data += chunk
    return data


def _status_text(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


def _say(line: str) -> None:
    print(f"portal-tui: {line}", file=sys.stderr, flush=True)

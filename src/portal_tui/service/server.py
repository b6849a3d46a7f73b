"""`portal-tui serve`: the portal service under uvicorn, for real.

Everything that can be wrong with the command line (an address that cannot be bound, a
database that cannot be opened, a base URL that is not one) is found before uvicorn starts and
reported as one ServeError line; the socket is bound here and handed to uvicorn, so "port in
use" is that line too rather than a log message and a traceback.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from portal_tui.config import mask_url_password, sqlite_url

from .config import ServiceConfig, SmtpSettings

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
    )
    if settings.mail_from:
        config = replace(config, mail_from=settings.mail_from)
    return config


def prepare_database(url: str) -> None:
    """Open the database and bring its schema up to date, or say in one line why not."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from portal_tui.database import Database
    from portal_tui.migrating import StoreError

    from .schema import ensure_service_schema

    shown = mask_url_password(url)
    try:
        db = Database(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ServeError(f"bad database URL {shown!r}: {_first_line(exc)}") from None
    try:
        if db.is_sqlite and db.url.database not in (None, "", ":memory:"):
            Path(db.url.database).parent.mkdir(parents=True, exist_ok=True)
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


def run(config: ServiceConfig, sock: socket.socket, announce: Callable[[str], None]) -> int:
    """Serve until SIGTERM or SIGINT; both end it cleanly (exit status 0)."""
    import uvicorn

    from .app import create_app

    where = listening_url(sock)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                announce(
                    f"Portal service listening on {where} "
                    f"(database {mask_url_password(config.database_url)}; "
                    f"clients use {config.base_url})"
                )

    server = Server(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            server_header=False,
            timeout_graceful_shutdown=10,
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
        sock.close()
    return 0 if server.started else 1

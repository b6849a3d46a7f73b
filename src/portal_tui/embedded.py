"""The embedded default: the portal service run inside the app, on loopback, on its own SQLite
database under the data folder — so a firm with no configuration needs nothing else running.

It is the same application `portal-tui serve` runs, reached over real HTTP with a staff token
of its own, so the delivery path is the one a separate service would see.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from portal_tui.domain import texts
from portal_tui.private import private_folder

if TYPE_CHECKING:
    import uvicorn

    from portal_tui.config import Settings
    from portal_tui.domain.records import FirmIdentity
    from portal_tui.service.config import ServiceConfig

EMBEDDED_LOGIN = "embedded-app"
START_TIMEOUT_S = 20.0
PORT_FILE_NAME = "port"  # in the portal's folder of the data folder
# While another process serves this data folder's portal: how often to see if it has stopped.
TAKE_OVER_S = 2.0


class EmbeddedPortalError(Exception):
    """The embedded portal could not start; `str()` says why in one line."""


@dataclass(frozen=True, slots=True)
class PortalAccess:
    url: str
    token: str


class EmbeddedPortal:
    """Start with `start()`; `stop()` shuts the server down and waits for it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._database_url: str | None = None
        self._stopping = threading.Event()
        self._guardian: threading.Thread | None = None
        self.access: PortalAccess | None = None

    def start(self) -> PortalAccess:
        """Serve the portal here, on the port it keeps; or, when another portal-tui on this
        data folder (the app open while `portal-tui sync` runs) already serves it there, use
        that one, and take over serving should it stop."""
        from portal_tui.service import server as service_server

        wanted = self._settings.embedded_portal_port or kept_port(self._settings)
        try:
            sock = service_server.bind("127.0.0.1", wanted or 0)
        except service_server.ServeError:
            if not wanted:
                raise EmbeddedPortalError(
                    "The embedded portal could not start: no port is free on 127.0.0.1."
                ) from None
            return self._join(wanted)
        if not wanted:
            _keep_port(self._settings, sock.getsockname()[1])
        return self._serve(sock)

    def _serve(self, sock: socket.socket) -> PortalAccess:
        import uvicorn

        from portal_tui.service import server as service_server
        from portal_tui.service.app import create_app

        try:
            url = service_server.listening_url(sock)
            config = service_server.service_config(self._settings, database_url=None, base_url=url)
            service_server.prepare_database(config.database_url)
        except service_server.ServeError as exc:
            sock.close()
            raise EmbeddedPortalError(f"The embedded portal could not start: {exc}") from None
        token = self.access.token if self.access is not None else self._new_token(config)
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(config),
                log_level="warning",
                server_header=False,
                **service_server.proxy_settings(config),
            )
        )
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="embedded-portal", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EmbeddedPortalError("The embedded portal service did not start.")
            time.sleep(0.02)
        self.access = PortalAccess(url, token)
        self._database_url = config.database_url
        return self.access

    def _new_token(self, config: ServiceConfig) -> str:
        # A token of its own for each start, revoked at stop: another process on the same data
        # folder (the app open while cron runs `portal-tui sync`) has its own, and keeps it.
        from portal_tui.database import Database
        from portal_tui.service.tokens import create_token

        db = Database(config.database_url)
        try:
            return create_token(db, EMBEDDED_LOGIN)
        finally:
            db.dispose()

    def _join(self, port: int) -> PortalAccess:
        """The port is taken: by the portal of this data folder (served by another
        portal-tui: its database accepts a token made in ours), or by another program."""
        import httpx

        from portal_tui.service import server as service_server

        url = f"http://127.0.0.1:{port}"
        config = service_server.service_config(self._settings, database_url=None, base_url=url)
        try:
            service_server.prepare_database(config.database_url)
        except service_server.ServeError as exc:
            raise EmbeddedPortalError(f"The embedded portal could not start: {exc}") from None
        token = self._new_token(config)
        self.access = PortalAccess(url, token)
        self._database_url = config.database_url
        try:
            answer = httpx.get(
                f"{url}/api/v1/firm/binding",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
            ours = answer.status_code == 200
        except httpx.HTTPError:
            ours = False
        if not ours:
            self._revoke()
            raise EmbeddedPortalError(texts.EMBEDDED_PORT_TAKEN.format(port=port))
        self._guardian = threading.Thread(
            target=self._take_over, args=(port,), name="embedded-portal-guard", daemon=True
        )
        self._guardian.start()
        return self.access

    def _take_over(self, port: int) -> None:
        """While another process serves this data folder's portal: serve it here as soon as
        that one stops (the port is free again), so delivery carries on at the same address."""
        from portal_tui.service import server as service_server

        while not self._stopping.wait(TAKE_OVER_S):
            try:
                sock = service_server.bind("127.0.0.1", port)
            except service_server.ServeError:
                continue
            try:
                self._serve(sock)
            except EmbeddedPortalError:
                continue
            return

    def stop(self) -> None:
        self._stopping.set()
        if self._guardian is not None:
            self._guardian.join(timeout=15)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = self._thread = self._guardian = None
        self._revoke()

    def _revoke(self) -> None:
        if self.access is not None and self._database_url is not None:
            from portal_tui.database import Database
            from portal_tui.service.tokens import revoke_tokens

            db = Database(self._database_url)
            try:
                revoke_tokens(db, token=self.access.token)
            finally:
                db.dispose()
            self.access = None


def port_file(settings: Settings) -> Path:
    from portal_tui.service.server import SERVICE_FOLDER_NAME

    return settings.data_dir / SERVICE_FOLDER_NAME / PORT_FILE_NAME


def kept_port(settings: Settings) -> int | None:
    """The port chosen at the embedded portal's first start, kept so that the links in every
    invitation already sent keep working after a restart."""
    try:
        port = int(port_file(settings).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return port if 1 <= port <= 65535 else None


def _keep_port(settings: Settings, port: int) -> None:
    path = port_file(settings)
    private_folder(path.parent)
    try:
        # Exclusive: of two first starts at once, the first port kept is the one used later.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(f"{port}\n")


def embedded_address(settings: Settings) -> str | None:
    """Where the embedded portal is (or will be): None until it has first started."""
    port = settings.embedded_portal_port or kept_port(settings)
    return f"http://127.0.0.1:{port}" if port else None


class PortalConnection:
    """The portal this app delivers to: the one named by portal_url (with portal_token), or
    the embedded one, started here and stopped by `close()`."""

    def __init__(
        self,
        settings: Settings,
        document_content: Callable[[int], bytes],
        firm: FirmIdentity | None = None,
        invoice_pdf: Callable[[int], bytes | None] | None = None,
    ) -> None:
        """`firm`: who this firm is (repository.firm_identity()), named on every request so that
        the portal serves this one firm only. `invoice_pdf`: an invoice's own PDF
        (repository.invoice_pdf), sent when the portal lacks it."""
        from portal_tui.repository.portal_client import PortalClient

        self._embedded: EmbeddedPortal | None = None
        if settings.portal_url:
            if not settings.portal_token:
                raise EmbeddedPortalError(
                    "portal_url is set but portal_token is not: create one with "
                    "`portal-tui token create --staff LOGIN` on the portal service."
                )
            url, token = settings.portal_url, settings.portal_token
        else:
            self._embedded = EmbeddedPortal(settings)
            access = self._embedded.start()
            url, token = access.url, access.token
        self.url = url
        self.embedded = self._embedded is not None
        self.client = PortalClient(
            url, token, document_content=document_content, invoice_pdf=invoice_pdf, firm=firm
        )

    def close(self) -> None:
        self.client.close()
        if self._embedded is not None:
            self._embedded.stop()

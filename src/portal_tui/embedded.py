"""The embedded default: the portal service run inside the app, on loopback, on its own SQLite
database under the data folder — so a firm with no configuration needs nothing else running.

It is the same application `portal-tui serve` runs, reached over real HTTP with a staff token
of its own, so the delivery path is the one a separate service would see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

    from portal_tui.config import Settings
    from portal_tui.domain.records import FirmIdentity

EMBEDDED_LOGIN = "embedded-app"
START_TIMEOUT_S = 20.0


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
        self.access: PortalAccess | None = None

    def start(self) -> PortalAccess:
        import uvicorn

        from portal_tui.database import Database
        from portal_tui.service import server as service_server
        from portal_tui.service.app import create_app
        from portal_tui.service.tokens import create_token

        try:
            sock = service_server.bind("127.0.0.1", 0)
            url = service_server.listening_url(sock)
            config = service_server.service_config(self._settings, database_url=None, base_url=url)
            service_server.prepare_database(config.database_url)
        except service_server.ServeError as exc:
            raise EmbeddedPortalError(f"The embedded portal could not start: {exc}") from None
        # A token of its own for each start, revoked at stop: another process on the same data
        # folder (the app open while cron runs `portal-tui sync`) has its own, and keeps it.
        db = Database(config.database_url)
        try:
            token = create_token(db, EMBEDDED_LOGIN)
        finally:
            db.dispose()
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

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = self._thread = None
        if self.access is not None and self._database_url is not None:
            from portal_tui.database import Database
            from portal_tui.service.tokens import revoke_tokens

            db = Database(self._database_url)
            try:
                revoke_tokens(db, token=self.access.token)
            finally:
                db.dispose()
            self.access = None


class PortalConnection:
    """The portal this app delivers to: the one named by portal_url (with portal_token), or
    the embedded one, started here and stopped by `close()`."""

    def __init__(
        self,
        settings: Settings,
        document_content: Callable[[int], bytes],
        firm: FirmIdentity | None = None,
    ) -> None:
        """`firm`: who this firm is (repository.firm_identity()), named on every request so that
        the portal serves this one firm only."""
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
        self.client = PortalClient(url, token, document_content=document_content, firm=firm)

    def close(self) -> None:
        self.client.close()
        if self._embedded is not None:
            self._embedded.stop()

"""Every answer under /api/ carries X-Portal-API-Version, errors included.

The staff API's routes set it on their own answers (route.py). This middleware adds it to the
answers the application gives under /api/ instead of a route: a path no route matches (404), a
method the path does not take (405), the database away (503) and a server error (500).
portal-tui reads the header to know that a portal service it understands answered, rather than
a proxy or another web server at portal_url.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .route import API_VERSION, VERSION_HEADER

API_PATHS = "/api/"


class VersionEveryAnswer:
    """ASGI middleware: the API version header on every answer under /api/ lacking it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(API_PATHS):
            await self.app(scope, receive, send)
            return

        async def versioned(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if VERSION_HEADER not in headers:
                    headers[VERSION_HEADER] = API_VERSION
            await send(message)

        await self.app(scope, receive, versioned)

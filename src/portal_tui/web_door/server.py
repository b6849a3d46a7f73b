"""The browser door's server: textual-serve's page and terminal, behind a staff sign-in.

A visitor without a session gets a sign-in page asking for their staff token (tokens.py); the
token names the staff user, a random session cookie (HttpOnly, SameSite=Strict) stands for it,
and each websocket the page opens runs `portal-tui --staff-user LOGIN` in a process of its own.
The websocket is refused without that cookie, or from a page of another origin (a site the
staff member visits cannot open the app in their name). Sign-in attempts are limited per
client address; each sign-in and refusal is logged, and written in the firm's audit trail
(`door.sign_in`, `door.refused` with the reason), as the SSH door's are."""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import shlex
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from portal_tui.domain import texts
from portal_tui.domain.decision import Invalid
from portal_tui.repository import Repository

from .tokens import login_for

log = logging.getLogger("portal-tui.web")

COOKIE = "portal_tui_web"
SESSION_IDLE_S = 12 * 60 * 60  # a working day: the app itself asks nothing again
SIGN_IN_WINDOW_S = 15 * 60
SIGN_IN_LIMIT = 10  # per client address and window, like the portal's log-in
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
label,input,button{{display:block;font:inherit}}input{{width:100%;margin:.3rem 0 1rem}}
.error{{color:#a00}}</style></head>
<body><main><h1>{title}</h1>
{message}<form method="post" action="/sign-in">
<label for="token">Staff token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>
<p>Your administrator makes your token with <code>portal-tui web token LOGIN</code>.</p>
</main></body></html>
"""


@dataclass
class _Session:
    login: str
    seen: float


class StaffWebDoor(Server):
    def __init__(
        self,
        *,
        data_dir: Path,
        repo: Repository,
        host: str,
        port: int,
        public_url: str,
        title: str,
    ) -> None:
        super().__init__("portal-tui", host=host, port=port, title=title, public_url=public_url)
        self.data_dir = data_dir
        self.repo = repo  # as the system: it writes only the door's audit entries
        self._sessions: dict[str, _Session] = {}
        self._tries: dict[str, deque[float]] = {}

    # What textual-serve does, with the door in front --------------------------------------

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_post("/sign-in", self.handle_sign_in)
        app.router.add_post("/sign-out", self.handle_sign_out)
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        open_paths = request.path.startswith("/static/") or request.path == "/sign-in"
        if not open_paths and self._session_of(request) is None:
            if request.path == "/":
                return self._sign_in_page()
            raise web.HTTPForbidden(text="Sign in first.", headers=_HEADERS)
        response: web.StreamResponse = await handler(request)
        if not request.path.startswith("/static/"):
            response.headers.update(_HEADERS)
        return response

    async def on_startup(self, app: web.Application) -> None:
        print(
            f"portal-tui web: the staff app at {self.public_url}/ — sign in with a token from "
            "`portal-tui web token LOGIN`. Ctrl+C stops.",
            flush=True,
        )

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.INFO, format="portal-tui web: %(message)s")
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    # Sessions -----------------------------------------------------------------------------

    def _session_of(self, request: web.Request) -> _Session | None:
        key = request.cookies.get(COOKIE, "")
        session = self._sessions.get(key)
        now = time.monotonic()
        if session is None or now - session.seen > SESSION_IDLE_S:
            self._sessions.pop(key, None)
            return None
        session.seen = now
        return session

    def _limited(self, address: str) -> bool:
        now = time.monotonic()
        tries = self._tries.setdefault(address, deque())
        while tries and now - tries[0] > SIGN_IN_WINDOW_S:
            tries.popleft()
        if len(tries) >= SIGN_IN_LIMIT:
            return True
        tries.append(now)
        return False

    def _sign_in_page(self, message: str = "", status: int = 200) -> web.Response:
        shown = f'<p class="error" role="alert">{html.escape(message)}</p>\n' if message else ""
        return web.Response(
            text=_PAGE.format(title=html.escape(self.title), message=shown),
            content_type="text/html",
            status=status,
            headers=_HEADERS,
        )

    async def handle_sign_in(self, request: web.Request) -> web.StreamResponse:
        address = request.remote or "unknown"
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="A sign-in from another site is refused.")
        if self._limited(address):
            log.warning("sign-in refused: too many tries from %s", address)
            await self._record(None, texts.DOOR_TOO_MANY_TRIES, address)
            return self._sign_in_page("Too many tries. Wait a quarter of an hour.", 429)
        form = await request.post()
        token = str(form.get("token", ""))
        login = await asyncio.to_thread(login_for, self.data_dir, token)
        if login is None:
            log.warning("sign-in refused: a wrong token from %s", address)
            await self._record(None, texts.DOOR_WRONG_TOKEN, address)
            return self._sign_in_page("That token is not one of this firm's.", 403)
        if not await self._active(login):
            log.warning("sign-in refused: %s is disabled (from %s)", login, address)
            await self._record(login, texts.DOOR_DISABLED, address)
            return self._sign_in_page(
                f"The staff user {login} is disabled: ask an Admin (portal-tui staff enable).", 403
            )
        key = secrets.token_urlsafe(32)
        self._sessions[key] = _Session(login, time.monotonic())
        self._tries.pop(address, None)
        log.info("%s signed in from %s", login, address)
        await self._record(login, None, address)
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            COOKIE,
            key,
            httponly=True,
            samesite="Strict",
            secure=self.public_url.startswith("https://"),
            path="/",
        )
        return response

    async def handle_sign_out(self, request: web.Request) -> web.StreamResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text="A sign-out from another site is refused.")
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        return response

    async def _active(self, login: str) -> bool:
        try:
            return (await asyncio.to_thread(self.repo.staff_user, login)).active
        except Invalid:  # a token left for a user no longer in the firm
            return False

    async def _record(self, login: str | None, refused: str | None, address: str) -> None:
        try:
            await asyncio.to_thread(
                self.repo.record_door, "web", login=login, refused=refused, address=address
            )
        except Exception as exc:  # the door goes on; what it could not write is logged
            log.error("could not write the audit trail: %s", exc)

    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        # No Origin at all: not a browser acting for another page.
        return origin is None or origin.rstrip("/") == self.public_url.rstrip("/")

    # One app process per connection, as the signed-in staff user -------------------------

    def command_for(self, login: str) -> str:
        return shlex.join([sys.executable, "-m", "portal_tui", "--staff-user", login])

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        session = self._session_of(request)
        if session is None or request.headers.get("Origin", "").rstrip("/") != (
            self.public_url.rstrip("/")
        ):
            raise web.HTTPForbidden(text="Sign in first, from this door's own page.")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None

        async def close() -> None:
            await websocket.close()

        try:
            await websocket.prepare(request)
            app_service = AppService(
                self.command_for(session.login),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=False,
            )
            log.info("%s opened the app", session.login)
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket

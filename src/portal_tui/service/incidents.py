"""A server error never resets the connection nor shows a bare "Internal Server Error": the
request gets a proper answer — the portal's own error page for a client, an RFC 9457 problem
for the staff API — naming an incident id that is also in the service log beside the
traceback, so the one can be found from the other. The connection stays usable: the error is
answered here and not raised on to the server (which would close it)."""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .pages.errors import PageError

log = logging.getLogger("uvicorn.error.portal")

PROBLEM_TYPE = "application/problem+json"


class ServerError(PageError):
    status_code = 500
    title = "Something went wrong"

    def __init__(self, incident: str) -> None:
        super().__init__(
            "Something went wrong on the portal's side, and nothing was changed. Please try "
            f"again in a moment; if it happens again, tell your firm this reference: {incident}."
        )


def new_incident() -> str:
    return secrets.token_hex(6)


def problem(incident: str) -> Response:
    """RFC 9457: what the staff API answers for a server error."""
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": f"The portal service failed to handle the request (incident {incident}); "
            "nothing was changed. Retry; if it persists, the service log has the incident.",
            "instance": f"urn:portal-tui:incident:{incident}",
            "incident": incident,
        },
        status_code=500,
        media_type=PROBLEM_TYPE,
    )


class Incidents:
    """ASGI middleware: the outermost catch of an error no handler took."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            incident = new_incident()
            log.exception(
                "incident %s: %s %s failed", incident, scope.get("method"), scope.get("path")
            )
            if started:
                return  # half an answer is out: nothing more can be said on this response
            await _answer(scope, incident)(scope, receive, send)


def _answer(scope: Scope, incident: str) -> Response:
    path = str(scope.get("path", ""))
    if path.startswith("/api/"):
        return problem(incident)
    from .pages.security import error_page, harden

    return harden(error_page(Request(scope), ServerError(incident)))

"""Response hardening for every client page, and the route class that applies it.

The headers are set by the pages' own route class rather than an app-wide middleware, so the
staff API keeps its own answers and no client page can be served without them: a page error
(404, 403, 429...) is turned into its page here, then hardened like any other response.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ..deps import config_of
from .errors import (
    AccessEnded,
    BadRequest,
    CsrfFailed,
    LoginRequired,
    PageError,
    TooManyAttempts,
)
from .render import render
from .sessions import clear_session_cookie, end_request_session

# No script at all (the pages work without JavaScript), nothing inline, nothing from
# elsewhere; forms post only here; no framing (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Invitation links carry their secret in the path: never let it leave in a Referer to
    # another site. Same-origin (not no-referrer): with no-referrer a browser sends its own
    # form posts with `Origin: null`, and the origin check (same_origin) could not tell them
    # from another site's.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def harden(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # Client data must not stay in a shared computer's cache or back/forward history; only
    # responses that say otherwise (the stylesheet) are cached.
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def safe_next(path: str | None) -> str | None:
    """A local path to go back to after logging in; anything else (another host, a scheme,
    "//host") is dropped so the log-in page is no open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    if any(ord(c) < 0x20 for c in path):
        return None
    return path


def login_redirect(next_path: str | None) -> RedirectResponse:
    target = "/login"
    safe = safe_next(next_path)
    if safe and safe != "/":
        target += "?next=" + quote(safe, safe="/")
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, error: PageError) -> Response:
    if isinstance(error, LoginRequired):
        return login_redirect(error.next_path)
    response = render(
        error.template,
        status_code=error.status_code,
        title=error.title,
        message=error.message,
        page=None,
    )
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request) -> bool:
    """A state-changing request comes from the portal's own pages: its Origin (or, without
    one, its Referer) is the portal's base URL, besides the form's CSRF token. A request with
    neither (some privacy tools strip both) is left to the token alone."""
    expected = _origin_of(config_of(request).base_url)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == expected  # "null" (a sandboxed or file: page) never matches
    referer = request.headers.get("referer")
    return referer is None or _origin_of(referer) == expected


class PageRoute(APIRoute):
    """Every client page goes through here: errors become pages, all answers are hardened."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                if request.method not in _SAFE_METHODS and not same_origin(request):
                    raise CsrfFailed()
                response = await handler(request)
            except AccessEnded as ended:
                # The session goes with the access: the next request is the log-in page.
                await run_in_threadpool(end_request_session, request)
                response = error_page(request, ended)
                clear_session_cookie(response, config_of(request))
            except PageError as error:
                response = error_page(request, error)
            except RequestValidationError:
                response = error_page(request, BadRequest())
            return harden(response)

        return page_handler

"""CSRF protection for every form post.

Logged in: the session's own token, rendered into each form. Before logging in (log-in and
invitation forms) there is no session, so a random token goes in a cookie and in the form,
and the two must match (double submit): another site can make the browser post, but cannot
read or set the cookie to match. A mismatch is a 403 page, and nothing is changed.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import Request, Response

from ..config import ServiceConfig
from ..deps import config_of
from .errors import CsrfFailed
from .render import render
from .sessions import Visitor

FIELD = "csrf"


def prelogin_cookie_name(config: ServiceConfig) -> str:
    return "__Host-portal_csrf" if config.secure_cookies else "portal_csrf"


def _same(expected: str, given: str | None) -> bool:
    return (
        bool(expected)
        and given is not None
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def check_session_token(visitor: Visitor, form: dict[str, str]) -> None:
    if not _same(visitor.csrf_token, form.get(FIELD)):
        raise CsrfFailed()


def prelogin_token(request: Request) -> tuple[str, bool]:
    """The token to put in a pre-login form, and whether its cookie must be (re)set."""
    current = request.cookies.get(prelogin_cookie_name(config_of(request)))
    if current and 20 <= len(current) <= 100:
        return current, False
    return secrets.token_urlsafe(32), True


def set_prelogin_cookie(response: Response, config: ServiceConfig, token: str) -> None:
    response.set_cookie(
        prelogin_cookie_name(config),
        token,
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
        path="/",
    )


def prelogin_page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> Response:
    """A page with a pre-login form (log-in, invitation, forgot, reset): `template` rendered
    with the form's token as `csrf_token`, and the token's cookie set if the browser has none."""
    token, fresh = prelogin_token(request)
    response = render(template, status_code=status_code, csrf_token=token, **context)
    if fresh:
        set_prelogin_cookie(response, config_of(request), token)
    return response


def check_prelogin(request: Request, form: dict[str, str]) -> None:
    cookie = request.cookies.get(prelogin_cookie_name(config_of(request)))
    if cookie is None or not _same(cookie, form.get(FIELD)):
        raise CsrfFailed()

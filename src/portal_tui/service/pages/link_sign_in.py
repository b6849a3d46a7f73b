"""Signing in by an emailed link, when the firm turns it on (`sign_in_links`, off by default):
"Email me a sign-in link" beside the password form. The link works once, for 15 minutes, and
only in the browser that asked for it (OWASP ASVS V6.6 out-of-band authenticators; NIST SP
800-63B 5.1.3): the request sets a random cookie in that browser, and the link's stored hash is
of the emailed secret and that cookie together, so the email alone — forwarded, or read by a
mail scanner — signs nobody in.

Like "Forgot your password?" the answer is the same page whether or not the address has an
account, and requests are limited per address typed and per client address. Opening the link
shows a button; only its form post signs in, so a scanner that opens links spends nothing. A
contact whose access has ended gets no link, and a link sent before that no longer works."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.sqltypes import utcnow

from .. import two_factor
from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..mail.compose import portal_link
from ..mail.security import queue_sign_in_link
from ..models import Account, OneTimeLink
from . import csrf, visibility
from .auth import log_in_after
from .common import FormFields, page_router, plain_chrome
from .errors import NotFound
from .recovery import account_for, count_link_request, new_link
from .sessions import set_session_cookie

router = page_router()

PURPOSE_SIGN_IN = "sign-in"
VALID_MINUTES = 15
LINK_GONE = (
    "This sign-in link does not work here: a link works once, for 15 minutes, and only in "
    "the browser where you asked for it. Ask for a new one on the log-in page, in the browser "
    "you want to use."
)


def browser_cookie_name(config: ServiceConfig) -> str:
    return "__Host-portal_link" if config.secure_cookies else "portal_link"


def _digest(secret: str, browser: str) -> str:
    return hashlib.sha256(f"{secret}:{browser}".encode()).hexdigest()


def _require_on(request: Request) -> ServiceConfig:
    config = config_of(request)
    if not config.sign_in_links:
        raise NotFound()
    return config


def _sent_page(request: Request, email: str) -> Response:
    with db_of(request).read() as s:
        chrome = plain_chrome(s, "Check your email")
    return csrf.prelogin_page(
        request, "link_sent.html", page=chrome, email=email, valid_minutes=VALID_MINUTES
    )


@router.post("/login/link")
def ask_for_link(request: Request, form: FormFields) -> Response:
    config = _require_on(request)
    csrf.check_prelogin(request, form)
    email = form.get("email", "").strip()[:320]
    now = utcnow()
    # Made whether or not it is used: the answer takes the same time either way.
    secret = secrets.token_urlsafe(32)
    browser = secrets.token_urlsafe(32)
    with db_of(request).write() as s:
        count_link_request(s, request, "sign-in", email, now)
        account = account_for(s, email)
        if account is not None:
            link = new_link(
                s, account, PURPOSE_SIGN_IN, _digest(secret, browser), now, VALID_MINUTES
            )
            url = portal_link(config, f"/login/link/{secret}")
            queue_sign_in_link(s, account, link, url, valid_minutes=VALID_MINUTES)
    response = _sent_page(request, email)
    response.set_cookie(
        browser_cookie_name(config),
        browser,
        max_age=VALID_MINUTES * 60,
        httponly=True,
        samesite="lax",  # sent when the link is opened from a mail client (a top-level GET)
        secure=config.secure_cookies,
        path="/",
    )
    return response


def _live_link(
    request: Request, s: Session, secret: str, now: datetime, *, lock: bool = False
) -> tuple[OneTimeLink, Account]:
    browser = request.cookies.get(browser_cookie_name(config_of(request)), "")
    if not secret or len(secret) > 200 or not browser or len(browser) > 100:
        raise NotFound(LINK_GONE)
    query = select(OneTimeLink).where(
        OneTimeLink.token_hash == _digest(secret, browser),
        OneTimeLink.purpose == PURPOSE_SIGN_IN,
    )
    # Locked by the writer: two tabs using one link at once sign in once.
    link = s.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound(LINK_GONE)
    account = s.get(Account, link.account_id, with_for_update=lock, populate_existing=lock)
    # Access ended since the link was sent: the link ends with it.
    if account is None or not visibility.account_may_log_in(s, account):
        raise NotFound(LINK_GONE)
    return link, account


@router.get("/login/link/{secret}")
def link_form(request: Request, secret: str) -> Response:
    _require_on(request)
    with db_of(request).read() as s:
        _, account = _live_link(request, s, secret, utcnow())
        chrome = plain_chrome(s, "Sign in")
        return csrf.prelogin_page(
            request, "link_sign_in.html", page=chrome, secret=secret, email=account.email
        )


@router.post("/login/link/{secret}")
def sign_in(request: Request, secret: str, form: FormFields) -> Response:
    config = _require_on(request)
    csrf.check_prelogin(request, form)
    now = utcnow()
    db = db_of(request)
    key = two_factor.signing_key(db)
    device = request.cookies.get(two_factor.device_cookie_name(config))
    with db.write() as s:
        link, account = _live_link(request, s, secret, now, lock=True)
        link.used_at = now
        # The link stands for the password, never for the second factor: that is still
        # asked for (or set up, where the firm requires it), as after a password.
        second = two_factor.after_password(s, key, account, device, two_factor.clock())
        raw = log_in_after(s, request, account, now) if second.pending is None else None
    if raw is None:
        response = two_factor.pending_redirect(config, second)
    else:
        response = RedirectResponse("/", status_code=303)
        set_session_cookie(response, config, raw)
    response.delete_cookie(
        browser_cookie_name(config),
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
        path="/",
    )
    return response

"""A client who forgot the password (OWASP ASVS V6.4, NIST SP 800-63B): "Forgot your
password?" emails a link that works once, for an hour (reset_link_valid_minutes); choosing the
new password ends every session of the account and emails the client that it happened.

The answer to the request is the same page, whether or not the address has an account, and
limited per address typed and per client address alike, so it tells a guesser nothing; the work
done is the same too but for the row and the email queued."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal_tui.sqltypes import utcnow

from .. import two_factor
from ..deps import config_of, db_of
from ..mail.compose import portal_link
from ..mail.security import queue_password_changed, queue_password_reset
from ..models import Account, ClientSession, OneTimeLink
from . import csrf, ratelimit, visibility
from .auth import client_address, guessable_names, hasher, log_in_after
from .common import FormFields, page_router, plain_chrome
from .errors import NotFound
from .passwords import PASSWORD_MIN, password_errors
from .sessions import set_session_cookie

router = page_router()

PURPOSE_RESET = "reset"
RESET_GONE = (
    "This link to choose a new password is not valid any more: it may have been used "
    "already, replaced by a newer one, or expired. Ask for a new one: Forgot your password? "
    "on the log-in page."
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _forgot_page(
    request: Request, *, email: str = "", sent: bool = False, status_code: int = 200
) -> Response:
    with db_of(request).read() as s:
        chrome = plain_chrome(s, "Forgot your password?")
    return csrf.prelogin_page(
        request,
        "forgot.html",
        status_code=status_code,
        page=chrome,
        email=email,
        sent=sent,
        valid_minutes=config_of(request).reset_link_valid_minutes,
    )


@router.get("/forgot")
def forgot_form(request: Request) -> Response:
    return _forgot_page(request)


@router.post("/forgot")
def ask_for_reset(request: Request, form: FormFields) -> Response:
    csrf.check_prelogin(request, form)
    config = config_of(request)
    email = form.get("email", "").strip()[:320]
    now = utcnow()
    # Made whether or not it is used: the answer takes the same time either way.
    secret = secrets.token_urlsafe(32)
    digest = _digest(secret)
    with db_of(request).write() as s:
        count_link_request(s, request, "reset", email, now)
        account = account_for(s, email)
        if account is not None:
            link = new_link(s, account, PURPOSE_RESET, digest, now, config.reset_link_valid_minutes)
            queue_password_reset(s, config, account, link, portal_link(config, f"/reset/{secret}"))
    return _forgot_page(request, email=email, sent=True)


def count_link_request(s: Session, request: Request, what: str, email: str, now: datetime) -> None:
    """Count a request for an emailed link against the limits per address typed and per
    client address, whether or not the address has an account (TooManyRequests at one)."""
    config = config_of(request)
    ratelimit.count_request(
        s,
        [
            (f"{what}:{email.lower()}", config.reset_limit_per_account),
            (f"{what}-addr:{client_address(request)[:100]}", config.reset_limit_per_address),
        ],
        config.reset_window_seconds,
        now,
    )


def new_link(
    s: Session, account: Account, purpose: str, token_hash: str, now: datetime, minutes: int
) -> OneTimeLink:
    """A one-time link for the account, valid `minutes`; a newer link replaces any older one
    of the same purpose still unused."""
    s.execute(
        update(OneTimeLink)
        .where(
            OneTimeLink.account_id == account.id,
            OneTimeLink.purpose == purpose,
            OneTimeLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    link = OneTimeLink(
        token_hash=token_hash,
        account_id=account.id,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    s.add(link)
    s.flush()
    return link


def account_for(s: Session, email: str) -> Account | None:
    """The account that may log in with this address, if any: a client whose access has
    ended gets no link (and the page says the same as for an unknown address)."""
    if not email:
        return None
    for account in s.scalars(
        select(Account).where(func.lower(Account.email) == email.lower()).order_by(Account.id)
    ):
        if visibility.account_may_log_in(s, account):
            return account
    return None


def _live_link(
    s: Session, secret: str, now: datetime, *, lock: bool = False
) -> tuple[OneTimeLink, Account]:
    if not secret or len(secret) > 200:
        raise NotFound(RESET_GONE)
    query = select(OneTimeLink).where(
        OneTimeLink.token_hash == _digest(secret), OneTimeLink.purpose == PURPOSE_RESET
    )
    # Locked by the writer: two tabs using one link at once use it once.
    link = s.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound(RESET_GONE)
    account = s.get(Account, link.account_id, with_for_update=lock, populate_existing=lock)
    # Access ended since the link was sent: the link ends with it.
    if account is None or not visibility.account_may_log_in(s, account):
        raise NotFound(RESET_GONE)
    return link, account


def _reset_page(
    request: Request, secret: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    with db_of(request).read() as s:
        _, account = _live_link(s, secret, utcnow())
        return csrf.prelogin_page(
            request,
            "reset.html",
            status_code=status_code,
            page=plain_chrome(s, "Choose a new password"),
            secret=secret,
            email=account.email,
            errors=errors or {},
            password_min=PASSWORD_MIN,
        )


@router.get("/reset/{secret}")
def reset_form(request: Request, secret: str) -> Response:
    return _reset_page(request, secret)


@router.post("/reset/{secret}")
def reset_password(request: Request, secret: str, form: FormFields) -> Response:
    """The new password: the link is spent, every session of the account ends, this browser
    is logged in afresh, and the client is told by email."""
    csrf.check_prelogin(request, form)
    db = db_of(request)
    config = config_of(request)
    with db.read() as s:
        _, account = _live_link(s, secret, utcnow())
        names = guessable_names(s, account)
    password = form.get("password", "")
    errors = password_errors(password, form.get("confirm", ""), names=names)
    if errors:
        return _reset_page(request, secret, errors=errors, status_code=400)
    hashed = hasher.hash(password)  # slow on purpose: outside the write transaction
    key = two_factor.signing_key(db)
    now = utcnow()
    with db.write() as s:
        link, account = _live_link(s, secret, now, lock=True)
        link.used_at = now
        account.password_hash = hashed
        # Everywhere else is signed out (ASVS V7.4.3): a thief's session ends here too.
        s.execute(delete(ClientSession).where(ClientSession.account_id == account.id))
        queue_password_changed(s, config, account, now)
        # A reset link proves the mailbox, not the second factor: that is still asked for
        # (the new password has ended every remembered device already).
        second = two_factor.after_password(s, key, account, None, two_factor.clock())
        raw = log_in_after(s, request, account, now) if second.pending is None else None
    if raw is None:
        return two_factor.pending_redirect(config, second)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, config, raw)
    return response

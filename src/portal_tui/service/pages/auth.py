"""Getting in and out: the invitation link (P1), log-in, log-out, and choosing a matter (C4)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal_tui.domain import rules
from portal_tui.domain.states import ContactStatus
from portal_tui.sqltypes import utcnow

from .. import feed, two_factor
from ..deps import config_of, db_of
from ..models import Account, PortalContact, PortalFirm, PortalMatter
from . import csrf, ratelimit, visibility
from .common import (
    CurrentVisitor,
    FormFields,
    ended_unless_open,
    matter_url,
    page_router,
    plain_chrome,
    require_visitor,
)
from .devices import device_label
from .errors import NotFound
from .passwords import PASSWORD_MAX, PASSWORD_MIN, password_errors
from .render import render
from .security import safe_next
from .sessions import (
    Visitor,
    clear_session_cookie,
    end_session,
    raw_session_id,
    remember_matter,
    set_session_cookie,
    start_session,
    visitor_of,
)

router = page_router()

# argon2id with the library's defaults (RFC 9106's second recommended set).
hasher = PasswordHasher()

LOGIN_FAILED = (
    "We could not log you in with that email and password. Check them and try again. "
    "If your firm has changed your access, contact them."
)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher.hash("not a real password, only here to spend the same time")


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def guessable_names(s: Session, account: Account) -> list[str]:
    """What a guesser knows of this client: their name, their email's name, the firm's."""
    firm = s.get(PortalFirm, 1)
    return [account.name, account.email.partition("@")[0], firm.name if firm else ""]


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


# Log-in and log-out ---------------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with db_of(request).read() as s:
        chrome = plain_chrome(s, "Log in")
    return csrf.prelogin_page(
        request,
        "login.html",
        status_code=status_code,
        page=chrome,
        email=email,
        next_path=safe_next(next_path) or "",
        error=error,
        notice=notice,
        sign_in_links=config_of(request).sign_in_links,
    )


@router.get("/login")
def login_form(request: Request, next: str | None = None, out: int = 0) -> Response:
    if visitor_of(request) is not None:
        return RedirectResponse(safe_next(next) or "/", status_code=303)
    notice = "You have logged out." if out else None
    return _login_page(request, next_path=next, notice=notice)


@router.post("/login")
def login(request: Request, form: FormFields) -> Response:
    csrf.check_prelogin(request, form)
    config = config_of(request)
    db = db_of(request)
    email = form.get("email", "").strip()[:320]
    password = form.get("password", "")[:PASSWORD_MAX]
    next_path = safe_next(form.get("next"))
    address = client_address(request)
    key = two_factor.signing_key(db)
    device = request.cookies.get(two_factor.device_cookie_name(config))
    now = utcnow()
    with db.write() as s:
        # Counted as a failure until the password proves right: see ratelimit.
        reserved = ratelimit.reserve(s, config, email, address, now)
        candidates = [
            (a.id, a.password_hash)
            for a in s.scalars(
                select(Account)
                .where(func.lower(Account.email) == email.lower())
                .order_by(Account.id)
            )
        ]
    # Verified outside any transaction: argon2 is slow on purpose, and must not hold the
    # database's write lock while it works.
    matched = next((aid for aid, h in candidates if h and verify_password(h, password)), None)
    if matched is None and not any(h for _, h in candidates):
        verify_password(None, password)  # the same time spent whether or not the email exists
    raw: str | None = None
    second: two_factor.AfterPassword | None = None
    with db.write() as s:
        account = s.get(Account, matched, with_for_update=True) if matched is not None else None
        if account is not None and visibility.account_may_log_in(s, account):
            ratelimit.release(s, reserved)
            # A second factor on (and this device not remembered), or one the firm requires:
            # no session yet, only the pending sign-in of the code page.
            second = two_factor.after_password(s, key, account, device, two_factor.clock())
            if second.pending is None:
                raw = _log_in(s, request, account, password, now)
        # Otherwise, whatever the reason (no such email, wrong password, no active matter),
        # one message and one count (the one reserved): the page must not tell which.
    if second is not None and second.pending is not None:
        return two_factor.pending_redirect(config, second)
    if raw is None:
        return _login_page(request, email=email, next_path=next_path, error=LOGIN_FAILED)
    response = RedirectResponse(next_path or "/", status_code=303)
    set_session_cookie(response, config, raw)
    return response


def _log_in(s: Session, request: Request, account: Account, password: str, now: datetime) -> str:
    """A new session for the account (the browser's old one ends), noted for the firm."""
    if account.password_hash and hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    return log_in_after(s, request, account, now)


def log_in_after(s: Session, request: Request, account: Account, now: datetime) -> str:
    """The account proved who it is (a password, or a reset link used): a new session."""
    account.last_login_at = now
    ratelimit.clear_account(s, account.email)
    feed.record_change(s, feed.LOGIN, None, {"account_id": account.id})
    return start_session(
        s,
        config_of(request),
        account.id,
        replacing=raw_session_id(request),
        device=device_label(request.headers.get("user-agent")),
        address=client_address(request)[:64],
    )


@router.post("/logout")
def logout(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    csrf.check_session_token(visitor, form)
    raw = raw_session_id(request)
    if raw:
        with db_of(request).write() as s:
            end_session(s, raw)
    response = RedirectResponse("/login?out=1", status_code=303)
    clear_session_cookie(response, config_of(request))
    return response


# Choosing a matter (C4) -----------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        matters = ended_unless_open(s, visitor.account_id)
        ids = [m.matter_id for m in matters]
        if visitor.matter_id in ids:
            return RedirectResponse(matter_url(visitor.matter_id), status_code=303)
        if not rules.c4_needs_matter_choice(ids) and ids:
            return RedirectResponse(matter_url(ids[0]), status_code=303)
        return _chooser(s, visitor, matters)


@router.get("/matters")
def choose_matter(request: Request) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        return _chooser(s, visitor, ended_unless_open(s, visitor.account_id))


def _chooser(s: Session, visitor: Visitor, matters: list[visibility.MatterAccess]) -> Response:
    return render(
        "matters.html",
        page=plain_chrome(s, "Your matters", visitor),
        matters=matters,
    )


# The invitation (P1) --------------------------------------------------------------------------


def _invitation(
    s: Session, secret: str, now: datetime, *, lock: bool = False
) -> tuple[PortalContact, Account, PortalMatter]:
    """The contact a live invitation link is for; NotFound for a wrong, used or expired one."""
    if not secret or len(secret) > 200:
        raise NotFound(INVITE_GONE)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    query = select(PortalContact).where(PortalContact.invite_hash == digest)
    # Writers lock the row: two tabs using one link at once activate it once.
    contact = s.scalar(query.with_for_update() if lock else query)
    if contact is None or contact.status not in {c.value for c in ContactStatus}:
        raise NotFound(INVITE_GONE)
    if not rules.p1_can_activate(ContactStatus(contact.status)):
        raise NotFound(INVITE_GONE)
    # No expiry recorded means the firm set none.
    if contact.invite_expires_at is not None and contact.invite_expires_at <= now:
        raise NotFound(INVITE_GONE)
    # Locked too: the links of one account's invitations to two matters, used at once, must
    # not both find it without a password and both set one.
    account = s.get(Account, contact.account_id, with_for_update=lock, populate_existing=lock)
    matter = s.get(PortalMatter, contact.matter_id)
    if account is None or matter is None:
        raise NotFound(INVITE_GONE)
    return contact, account, matter


INVITE_GONE = (
    "This invitation link is not valid any more: it may have been used already, replaced by a "
    "newer invitation, or expired. Ask your firm to send you a new invitation."
)


def _invite_page(
    request: Request,
    secret: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    visitor = visitor_of(request)
    with db_of(request).read() as s:
        contact, account, matter = _invitation(s, secret, utcnow())
        chrome = plain_chrome(s, "Your client portal", visitor)
        return csrf.prelogin_page(
            request,
            "invite.html",
            status_code=status_code,
            page=chrome,
            secret=secret,
            contact_name=contact.name,
            email=account.email,
            matter_name=matter.name,
            has_password=bool(account.password_hash),
            own_session=visitor is not None and visitor.account_id == account.id,
            other_session=visitor is not None and visitor.account_id != account.id,
            errors=errors or {},
            password_min=PASSWORD_MIN,
        )


@router.get("/invite/{secret}")
def invitation(request: Request, secret: str) -> Response:
    return _invite_page(request, secret)


@router.post("/invite/{secret}")
def set_password(request: Request, secret: str, form: FormFields) -> Response:
    """A new account: the password is set, the contact becomes active, and the client is
    logged in (P1)."""
    csrf.check_prelogin(request, form)
    db = db_of(request)
    with db.read() as s:
        _, account, _ = _invitation(s, secret, utcnow())
        if account.password_hash:
            # Set once; this account adds the matter by logging in instead.
            return RedirectResponse(f"/invite/{secret}", status_code=303)
        names = guessable_names(s, account)
    password = form.get("password", "")
    errors = password_errors(password, form.get("confirm", ""), names=names)
    if errors:
        return _invite_page(request, secret, errors=errors, status_code=400)
    hashed = hasher.hash(password)
    now = utcnow()
    with db.write() as s:
        contact, account, _ = _invitation(s, secret, now, lock=True)
        if account.password_hash:
            # Another tab set it a moment ago: that one stands.
            return RedirectResponse(f"/invite/{secret}", status_code=303)
        account.password_hash = hashed
        _activate(s, contact, account, now)
        raw = _log_in(s, request, account, password, now)
        matter_id = contact.matter_id
    response = RedirectResponse(matter_url(matter_id), status_code=303)
    set_session_cookie(response, config_of(request), raw)
    return response


@router.post("/invite/{secret}/accept")
def accept_invitation(
    request: Request, secret: str, visitor: CurrentVisitor, form: FormFields
) -> Response:
    """An account that already has a password, invited to one more matter: once logged in,
    the link adds the matter to it."""
    csrf.check_session_token(visitor, form)
    db = db_of(request)
    now = utcnow()
    with db.write() as s:
        contact, account, _ = _invitation(s, secret, now, lock=True)
        if account.id != visitor.account_id:
            raise NotFound(INVITE_GONE)
        _activate(s, contact, account, now)
        matter_id = contact.matter_id
    remember_matter(db, visitor, matter_id)
    return RedirectResponse(matter_url(matter_id), status_code=303)


def _activate(s: Session, contact: PortalContact, account: Account, now: datetime) -> None:
    contact.status = ContactStatus.ACTIVE.value
    # The link is spent: a second use finds nothing.
    contact.invite_hash = None
    if account.activated_at is None:
        account.activated_at = now
    feed.record_change(
        s,
        feed.ACTIVATION,
        contact.matter_id,
        {"contact_id": contact.id, "account_id": account.id},
    )

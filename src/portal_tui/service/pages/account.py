"""The client's own account page, /account (OWASP ASVS V6.2, V7.4, V7.5): who they are, a new
password (the current one asked again), two-factor, how they hear of new items, and where
they are signed in, with "Sign out" for each session and for every other one.

A client whose access has ended gets the ended page here too (S7), like on every page. A new
password, like a reset, ends every other session of the account and emails the client that
it changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal_tui.domain import rules
from portal_tui.domain.states import EmailPreference
from portal_tui.sqltypes import utcnow

from .. import account_state
from ..deps import config_of, db_of
from ..mail.audience import firm_portal
from ..mail.security import queue_password_changed
from ..models import Account, ClientSession, PortalFirm
from . import csrf, ratelimit
from .auth import client_address, guessable_names, hasher, verify_password
from .common import CurrentVisitor, FormFields, ended_unless_open, page_router, plain_chrome
from .passwords import PASSWORD_MAX, PASSWORD_MIN, password_errors
from .render import render
from .sessions import Visitor

router = page_router()

ACCOUNT_PATH = "/account"
TWO_FACTOR_PATH = "/account/two-factor"
WRONG_CURRENT = "That is not your current password."

# What each choice is called on the page, in the order shown.
PREFERENCE_LABELS: dict[EmailPreference, str] = {
    EmailPreference.INSTANT: "Each new item, as soon as it is shared",
    EmailPreference.DIGEST: "One digest a day of the previous day's new items",
    EmailPreference.NONE: "None: only invitations and security notices",
}

# The message each finished change leaves on the page (?done=...).
DONE: dict[str, str] = {
    "password": "Your password is changed. You are signed out everywhere else.",
    "email": "Your email preference is saved.",
    "session": "That session is signed out.",
    "others": "You are signed out everywhere else.",
}


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One signed-in session as the page lists it."""

    ref: str  # what the page's "Sign out" names it by (never the stored hash)
    device: str
    place: str | None
    last_seen: datetime
    signed_in: datetime
    current: bool


def session_ref(id_hash: str) -> str:
    """A session's name on the page: derived from the stored hash, so the page never shows
    the key sessions are looked up by, and cannot be turned back into it."""
    return hashlib.sha256(b"account-page:" + id_hash.encode()).hexdigest()[:24]


def _lines(s: Session, request: Request, visitor: Visitor, now: datetime) -> list[SessionLine]:
    config = config_of(request)
    rows = account_state.live_sessions(s, config, visitor.account_id, now)
    lines = [
        SessionLine(
            session_ref(row.id_hash),
            row.device or "Unknown browser",
            row.address if config.session_places else None,
            row.last_seen_at,
            row.created_at,
            row.id_hash == visitor.session_hash,
        )
        for row in rows
    ]
    # This browser first: the one a client looks for, and the one they cannot sign out here.
    return sorted(lines, key=lambda line: not line.current)


def _page(
    request: Request,
    visitor: Visitor,
    *,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    with db_of(request).read() as s:
        ended_unless_open(s, visitor.account_id)
        account = s.get(Account, visitor.account_id)
        assert account is not None  # the session's row holds a foreign key to it
        firm = s.get(PortalFirm, 1)
        return render(
            "account.html",
            status_code=status_code,
            page=plain_chrome(s, "Your account", visitor),
            account=account,
            errors=errors or {},
            done=DONE.get(done or ""),
            password_min=PASSWORD_MIN,
            two_factor=account_state.two_factor_on(s, account.id),
            two_factor_path=TWO_FACTOR_PATH,
            preference=rules.f5_preference(account.email_preference),
            preferences=PREFERENCE_LABELS,
            firm_emails=firm is not None and rules.f5_emails_clients(firm_portal(firm)),
            sessions=_lines(s, request, visitor, now),
            show_places=config_of(request).session_places,
        )


def _done(what: str) -> Response:
    return RedirectResponse(f"{ACCOUNT_PATH}?done={what}", status_code=303)


@router.get(ACCOUNT_PATH)
def account_page(request: Request, visitor: CurrentVisitor, done: str | None = None) -> Response:
    return _page(request, visitor, done=done)


@router.post(ACCOUNT_PATH + "/password")
def change_password(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    """A new password: the current one first (counted like a log-in, so a session left open
    cannot be used to guess it), then the same rule as every new password."""
    csrf.check_session_token(visitor, form)
    db = db_of(request)
    config = config_of(request)
    now = utcnow()
    with db.write() as s:
        ended_unless_open(s, visitor.account_id)
        account = s.get(Account, visitor.account_id)
        assert account is not None
        reserved = ratelimit.reserve(s, config, account.email, client_address(request), now)
        stored, names = account.password_hash, guessable_names(s, account)
    # argon2 outside any transaction: slow on purpose, it must not hold the write lock.
    if not verify_password(stored, form.get("current", "")[:PASSWORD_MAX]):
        return _page(request, visitor, errors={"current": WRONG_CURRENT}, status_code=400)
    password = form.get("password", "")
    errors = password_errors(password, form.get("confirm", ""), names=names)
    if errors:
        with db.write() as s:
            ratelimit.release(s, reserved)  # the current password was right
        return _page(request, visitor, errors=errors, status_code=400)
    hashed = hasher.hash(password)
    now = utcnow()
    with db.write() as s:
        ratelimit.release(s, reserved)
        account = s.get(Account, visitor.account_id, with_for_update=True)
        assert account is not None
        if account.password_hash != stored:
            # Changed meanwhile (another tab, a reset): the current password asked for is
            # not current any more.
            return _page(request, visitor, errors={"current": WRONG_CURRENT}, status_code=400)
        account.password_hash = hashed
        # Every other session ends (ASVS V7.4.3); this one, which just proved it, stays.
        account_state.end_sessions(s, account.id, keep=visitor.session_hash)
        queue_password_changed(s, config, account, now)
    return _done("password")


@router.post(ACCOUNT_PATH + "/email")
def set_email_preference(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    csrf.check_session_token(visitor, form)
    try:
        preference = EmailPreference(form.get("preference", ""))
    except ValueError:
        return _page(
            request,
            visitor,
            errors={"preference": "Choose one of the three."},
            status_code=400,
        )
    with db_of(request).write() as s:
        ended_unless_open(s, visitor.account_id)
        account = s.get(Account, visitor.account_id, with_for_update=True)
        assert account is not None
        account.email_preference = preference.value
    return _done("email")


@router.post(ACCOUNT_PATH + "/sessions/end")
def end_one_session(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    """One other session signed out. One that is gone already (signed out in another tab,
    timed out) is no error: it is signed out either way."""
    csrf.check_session_token(visitor, form)
    ref = form.get("session", "")
    config = config_of(request)
    with db_of(request).write() as s:
        ended_unless_open(s, visitor.account_id)
        hashes = [
            row.id_hash
            for row in account_state.live_sessions(s, config, visitor.account_id, utcnow())
            if row.id_hash != visitor.session_hash and session_ref(row.id_hash) == ref
        ]
        if hashes:
            s.execute(
                delete(ClientSession).where(
                    ClientSession.account_id == visitor.account_id,
                    ClientSession.id_hash.in_(hashes),
                )
            )
    return _done("session")


@router.post(ACCOUNT_PATH + "/sessions/end-others")
def end_other_sessions(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    csrf.check_session_token(visitor, form)
    with db_of(request).write() as s:
        ended_unless_open(s, visitor.account_id)
        account_state.end_sessions(s, visitor.account_id, keep=visitor.session_hash)
    return _done("others")

"""Two-factor sign-in for clients (service/two_factor.py holds the rules): the code asked
after the password, the setup a firm's requirement walks a client through before anything
else, and the client's own page to turn it on or off (/account/two-factor)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from .. import two_factor
from ..deps import config_of, db_of
from ..models import Account
from . import csrf, ratelimit, visibility
from .auth import client_address, log_in_after, verify_password
from .common import CurrentVisitor, FormFields, ended_unless_open, page_router, plain_chrome
from .render import render, when
from .sessions import Visitor, set_session_cookie

router = page_router()

WRONG_CODE = "That code is not right, or was used already. Check the app and try again."
WRONG_SETUP_CODE = (
    "That code does not match. Check that the app shows this portal's account and that your "
    "phone's clock is right, then type the code it shows now."
)
# A setup field too old (SETUP_VALID), of another account or password, or none at all.
SETUP_EXPIRED = (
    "This setup page is out of date. Add the account to your app again from the new QR code "
    "or key below, then type the code it shows."
)
OFF_REFUSED = "Type a code from your app, or your password, to turn two-factor sign-in off."
PENDING_GONE = "Your sign-in took too long. Log in again."


def _counter(account_id: int) -> str:
    # Its own counter beside the password's: a code is guessed per account and per address.
    return f"2fa:{account_id}"


def _pending(request: Request, s: Session, now: datetime, *, lock: bool = False) -> Account | None:
    raw = request.cookies.get(two_factor.pending_cookie_name(config_of(request)))
    found = two_factor.pending_account(s, raw, now, lock=lock)
    if found is None or not visibility.account_may_log_in(s, found[1]):
        return None
    return found[1]


def _back_to_login() -> Response:
    return RedirectResponse("/login", status_code=303)


def _signed_in(request: Request, s: Session, account: Account, now: datetime) -> str:
    """The pending sign-in is over: a real session, and the pending one ends."""
    two_factor.end_pending(s, account.id)
    raw = log_in_after(s, request, account, now)
    ratelimit.clear_account(s, _counter(account.id))
    return raw


def _finish(response: Response, request: Request, raw: str) -> Response:
    config = config_of(request)
    set_session_cookie(response, config, raw)
    response.delete_cookie(two_factor.pending_cookie_name(config), **two_factor.cookie_args(config))
    return response


# The code after the password ------------------------------------------------------------------


def _code_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    with db_of(request).read() as s:
        chrome = plain_chrome(s, "Enter your sign-in code")
    return csrf.prelogin_page(
        request, "two_factor_code.html", status_code=status_code, page=chrome, error=error
    )


@router.get("/login/two-factor")
def code_form(request: Request) -> Response:
    with db_of(request).read() as s:
        account = _pending(request, s, two_factor.clock())
        if account is None:
            return _back_to_login()
        if two_factor.enabled(s, account.id) is None:
            return RedirectResponse("/login/two-factor/setup", status_code=303)
    return _code_page(request)


@router.post("/login/two-factor")
def check_code(request: Request, form: FormFields) -> Response:
    csrf.check_prelogin(request, form)
    config = config_of(request)
    db = db_of(request)
    key = two_factor.signing_key(db)
    now = two_factor.clock()
    device: str | None = None
    raw: str | None = None
    with db.write() as s:
        account = _pending(request, s, now, lock=True)
        if account is None:
            return _back_to_login()
        # Counted as a failure until the code proves right (the log-in limits' way).
        reserved = ratelimit.reserve(s, config, _counter(account.id), client_address(request), now)
        if two_factor.accept_code(s, key, account.id, form.get("code", ""), now) is not None:
            ratelimit.release(s, reserved)
            raw = _signed_in(request, s, account, now)
            row = two_factor.enabled(s, account.id)
            if form.get("remember") and row is not None:
                device = two_factor.device_token(key, account, row, now)
    if raw is None:
        return _code_page(request, error=WRONG_CODE, status_code=400)
    response = _finish(RedirectResponse("/", status_code=303), request, raw)
    if device is not None:
        response.set_cookie(
            two_factor.device_cookie_name(config),
            device,
            max_age=int(two_factor.REMEMBER_FOR.total_seconds()),
            **two_factor.cookie_args(config),
        )
    return response


# Setup: required by the firm right after the password, or chosen on the account page --------


def _setup_page(
    request: Request,
    account_id: int,
    *,
    action: str,
    required: bool,
    visitor: Visitor | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    setup_field: str | None = None,
) -> Response:
    """The setup page, reading only: the secret of `setup_field` (a wrong code shows the
    page again with the secret the app has) or a new one, signed into the form."""
    db = db_of(request)
    key = two_factor.signing_key(db)
    now = two_factor.clock()
    with db.read() as s:
        account = s.get(Account, account_id)
        assert account is not None
        secret = two_factor.setup_secret(key, account, setup_field, now)
        if secret is None:
            secret = two_factor.new_secret()
            setup_field = two_factor.setup_field(key, account, secret, now)
        chrome = plain_chrome(s, "Set up two-factor sign-in", visitor)
        uri = two_factor.provisioning_uri(secret, account.email, chrome.firm_name)
        context = {
            "page": chrome,
            "qr": Markup(two_factor.qr_svg(uri)),  # drawn here from our own bytes: no text
            "secret": two_factor.spaced(secret),
            "setup_field": setup_field,
            "action": action,
            "required": required,
            "firm_name": chrome.firm_name,
            "error": error,
            "notice": notice,
        }
    response: Response
    if visitor is not None:
        response = render(
            "two_factor_setup.html",
            status_code=status_code,
            csrf_token=visitor.csrf_token,
            **context,
        )
    else:
        response = csrf.prelogin_page(
            request, "two_factor_setup.html", status_code=status_code, **context
        )
    # The secret is on the page: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _codes_page(request: Request, codes: list[str], visitor: Visitor | None) -> Response:
    with db_of(request).read() as s:
        chrome = plain_chrome(s, "Two-factor sign-in is on", visitor)
    next_path = "/account/two-factor" if visitor is not None else "/"
    response = render("two_factor_codes.html", page=chrome, codes=codes, next_path=next_path)
    # Shown once: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login/two-factor/setup")
def required_setup_form(request: Request) -> Response:
    with db_of(request).read() as s:
        account = _pending(request, s, two_factor.clock())
        if account is None:
            return _back_to_login()
        if two_factor.enabled(s, account.id) is not None:
            return RedirectResponse("/login/two-factor", status_code=303)
        account_id = account.id
    return _setup_page(request, account_id, action="/login/two-factor/setup", required=True)


@router.post("/login/two-factor/setup")
def required_setup(request: Request, form: FormFields) -> Response:
    csrf.check_prelogin(request, form)
    config = config_of(request)
    db = db_of(request)
    key = two_factor.signing_key(db)
    now = two_factor.clock()
    field = form.get("setup", "")
    codes: list[str] | None = None
    with db.write() as s:
        account = _pending(request, s, now, lock=True)
        if account is None:
            return _back_to_login()
        account_id = account.id
        secret = two_factor.setup_secret(key, account, field, now)
        if secret is not None:
            reserved = ratelimit.reserve(
                s, config, _counter(account_id), client_address(request), now
            )
            codes = two_factor.turn_on(s, key, account_id, secret, form.get("code", ""), now)
            if codes is not None:
                ratelimit.release(s, reserved)
                raw = _signed_in(request, s, account, now)
            elif two_factor.enabled(s, account_id) is not None:
                # Set up meanwhile in another tab: the code page takes it from here.
                return RedirectResponse("/login/two-factor", status_code=303)
    if codes is None:
        return _setup_page(
            request,
            account_id,
            action="/login/two-factor/setup",
            required=True,
            error=WRONG_SETUP_CODE if secret is not None else SETUP_EXPIRED,
            status_code=400,
            setup_field=field,
        )
    return _finish(_codes_page(request, codes, None), request, raw)


# The client's own page ------------------------------------------------------------------------


def _account_page(
    request: Request,
    visitor: Visitor,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    setup_field: str | None = None,
) -> Response:
    with db_of(request).read() as s:
        # Like every signed-in page: access ended is said, not an account page.
        ended_unless_open(s, visitor.account_id)
        row = two_factor.enabled(s, visitor.account_id)
        if row is None:
            on = False
        else:
            on = True
            chrome = plain_chrome(s, "Two-factor sign-in", visitor)
            context = {
                "since": when(row.enabled_at),
                "codes_left": two_factor.recovery_codes_left(s, visitor.account_id),
                "required": two_factor.required(s, visitor.account_id),
            }
    if not on:
        return _setup_page(
            request,
            visitor.account_id,
            action="/account/two-factor",
            required=False,
            visitor=visitor,
            error=error,
            notice=notice,
            status_code=status_code,
            setup_field=setup_field,
        )
    return render(
        "two_factor_account.html",
        status_code=status_code,
        page=chrome,
        firm_name=chrome.firm_name,
        notice=notice,
        error=error,
        **context,
    )


@router.get("/account/two-factor")
def account_two_factor(request: Request, visitor: CurrentVisitor) -> Response:
    return _account_page(request, visitor)


@router.post("/account/two-factor")
def turn_on(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    csrf.check_session_token(visitor, form)
    config = config_of(request)
    db = db_of(request)
    key = two_factor.signing_key(db)
    now = two_factor.clock()
    field = form.get("setup", "")
    codes: list[str] | None = None
    with db.write() as s:
        ended_unless_open(s, visitor.account_id)
        if two_factor.enabled(s, visitor.account_id) is not None:
            return RedirectResponse("/account/two-factor", status_code=303)
        account = s.get(Account, visitor.account_id)
        assert account is not None
        secret = two_factor.setup_secret(key, account, field, now)
        if secret is not None:
            reserved = ratelimit.reserve(
                s, config, _counter(visitor.account_id), client_address(request), now
            )
            codes = two_factor.turn_on(
                s, key, visitor.account_id, secret, form.get("code", ""), now
            )
            if codes is not None:
                ratelimit.release(s, reserved)
            elif two_factor.enabled(s, visitor.account_id) is not None:
                return RedirectResponse("/account/two-factor", status_code=303)  # another tab
    if codes is None:
        error = WRONG_SETUP_CODE if secret is not None else SETUP_EXPIRED
        return _account_page(request, visitor, error=error, status_code=400, setup_field=field)
    return _codes_page(request, codes, visitor)


@router.post("/account/two-factor/off")
def turn_off(request: Request, visitor: CurrentVisitor, form: FormFields) -> Response:
    csrf.check_session_token(visitor, form)
    config = config_of(request)
    db = db_of(request)
    key = two_factor.signing_key(db)
    now = two_factor.clock()
    code, password = form.get("code", "").strip(), form.get("password", "")[:1024]
    with db.read() as s:
        account = s.get(Account, visitor.account_id)
        stored = account.password_hash if account is not None else None
    # argon2 is slow on purpose: outside the write transaction.
    password_ok = bool(password) and verify_password(stored, password)
    with db.write() as s:
        ended_unless_open(s, visitor.account_id)
        if two_factor.enabled(s, visitor.account_id) is None:
            return RedirectResponse("/account/two-factor", status_code=303)
        if two_factor.required(s, visitor.account_id):
            return RedirectResponse("/account/two-factor", status_code=303)
        reserved = ratelimit.reserve(
            s, config, _counter(visitor.account_id), client_address(request), now
        )
        proved = password_ok or (
            bool(code) and two_factor.accept_code(s, key, visitor.account_id, code, now) is not None
        )
        if proved:
            ratelimit.release(s, reserved)
            two_factor.turn_off(s, visitor.account_id)
    if not proved:
        return _account_page(request, visitor, error=OFF_REFUSED, status_code=400)
    return _account_page(request, visitor, notice="Two-factor sign-in is off.")

"""A client's second factor (OWASP ASVS V6.5/V6.6, NIST SP 800-63B 5.1.4/5.1.5): a TOTP app
(RFC 6238, 30-second codes of 6 digits) and 10 single-use recovery codes; the half-signed-in
state between the password and the code; the remembered device.

Between the password and the code there is no session at all, only a pending sign-in (a
`OneTimeLink` of purpose "second_factor", valid 10 minutes, its secret in a cookie of its
own): nothing a session opens is open to it, so a half-signed-in browser reaches only the
code page (or, when the firm requires a second factor not yet set up, its setup page).

Recovery codes are random, 60 bits each, so they are kept as an HMAC-SHA256 under a key of
the service's own rather than argon2: a slow hash defends guessable secrets, which these are
not (2^60 HMACs per code is years of a GPU even with the database and key both stolen), and
a keyed hash lets one indexed lookup find the code among the account's ten instead of ten
argon2 runs on every try.

The remembered device is a signed cookie naming the account and when it was issued; its
signature covers the account's password hash and TOTP secret too, so a new password (a
change or a reset) or a second factor reset by staff ends every remembered device at once,
without a table of them. `clock` is the time all of this reads; tests move it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import segno
from fastapi import Response
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.domain import rules
from portal_tui.domain.states import ContactStatus, TwoFactorRequirement
from portal_tui.sqltypes import utcnow

from .config import ServiceConfig
from .feed import named_secret
from .models import Account, OneTimeLink, PortalContact, PortalFirm, PortalMatter, RecoveryCode
from .models import TwoFactor as TwoFactorRow

# The time every two-factor decision reads; a test sets it to move the clock.
clock: Callable[[], datetime] = utcnow

KEY_NAME = "two_factor_key"
PURPOSE_PENDING = "second_factor"
PENDING_VALID = timedelta(minutes=10)
REMEMBER_FOR = timedelta(days=30)
RECOVERY_CODES = 10
# One step either side: a phone clock a little off still works (RFC 6238 5.2).
DRIFT_STEPS = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH = 12  # 12 characters of 31: 59 bits


def signing_key(db: Database) -> bytes:
    """The key of recovery-code hashes and remembered-device cookies (read it before a
    transaction: it may make it in one of its own)."""
    return named_secret(db, KEY_NAME)


# TOTP -----------------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, RFC 4226's recommended length


def provisioning_uri(secret: str, email: str, firm: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=firm or "Client Portal")


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an inline <svg> element: drawn here, no image fetched from
    anywhere, and no style attribute (the pages' CSP allows none), only presentation ones."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff")
    label = 'role="img" aria-label="QR code to add this account to your authenticator app"'
    return svg.replace("<svg ", f"<svg {label} ", 1)


def spaced(secret: str) -> str:
    """The secret in groups of four, as authenticator apps take it typed."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _digits(code: str) -> str:
    return re.sub(r"[\s-]+", "", code)[:20]


def matching_step(secret: str, code: str, last_step: int, now: datetime) -> int | None:
    """The time step whose code `code` is, within the drift allowed and after `last_step`
    (a code used once, or one older than it, is refused: no replay within its window)."""
    code = _digits(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# Recovery codes -------------------------------------------------------------------------------


def _code_hash(key: bytes, code: str) -> str:
    normal = _digits(code).lower()
    return hmac.new(key, normal.encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(s: Session, key: bytes, account_id: int) -> list[str]:
    """Ten fresh codes for the account (the old ones end); returned once, to show once."""
    s.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    s.add_all(RecoveryCode(account_id=account_id, code_hash=_code_hash(key, c)) for c in codes)
    return codes


def recovery_codes_left(s: Session, account_id: int) -> int:
    return len(
        s.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


# The account's second factor ------------------------------------------------------------------


def enabled(s: Session, account_id: int, *, lock: bool = False) -> TwoFactorRow | None:
    row = s.get(TwoFactorRow, account_id, with_for_update=lock, populate_existing=lock)
    return row if row is not None and row.enabled_at is not None else None


# Setup ---------------------------------------------------------------------------------------
#
# Showing the setup page writes nothing (a GET is safe: a prefetch, a reload, a second tab
# change no state): the secret it shows travels in the page's own form as a signed field,
# bound to the account and valid SETUP_VALID, and is stored only once a code from the app
# confirms it. Each showing mints its own secret, so a setup under way in another tab keeps
# the one it shows; a wrong code shows the same page again, the same secret with it.

SETUP_VALID = timedelta(minutes=30)
_SECRET_SHAPE = re.compile(r"[A-Z2-7]{32}")


def _setup_mac(key: bytes, account: Account, issued: int, secret: str) -> str:
    # "setup" first: no remembered-device cookie is ever a setup field, nor the other way.
    bound = f"setup\n{account.id}\n{issued}\n{account.password_hash}\n{secret}"
    return hmac.new(key, bound.encode(), hashlib.sha256).hexdigest()


def setup_field(key: bytes, account: Account, secret: str, now: datetime) -> str:
    """The signed form field carrying `secret` to the confirming post."""
    issued = int(now.timestamp())
    return f"{account.id}.{issued}.{secret}.{_setup_mac(key, account, issued, secret)}"


def setup_secret(key: bytes, account: Account, field: str | None, now: datetime) -> str | None:
    """The secret a setup field carries, if it was signed here for this account (and its
    password as it is now) less than SETUP_VALID ago; else None."""
    parts = (field or "")[:200].split(".")
    if len(parts) != 4 or parts[0] != str(account.id) or not parts[1].isdigit():
        return None
    issued, secret = int(parts[1]), parts[2]
    if not 0 <= now.timestamp() - issued < SETUP_VALID.total_seconds():
        return None
    if not _SECRET_SHAPE.fullmatch(secret):
        return None
    if not hmac.compare_digest(parts[3], _setup_mac(key, account, issued, secret)):
        return None
    return secret


def accept_code(s: Session, key: bytes, account_id: int, code: str, now: datetime) -> str | None:
    """Check a code of a second factor that is on, with its row locked (two tabs sending one
    code at once: one wins). Returns "totp" or "recovery" for a good code, spent; else None."""
    row = enabled(s, account_id, lock=True)
    if row is None:
        return None
    step = matching_step(row.secret, code, row.last_step, now)
    if step is not None:
        row.last_step = step
        return "totp"
    recovery = s.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.account_id == account_id,
            RecoveryCode.code_hash == _code_hash(key, code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if recovery is None:
        return None
    recovery.used_at = now
    return "recovery"


def turn_on(
    s: Session, key: bytes, account_id: int, secret: str, code: str, now: datetime
) -> list[str] | None:
    """Confirm `secret` (the one the setup page showed) with a code from the app: the second
    factor is on, and the ten recovery codes to show once are returned. None: the code is
    wrong, or a second factor is on already. The account row is locked first, so two tabs
    confirming at once turn it on once."""
    s.get(Account, account_id, with_for_update=True, populate_existing=True)
    if enabled(s, account_id, lock=True) is not None:
        return None
    step = matching_step(secret, code, 0, now)
    if step is None:
        return None
    # A row left unconfirmed by an older setup (which stored the secret on showing) is
    # taken over.
    row = s.get(TwoFactorRow, account_id)
    if row is None:
        row = TwoFactorRow(account_id=account_id)
        s.add(row)
    row.secret, row.last_step, row.created_at, row.enabled_at = secret, step, now, now
    return new_recovery_codes(s, key, account_id)


def turn_off(s: Session, account_id: int) -> bool:
    """The second factor and its recovery codes gone (remembered devices end with the
    secret). False: there was none on."""
    was_on = enabled(s, account_id) is not None
    s.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    s.execute(delete(TwoFactorRow).where(TwoFactorRow.account_id == account_id))
    return was_on


def required(s: Session, account_id: int) -> bool:
    """Does the firm require this client to sign in with a second factor?"""
    firm = s.get(PortalFirm, 1)
    value = firm.two_factor_required if firm is not None else TwoFactorRequirement.OFF.value
    requirement = (
        TwoFactorRequirement(value)
        if value in {r.value for r in TwoFactorRequirement}
        else TwoFactorRequirement.OFF
    )
    if requirement is TwoFactorRequirement.OFF:
        return False
    sensitive = s.scalar(
        select(PortalMatter.id)
        .join(PortalContact, PortalContact.matter_id == PortalMatter.id)
        .where(
            PortalContact.account_id == account_id,
            PortalContact.status == ContactStatus.ACTIVE.value,
            PortalMatter.sensitive.is_(True),
        )
        .limit(1)
    )
    return rules.p1_two_factor_required(requirement, sensitive is not None)


# The half-signed-in state ---------------------------------------------------------------------


def pending_cookie_name(config: ServiceConfig) -> str:
    return "__Host-portal_pending" if config.secure_cookies else "portal_pending"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_pending(s: Session, account_id: int, now: datetime) -> str:
    """The password was right and a second factor is due: a pending sign-in (any older one
    of the account ends). Returns the raw secret for its cookie."""
    end_pending(s, account_id)
    raw = secrets.token_urlsafe(32)
    s.add(
        OneTimeLink(
            token_hash=_digest(raw),
            account_id=account_id,
            purpose=PURPOSE_PENDING,
            created_at=now,
            expires_at=now + PENDING_VALID,
        )
    )
    return raw


def end_pending(s: Session, account_id: int) -> None:
    s.execute(
        delete(OneTimeLink).where(
            OneTimeLink.account_id == account_id, OneTimeLink.purpose == PURPOSE_PENDING
        )
    )


def pending_account(
    s: Session, raw: str | None, now: datetime, *, lock: bool = False
) -> tuple[OneTimeLink, Account] | None:
    """The pending sign-in a cookie holds, if it is still live."""
    if not raw or len(raw) > 200:
        return None
    query = select(OneTimeLink).where(
        OneTimeLink.token_hash == _digest(raw), OneTimeLink.purpose == PURPOSE_PENDING
    )
    link = s.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    account = s.get(Account, link.account_id)
    return (link, account) if account is not None else None


# The remembered device ------------------------------------------------------------------------


def device_cookie_name(config: ServiceConfig) -> str:
    return "__Host-portal_device" if config.secure_cookies else "portal_device"


def _device_mac(key: bytes, account: Account, row: TwoFactorRow, issued: int) -> str:
    bound = f"{account.id}\n{issued}\n{account.password_hash}\n{row.secret}"
    return hmac.new(key, bound.encode(), hashlib.sha256).hexdigest()


def device_token(key: bytes, account: Account, row: TwoFactorRow, now: datetime) -> str:
    issued = int(now.timestamp())
    return f"{account.id}.{issued}.{_device_mac(key, account, row, issued)}"


def device_remembered(
    key: bytes, account: Account, row: TwoFactorRow, token: str | None, now: datetime
) -> bool:
    """Does this browser's cookie skip the code for the account? Only for 30 days from when
    it was set, and only while the password and the secret are the ones it was set under."""
    parts = (token or "").split(".")
    if len(parts) != 3 or parts[0] != str(account.id) or not parts[1].isdigit():
        return False
    issued = int(parts[1])
    if not 0 <= now.timestamp() - issued < REMEMBER_FOR.total_seconds():
        return False
    return hmac.compare_digest(parts[2], _device_mac(key, account, row, issued))


@dataclass(frozen=True, slots=True)
class AfterPassword:
    """What a right password leads to: a session at once (`pending` None), or a pending
    sign-in that must give a code (`setup` False) or set a second factor up first."""

    pending: str | None
    setup: bool = False


def after_password(
    s: Session, key: bytes, account: Account, device: str | None, now: datetime
) -> AfterPassword:
    row = enabled(s, account.id)
    if row is not None:
        if device_remembered(key, account, row, device, now):
            return AfterPassword(None)
        return AfterPassword(start_pending(s, account.id, now))
    if required(s, account.id):
        return AfterPassword(start_pending(s, account.id, now), setup=True)
    return AfterPassword(None)


def cookie_args(config: ServiceConfig) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": config.secure_cookies, "path": "/"}


def pending_redirect(config: ServiceConfig, after: AfterPassword) -> Response:
    """On to the code page (or the setup the firm requires), holding the pending sign-in in
    its cookie and nothing else."""
    assert after.pending is not None
    target = "/login/two-factor/setup" if after.setup else "/login/two-factor"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        pending_cookie_name(config),
        after.pending,
        max_age=int(PENDING_VALID.total_seconds()),
        **cookie_args(config),
    )
    return response

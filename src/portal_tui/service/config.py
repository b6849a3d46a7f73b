"""How one portal service runs: its database, where mail goes, and its security limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Retention:
    """How many days the portal keeps what it is done with before pruning it
    (docs/housekeeping.md): a change the firm has read, an answered request's idempotency key,
    an email sent or given up, a client session that ended, a failed login."""

    feed_days: int = 30
    idempotency_days: int = 7
    mail_days: int = 30
    sessions_days: int = 30
    login_failures_days: int = 1


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    database_url: str
    data_dir: Path
    # Where clients reach the portal; links in emails start with it.
    base_url: str = "http://127.0.0.1:8765"
    smtp: SmtpSettings | None = None  # None: each email is written as an .eml file instead
    mail_from: str = "portal@localhost"
    upload_limit_bytes: int = 25 * 1024 * 1024
    # Reverse proxies whose X-Forwarded-For names the client (the login limits count by
    # address): none by default, so no request can claim another address.
    forwarded_allow_ips: tuple[str, ...] = ()
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 60 * 60
    login_window_seconds: int = 15 * 60
    login_limit_per_account: int = 5
    login_limit_per_address: int = 20
    invitation_valid_days: int = 14
    # "Forgot your password?": how long its emailed link works, and how many a browser or an
    # address may ask for within reset_window_seconds (whether or not the address exists).
    reset_link_valid_minutes: int = 60
    reset_window_seconds: int = 60 * 60
    reset_limit_per_account: int = 3
    reset_limit_per_address: int = 10
    # "Email me a sign-in link" beside the password form (off unless the firm turns it on);
    # the same limits as reset links apply to asking for one.
    sign_in_links: bool = False
    # Keep the address each client session signed in from, and show it on the client's
    # account page: off unless the firm turns it on (an address is personal data, and
    # behind a proxy not configured in forwarded_allow_ips it is the proxy's).
    session_places: bool = False
    # Run the mail sender in the background (off in tests that drive it by hand).
    send_mail: bool = True
    # Prune what retention says is done with, hourly in the background (off like send_mail).
    prune: bool = True
    retention: Retention = field(default_factory=Retention)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        """Where emails are written as .eml files when no SMTP server is configured."""
        return self.data_dir / "mail"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

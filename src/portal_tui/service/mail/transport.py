"""Where emails go: an SMTP server when one is configured, otherwise .eml files in a folder.

Both are blocking; the sender calls them from a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import smtplib
import ssl
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from portal_tui.private import private_folder

from ..config import ServiceConfig, SmtpSettings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 30.0


class TransportDown(Exception):
    """The transport as a whole failed (server unreachable, TLS or login refused, disk full):
    every other email would fail the same way, so the sender stops this round."""


class MessageRefused(Exception):
    """The server refused this one email (a recipient, its size, "451 try later"); the
    connection is still good for the others."""


class Transport(Protocol):
    def send(self, msg: EmailMessage) -> None: ...

    def close(self) -> None: ...


def _smtp_code(exc: smtplib.SMTPException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return min(codes) if codes else None
    code = getattr(exc, "smtp_code", None)
    return code if isinstance(code, int) else None


class SmtpTransport:
    """One SMTP connection, opened at the first email and reused for the rest of a round.

    With `starttls` the connection is upgraded before anything else is said, and a server
    that does not offer STARTTLS is an error rather than a reason to go on in the clear.
    Certificates are verified against the system's trust store (SSL_CERT_FILE to add a
    private CA) unless an `ssl_context` is given.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        timeout: float = SMTP_TIMEOUT_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.settings.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self.settings.user:
                smtp.login(self.settings.user, self.settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, msg: EmailMessage) -> None:
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                raise TransportDown(_describe(exc)) from exc
        try:
            self._smtp.send_message(msg)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
            # Raised by send_message for an address that needs SMTPUTF8 the server lacks:
            # about this email only (a missing STARTTLS is raised by _connect, above).
            smtplib.SMTPNotSupportedError,
        ) as exc:
            if _smtp_code(exc) == 421:
                # "Service not available, closing channel": smtplib has already hung up.
                self.close()
                raise TransportDown(_describe(exc)) from exc
            raise MessageRefused(_describe(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransportDown(_describe(exc)) from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {reply.decode(errors='replace')}"
            for addr, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def eml_name(message_id: str) -> str:
    """The file of one email: named after its Message-ID, so a resent email replaces its
    earlier copy instead of adding a second file."""
    return hashlib.sha256(message_id.encode()).hexdigest() + ".eml"


class EmlTransport:
    """Writes each email as `<folder>/<hash of Message-ID>.eml` (RFC 5322, CRLF line ends),
    so the embedded default needs no mail server. The file appears whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, msg: EmailMessage) -> None:
        data = msg.as_bytes(policy=policy.SMTP)
        target = self.folder / eml_name(str(msg["Message-ID"]))
        try:
            private_folder(self.folder)
            # A temporary file in the same folder, then a rename: a reader (or a crash) never
            # sees half an email, and os.replace overwrites an earlier copy atomically.
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise TransportDown(_describe(exc)) from exc
        log.debug("mail %s written to %s", msg["Message-ID"], target)

    def close(self) -> None:
        return None


def open_transport(config: ServiceConfig) -> Transport:
    if config.smtp is not None:
        return SmtpTransport(config.smtp)
    return EmlTransport(config.mail_dir)

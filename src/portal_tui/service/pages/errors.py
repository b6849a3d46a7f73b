"""What a page handler raises when it cannot answer normally; the page route class turns each
into its page (security.PageRoute), so every handler fails the same way."""

from __future__ import annotations


class PageError(Exception):
    status_code: int = 500
    template: str = "error.html"
    title: str = "Something went wrong"
    message: str = "Please try again in a moment."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message is not None:
            self.message = message


class NotFound(PageError):
    # The one answer for anything that is not the client's: it must not tell a matter that
    # exists from one that does not, nor an unshared item from one never shared.
    status_code = 404
    title = "Page not found"
    message = (
        "This page does not exist, or it is no longer shared with you. "
        "If you followed a link from your firm, ask them to share it again."
    )


class AccessEnded(PageError):
    """A client with a session and no matter open to them any more (disabled, removed, every
    portal of theirs turned off): the session ends, and the page says so plainly (S7)."""

    status_code = 403
    template = "ended.html"
    title = "Your access has ended"

    def __init__(self, firm_name: str) -> None:
        who = firm_name or "your firm"
        super().__init__(
            f"Your access to this portal has ended. Contact {who} if you think this is a mistake."
        )


class Busy(PageError):
    status_code = 503
    title = "The portal is busy"
    message = "The portal could not answer just now. Please try again in a moment."


class CsrfFailed(PageError):
    status_code = 403
    title = "This form has expired"
    message = (
        "For your security the form could not be sent. Go back, reload the page and try again."
    )


class TooManyAttempts(PageError):
    status_code = 429
    title = "Too many attempts"
    lead = "Too many failed log-in attempts."

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            f"{self.lead} Wait {minutes} minute{'s' if minutes != 1 else ''} and try again."
        )
        self.retry_after = retry_after


class TooManyRequests(TooManyAttempts):
    """Too many of a request limited whatever its outcome (a reset link asked for)."""

    lead = "Too many requests for a new password from here or for this address."


class BadRequest(PageError):
    status_code = 400
    title = "The request could not be read"
    message = "The form could not be read. Go back, reload the page and try again."


class TooLarge(PageError):
    status_code = 413
    title = "Too large"


class LoginRequired(PageError):
    """No (live) session: the visitor is sent to the log-in page, then back."""

    status_code = 303

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("Please log in.")
        self.next_path = next_path

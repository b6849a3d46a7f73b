"""The few symbols the app draws, in Unicode and in plain ASCII for terminals that cannot show
more (`--ascii`, or automatically when the locale is not UTF-8)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from portal_tui.domain.records import Share
from portal_tui.domain.states import ShareState


@dataclass(frozen=True, slots=True)
class Glyphs:
    shared: str
    pending: str
    failed: str
    portal: str
    marked: str

    def share(self, share: Share) -> Text:
        """The far-left icon of a row (S0): shared, pending delivery, failed, or blank."""
        if share.state is ShareState.FAILED:
            return Text(self.failed, style="bold red")
        if share.state is ShareState.PENDING:
            return Text(self.pending, style="yellow")
        if share.wanted and share.state is ShareState.SHARED:
            return Text(self.shared, style="bold green")
        return Text(" ")

    def share_words(self, share: Share) -> str:
        """The same, in words, for the status line and screen readers."""
        if share.state is ShareState.FAILED:
            return f"Delivery failed: {share.error or 'unknown reason'}"
        if share.state is ShareState.PENDING:
            return "Sharing: waiting for delivery" if share.wanted else "Unsharing: waiting"
        return "Shared via Client Portal" if share.wanted else "Not shared"


UNICODE = Glyphs(shared="●", pending="◌", failed="✗", portal="◆", marked="▸")
ASCII = Glyphs(shared="S", pending="~", failed="!", portal="P", marked=">")

"""The app-wide events, as Textual messages: what delivery, the database and its locks report
from their threads, and what the app then tells every screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from portal_tui.repository.worker import PassReport


class LockWaitHeard(Message):
    """A write (on a worker thread) waits on a lock another program holds."""

    def __init__(self, notice: str) -> None:
        super().__init__()
        self.notice = notice


class DeliveryPassed(Message):
    """A pass of the delivery worker ended (its thread reports it): what it delivered,
    failed, synced, or why it could not."""

    def __init__(self, report: PassReport) -> None:
        super().__init__()
        self.report = report


class PortalSynced(Message):
    """A delivery pass delivered, failed or synced something: what is shown is read afresh.
    Posted by the app to every widget of every screen (a share's message box is usually still
    open when its delivery lands); not bubbled, each handles its own."""

    bubble = False


class DatabaseBack(Message):
    """The firm database answers again after being away: the lists are read afresh. Posted
    to every widget of every screen, like PortalSynced."""

    bubble = False

"""What a screen or widget of the staff app needs from the app, and nothing more: the firm's
repository, the staff user's role, the glyphs, the status line, a way to wake delivery, and
the flows a list starts that live in features above common/.

Screens reach it through `StaffAware.staff`, typed by the `StaffContext` protocol: none of
them imports tui/app.py (the app satisfies the protocol, which mypy checks there), so the
screens and the app form no import cycle."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.message_pump import MessagePump

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    from portal_tui.domain.kinds import ItemKind
    from portal_tui.domain.states import StaffRole
    from portal_tui.repository import Repository
    from portal_tui.repository.sign_ins import SignInSource

    from .glyphs import Glyphs

# The status line while the firm database opens (a cold start shows the first rows before).
OPENING = "Opening the firm database..."


class ItemFlows(Protocol):
    """The flows a list (common/list_pane.py) starts that belong to sharing/ and matter/:
    given by the app, so that common/ imports neither."""

    async def share_or_unshare(self, kind: ItemKind, row: Any) -> Any | None:
        """Share the item or unshare it (sharing/flows.py); its fresh row, or None."""

    async def undo_last(self) -> tuple[str, ItemKind, Any] | None:
        """Undo the share or unshare a toast offers Undo for (sharing/flows.py, S8)."""

    def share_history(self, kind: ItemKind, row: Any) -> Screen[None]:
        """The item's share history (sharing/share_history.py)."""

    def bulk_progress(self, kind: ItemKind, ids: list[int], *, share: bool) -> Screen[Any]:
        """Sharing or unsharing the marked rows, as it goes (sharing/bulk.py)."""

    def bulk_summary(self, result: Any) -> Screen[None]:
        """What a bulk share did (sharing/bulk.py)."""

    def item_form(self, kind: ItemKind, matter_id: int, row: Any | None) -> Screen[int | None]:
        """Adding or editing an event, task or note (matter/item_form.py)."""

    def attach_file(self, matter_id: int, folders: list[Any]) -> Screen[int | None]:
        """Attaching a file from disk to a matter's documents (matter/attach_file.py)."""


class StaffContext(Protocol):
    """The app as its screens see it (PortalApp is one)."""

    glyphs: Glyphs
    role: StaffRole
    # Where the user is, for the status line (Matters > …).
    location: str
    # Set once the repository is open.
    ready: asyncio.Event
    flows: ItemFlows

    @property
    def repo(self) -> Repository:
        """The firm's repository; in a worker thread, waits for it to open."""

    @property
    def repo_open(self) -> bool:
        """Whether the repository is open yet (a cold start shows rows before)."""

    @property
    def portal_address(self) -> str | None:
        """Where clients reach the portal (invitation links start here), if known."""

    def set_status(self, line: str) -> None: ...

    def set_location(self, where: str) -> None: ...

    def show_row_status(self, kind: ItemKind, row: Any | None) -> None: ...

    def wake_delivery(self) -> None: ...

    @property
    def sign_in_source(self) -> SignInSource | None:
        """The portal, as asked about a contact's sign-ins; None until it has started."""


def staff_context(app: App[Any]) -> StaffContext:
    """The staff app's context of `app` (the running app is always the staff app)."""
    return cast("StaffContext", app)


class StaffAware:
    """A screen or widget that uses the staff app's context (`self.staff`)."""

    @property
    def staff(self) -> StaffContext:
        assert isinstance(self, MessagePump)
        return staff_context(self.app)

"""The Repository itself: every part of the door to firm data, in one class."""

from __future__ import annotations

from portal_tui.database import Database

from .delivery import DeliveryMixin
from .firm import FirmMixin
from .forms import FormsMixin
from .history import HistoryMixin
from .items import ItemsMixin
from .lists import ListsMixin
from .preview import PreviewMixin
from .pruning import PruningMixin
from .resend import ResendMixin


class Repository(
    FirmMixin,
    FormsMixin,
    ItemsMixin,
    ListsMixin,
    ResendMixin,
    DeliveryMixin,
    HistoryMixin,
    PreviewMixin,
    PruningMixin,
):
    """Everything the app may read or change. `staff_login` is the acting staff user; None
    acts as the built-in system actor (seeding, sync)."""

    @classmethod
    def open(cls, url: str, staff_login: str | None = None) -> Repository:
        """Open the firm database at `url`, bringing its schema up to date first."""
        from portal_tui.store.migrate import ensure_current

        db = Database(url)
        try:
            ensure_current(db)
        except BaseException:
            db.dispose()
            raise
        return cls(db, staff_login)

    def close(self) -> None:
        self.db.dispose()

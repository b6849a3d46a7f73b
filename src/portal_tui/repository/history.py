"""Share history of one item, read from the audit trail and its share mark."""

from __future__ import annotations

from .sharing import SharingMixin


class HistoryMixin(SharingMixin):
    pass

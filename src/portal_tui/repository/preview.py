"""Preview as client: what each active contact of a matter sees in the portal right now."""

from __future__ import annotations

from .sharing import SharingMixin


class PreviewMixin(SharingMixin):
    pass

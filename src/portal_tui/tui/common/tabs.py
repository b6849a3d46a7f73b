"""Back to the tab list: a matter's navigation (Summary, Billing, ...), Activities' and Setup's.
A section opens with its list focused, so `/` and the arrows work at once; `t` (and, inside a
matter, Esc) is the way back to the tabs beside it, one level at a time."""

from __future__ import annotations

from textual.binding import Binding

TABS = Binding(
    "t",
    "tabs",
    "Tabs",
    show=False,
    id="nav.tabs",
    tooltip="Back to the tab list (a matter's, Activities', Setup's)",
)
# Inside a matter's section: Esc goes back one level, to the matter's tab list (Esc there
# leaves the matter). The footer then says "Esc Tabs" in a section and "Esc Back" on the tabs.
TABS_BACK = Binding(
    "escape",
    "tabs",
    "Tabs",
    id="nav.up",
    tooltip="Go back; close a box; clear the filter",
)

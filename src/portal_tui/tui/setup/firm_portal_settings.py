"""Setup > Firm Settings > Client Portal: the firm-wide switch (F2), one box per category
(F3, F4), the three email settings (F5) and which clients must sign in with a second factor.

Each change is saved as it is made: the repository takes any one setting on its own, and asks
its question (F6) at the moment the switch goes OFF — so the question comes when the user
acts, and No simply puts the switch back. Billing and Read-only users see the settings
disabled, with the reason (F1); the repository refuses them anyway.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Checkbox, Label, Static

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NeedsConfirmation, NotFound, Refused
from portal_tui.domain.kinds import Category
from portal_tui.domain.rules import FirmPortal
from portal_tui.domain.states import TwoFactorRequirement

from ..common.context import StaffAware
from ..common.modals import Confirm, Notice
from ..common.tick_box import TickBox

TITLE = "Client Portal"
SWITCH_LABEL = "Client portal enabled for the firm"
# F5: (setting, its box, how the saved message names it)
EMAILS: tuple[tuple[str, str, str], ...] = (
    ("notify_new_items", "Email the client when a new item is shared", "new-item emails"),
    ("daily_digest", "Email the client a daily digest of new items", "daily digest"),
    ("notify_staff_on_upload", "Email allowed staff when the client uploads", "upload emails"),
)

# Which clients must sign in with a second factor, as two boxes: every client, or the clients
# of sensitive matters (the first implies the second).
TWO_FACTOR_ALL = "Require two-factor sign-in of every client"
TWO_FACTOR_SENSITIVE = "Require it of the clients of sensitive matters"
TWO_FACTOR_SAID = {
    TwoFactorRequirement.OFF: "two-factor sign-in not required",
    TwoFactorRequirement.ALL: "two-factor sign-in required of every client",
    TwoFactorRequirement.SENSITIVE: "two-factor sign-in required for sensitive matters",
}


def box_id(setting: str, category: Category | None = None) -> str:
    """The id of a setting's box: `firm-enabled`, `firm-notes`, `firm-daily_digest` …"""
    return f"firm-{category.value if category is not None else setting}"


def _changes(before: FirmPortal, after: dict[str, Any]) -> dict[str, Any]:
    """The settings that differ from what is saved: all the repository needs to be told."""
    return {name: value for name, value in after.items() if getattr(before, name) != value}


def _described(before: FirmPortal, changes: dict[str, Any]) -> str:
    """What a save changed, in a few words: "Notes unchecked", "daily digest on" …"""
    words: list[str] = []
    if "enabled" in changes:
        words.append(f"client portal {'ON' if changes['enabled'] else 'OFF'} for the firm")
    if "permissions" in changes:
        now: frozenset[Category] = changes["permissions"]
        for category in Category:
            if (category in now) != (category in before.permissions):
                words.append(f"{category.label} {'checked' if category in now else 'unchecked'}")
    for setting, _, short in EMAILS:
        if setting in changes:
            words.append(f"{short} {'on' if changes[setting] else 'off'}")
    if "two_factor_required" in changes:
        words.append(TWO_FACTOR_SAID[changes["two_factor_required"]])
    return ", ".join(words)


class FirmPortalSettings(VerticalScroll, StaffAware, can_focus=False):
    """The settings, saved as they change. Up and Down move between them, Space toggles."""

    BINDINGS = [
        Binding(
            "down",
            "move(1)",
            "Next",
            show=False,
            id="portal-settings.next",
            tooltip="Move in a list",
        ),
        Binding(
            "up",
            "move(-1)",
            "Previous",
            show=False,
            id="portal-settings.previous",
            tooltip="Move in a list",
        ),
    ]

    DEFAULT_CSS = """
    FirmPortalSettings {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    FirmPortalSettings > .screen-title {
        margin-bottom: 1;
    }
    FirmPortalSettings > .section-title {
        margin-top: 1;
    }
    FirmPortalSettings > #firm-role {
        padding: 0 1;
        margin-bottom: 1;
        color: $text-warning;
    }
    FirmPortalSettings > TickBox, FirmPortalSettings > TickBox:focus {
        border: none;
        padding: 0 1;
        height: 1;
        width: 1fr;
        background: transparent;
    }
    FirmPortalSettings > #firm-message {
        padding: 0 1;
        margin-top: 1;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="firm-portal")
        self._saved: FirmPortal | None = None  # what the database holds, as last read
        self._lock = asyncio.Lock()  # one save (or load) at a time, in the order made
        self.loaded = asyncio.Event()  # the saved settings are on screen

    @property
    def may_change(self) -> bool:
        return bool(rules.f1_may_change_firm_settings(self.staff.role))

    def compose(self) -> ComposeResult:
        yield Static(Text("Firm Settings > Client Portal"), classes="screen-title")
        address = self.staff.portal_address
        if address:
            yield Static(
                Text(f"Portal address: {address}  (invitation links start here)"),
                id="portal-address",
            )
        if not self.may_change:
            yield Static(Text(texts.ROLE_CANNOT_CHANGE_FIRM), id="firm-role")
        # Disabled until the saved settings are shown: a click before would change a guess.
        yield TickBox(SWITCH_LABEL, True, id=box_id("enabled"), disabled=True)
        yield Label(Text("Permissions (each matter may narrow them)"), classes="section-title")
        for category in Category:
            yield TickBox(category.label, True, id=box_id("", category), disabled=True)
        yield Label(Text("Email"), classes="section-title")
        for setting, label, _ in EMAILS:
            yield TickBox(label, False, id=box_id(setting), disabled=True)
        yield Label(Text("Two-factor sign-in"), classes="section-title")
        yield TickBox(TWO_FACTOR_ALL, False, id=box_id("two_factor_all"), disabled=True)
        yield TickBox(TWO_FACTOR_SENSITIVE, False, id=box_id("two_factor_sensitive"), disabled=True)
        if self.may_change:
            yield Static(id="firm-message")

    def focus_into(self) -> None:
        """Enter on Setup's navigation: the first setting, if this user may change it."""
        for box in self.query(TickBox):
            if not box.disabled:
                box.focus()
                return

    def action_move(self, by: int) -> None:
        boxes = [box for box in self.query(TickBox) if not box.disabled]
        focused = self.app.focused
        if focused in boxes:
            index = boxes.index(focused) + by
            if 0 <= index < len(boxes):
                boxes[index].focus()

    # Showing what is saved ---------------------------------------------------------------------

    def on_show(self) -> None:
        # Read afresh each time: another staff user may have changed the firm's settings.
        self._load()

    @work(group="firm-load", exclusive=True)
    async def _load(self) -> None:
        async with self._lock:
            firm = await asyncio.to_thread(self.staff.repo.firm_portal)
            try:
                self._show(firm)
            except NoMatches:
                # Show can reach this pane before its boxes are mounted (Setup is mounted
                # behind the first screen while the database opens): read again once they are.
                if self.is_attached:
                    self.call_after_refresh(self._load)
                return
            self.loaded.set()

    def _box(self, setting: str, category: Category | None = None) -> Checkbox:
        return self.query_one(f"#{box_id(setting, category)}", Checkbox)

    def _show(self, firm: FirmPortal) -> None:
        """Put the saved settings on screen. `_saved` is set first, so the boxes' Changed
        messages this causes find nothing to save. Raises NoMatches, changing nothing, while
        the boxes are not all mounted."""
        self._box("enabled"), self._box("two_factor_sensitive")  # the first and the last
        self._saved = firm
        self._box("enabled").value = firm.enabled
        for category in Category:
            self._box("", category).value = category in firm.permissions
        for setting, _, _ in EMAILS:
            self._box(setting).value = bool(getattr(firm, setting))
        required = firm.two_factor_required
        self._box("two_factor_all").value = required is TwoFactorRequirement.ALL
        self._box("two_factor_sensitive").value = required is not TwoFactorRequirement.OFF
        for box in self.query(TickBox):
            box.disabled = not self.may_change

    def _on_screen(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "enabled": self._box("enabled").value,
            "permissions": frozenset(c for c in Category if self._box("", c).value),
        }
        for setting, _, _ in EMAILS:
            values[setting] = self._box(setting).value
        values["two_factor_required"] = (
            TwoFactorRequirement.ALL
            if self._box("two_factor_all").value
            else TwoFactorRequirement.SENSITIVE
            if self._box("two_factor_sensitive").value
            else TwoFactorRequirement.OFF
        )
        return values

    # Saving as the user goes -------------------------------------------------------------------

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self._saved is not None and self.may_change:
            self._save()

    @work(group="firm-save")
    async def _save(self) -> None:
        async with self._lock:
            saved = self._saved
            assert saved is not None
            changes = _changes(saved, self._on_screen())
            if not changes:
                return  # the screen caught up with what is saved (a load, a No)
            repo = self.staff.repo
            try:
                try:
                    firm = await asyncio.to_thread(partial(repo.set_firm_portal, **changes))
                except NeedsConfirmation as asked:
                    # F6: the switch goes OFF only after Yes; No puts it back, nothing saved.
                    if not await self.app.push_screen_wait(Confirm(TITLE, asked.question)):
                        self._box("enabled").value = saved.enabled
                        changes.pop("enabled")
                        if not changes:
                            return
                        firm = await asyncio.to_thread(partial(repo.set_firm_portal, **changes))
                    else:
                        firm = await asyncio.to_thread(
                            partial(repo.set_firm_portal, **changes, confirmed=True)
                        )
            except (Refused, NotFound) as refused:
                self._show(saved)
                message = refused.message if isinstance(refused, Refused) else str(refused)
                await self.app.push_screen_wait(Notice(TITLE, message, error=True))
                return
            self._show(firm)
            self.staff.wake_delivery()
            self._say(texts.FIRM_SETTINGS_SAVED.format(changes=_described(saved, changes)))

    def _say(self, message: str) -> None:
        self.query_one("#firm-message", Static).update(Text(message))
        self.staff.set_status(message)

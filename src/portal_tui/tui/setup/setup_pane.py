"""Setup: its own navigation, as Activities has — Firm Settings > Client Portal (F1-F6),
Intake Forms (S4), Clients and Staff (R1)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import ContentSwitcher, OptionList
from textual.widgets.option_list import Option

from portal_tui.domain.states import StaffRole

from ..common.context import StaffAware
from ..common.tabs import TABS
from .clients_pane import ClientsPane
from .firm_portal_settings import FirmPortalSettings
from .intake_forms_pane import IntakeFormsPane
from .staff_pane import ReadOnlyStaffPane, StaffPane

# (option id, navigation label, where the status line says the user is)
SETUP_SECTIONS = (
    ("portal", "Client Portal", "Setup > Firm Settings > Client Portal"),
    ("forms", "Intake Forms", "Setup > Intake Forms"),
    ("clients", "Clients", "Setup > Clients"),
    ("staff", "Staff", "Setup > Staff"),
)


class SetupPane(Horizontal, StaffAware):
    BINDINGS = [TABS]
    DEFAULT_CSS = """
    SetupPane > #setup-sections {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="setup")

    def compose(self) -> ComposeResult:
        nav = OptionList(
            *(Option(Text(label), id=key) for key, label, _ in SETUP_SECTIONS),
            id="setup-nav",
            classes="subnav",
        )
        yield nav
        with ContentSwitcher(initial="setup-portal", id="setup-sections"):
            yield FirmPortalSettings(id="setup-portal")
            yield IntakeFormsPane(id="setup-forms")
            yield ClientsPane(id="setup-clients")
            # R1: only an Admin is offered the staff list's keys (others are told why).
            admin = self.staff.role is StaffRole.ADMIN
            yield (StaffPane if admin else ReadOnlyStaffPane)(id="setup-staff")

    def focus_target(self) -> Widget | None:
        """What `3` puts the focus on: Setup's own navigation."""
        return self.query_one("#setup-nav", OptionList)

    def action_tabs(self) -> None:
        self.query_one("#setup-nav", OptionList).focus()

    def show_section(self, key: str) -> Widget:
        self.query_one("#setup-sections", ContentSwitcher).current = f"setup-{key}"
        if self.display:  # (the first highlight comes at start-up, with Setup out of sight)
            where = next(place for k, _, place in SETUP_SECTIONS if k == key)
            self.staff.set_location(where)
        return self.query_one(f"#setup-{key}")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "setup-nav" or not event.option.id:
            return
        event.stop()
        self.show_section(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "setup-nav" or not event.option.id:
            return
        event.stop()
        section = self.show_section(event.option.id)
        # Enter moves into the section: the first control that can take the focus (none for
        # a user who may only look at the firm's settings: the focus stays here). At once,
        # not after a refresh: a key typed right behind Enter belongs to the section.
        _focus_first(section)


def _focus_first(section: Widget) -> None:
    focus_into = getattr(section, "focus_into", None)
    if focus_into is not None:
        focus_into()

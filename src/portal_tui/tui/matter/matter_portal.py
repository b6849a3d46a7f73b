"""Matter Details > Client Portal: the matter's switch (M1, M4), its permissions (M2, F4), its
contacts and what may be done with each (C1-C3), and its Client Portal Parties (M5); from here,
Preview as client (P3).

The repository decides every change; this pane asks (the confirmations of M4, C2 and C3), shows
the answer in the words of texts.py, and reads everything back afterwards. Contacts activate
and log in on the portal, so the pane re-reads itself when delivery syncs (PortalSynced).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, DataTable, Static

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import EditConflict, NeedsConfirmation, NotFound, Refused
from portal_tui.domain.kinds import Category
from portal_tui.domain.records import ContactRow, MatterDetail, PartyRow
from portal_tui.domain.rules import FirmPortal
from portal_tui.domain.states import ContactAction, ContactStatus, PartyAccess

from ..common.client_text import inert
from ..common.context import StaffAware
from ..common.item_table import text
from ..common.modals import ActionMenu, Confirm, Notice
from ..common.tick_box import TickBox
from ..messages import PortalSynced

PORTAL_TITLE = "Client Portal"
PERMISSIONS_TITLE = "Client Portal Permissions"
PARTIES_TITLE = "Client Portal Parties"
# The Action menu's entry that is no move of the contact's status (C1-C3): the portal's own.
SIGN_OUT = "sign_out"
# Contacts whose client has an account that signs in (an invited one has not set a password
# through this contact; a removed one is signed out of the client's other matters from those).
SIGNS_IN = frozenset({ContactStatus.ACTIVE, ContactStatus.DISABLED})
SENSITIVE_LABEL = "Sensitive matter (two-factor sign-in if the firm requires it)"
# The contact's Action menu entry beside the moves of C2 and C3.
RESET_TWO_FACTOR = "reset-two-factor"


@dataclass(frozen=True, slots=True)
class PortalState:
    """Everything the pane shows, read in one go."""

    matter: MatterDetail
    firm: FirmPortal
    contacts: list[ContactRow]
    parties: list[PartyRow]


def _on_off(on: bool) -> str:
    return "ON" if on else "OFF"


def _login_day(at: datetime | None) -> str:
    # The day in local time, as every date of the app; the hour does not fit 80 columns.
    return at.astimezone().strftime("%Y-%m-%d") if at is not None else "never"


class ContactTable(DataTable[Text]):
    """The matter's contacts; Enter (or a double-click) opens the contact's Action menu."""

    def __init__(self) -> None:
        super().__init__(id="portal-contacts", cursor_type="row", zebra_stripes=False)

    def on_mount(self) -> None:
        self.add_column(Text("Name"), width=15, key="name")
        self.add_column(Text("Email"), width=21, key="email")
        self.add_column(Text("Status"), width=8, key="status")
        self.add_column(Text("Last login"), width=10, key="login")


class PartyTable(DataTable[Text]):
    """The firm's staff users, each Allowed or Restricted here: Enter or Space switches."""

    BINDINGS = [
        Binding(
            "space",
            "select_cursor",
            "Allow/Restrict",
            show=False,
            id="portal.allow",
            tooltip="Mark rows for bulk share; switch a box or party",
        )
    ]

    def __init__(self) -> None:
        super().__init__(id="portal-parties", cursor_type="row", zebra_stripes=False)

    def on_mount(self) -> None:
        self.add_column(Text("Staff user"), width=22, key="name")
        self.add_column(Text("Role"), width=9, key="role")
        self.add_column(Text("Access"), width=10, key="access")


class MatterPortal(VerticalScroll, StaffAware):
    """The Client Portal section of one matter."""

    can_focus = False  # Tab and Enter go to its controls; it scrolls to the one focused

    DEFAULT_CSS = """
    MatterPortal {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    MatterPortal .section-title {
        padding: 0;
        margin-top: 1;
    }
    MatterPortal #portal-head {
        height: 1;
    }
    MatterPortal #portal-head Button {
        margin: 0;
    }
    MatterPortal TickBox, MatterPortal TickBox:focus {
        border: none;
        padding: 0;
        height: 1;
    }
    MatterPortal #portal-title {
        margin-top: 0;
    }
    MatterPortal #portal-head .spacer {
        width: 1fr;
    }
    MatterPortal #portal-permissions {
        grid-size: 3;
        grid-columns: 21;
        grid-rows: 1;
        height: auto;
    }
    MatterPortal .hint {
        height: auto;
        color: $text-muted;
    }
    MatterPortal .hint.-empty {
        display: none;
    }
    MatterPortal .toolbar {
        padding: 0;
    }
    MatterPortal DataTable {
        height: auto;
        max-height: 12;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding(
            "a",
            "contact_menu",
            "Action",
            id="portal.contact-action",
            tooltip="The Action menu of the selected row or contact",
        ),
        Binding(
            "e",
            "edit_contact",
            "Edit contact",
            id="portal.edit-contact",
            tooltip="Edit the selected item, matter, client, contact or intake form",
        ),
        Binding(
            "p",
            "preview",
            "Preview",
            id="portal.preview",
            tooltip="Preview as client (a matter's Client Portal)",
        ),
    ]

    def __init__(self, matter_id: int) -> None:
        super().__init__(id="portal")
        self.matter_id = matter_id
        self.state: PortalState | None = None
        self.loaded = asyncio.Event()

    @property
    def manages(self) -> bool:
        """R1: Admin and Normal users change the switch, permissions and parties."""
        return bool(rules.r1_may_manage_portal(self.staff.role))

    @property
    def invites(self) -> bool:
        """C1: Admin and Normal users manage contacts."""
        return bool(rules.c1_may_invite(self.staff.role))

    # Layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        manages = self.manages
        yield Static(Text(PORTAL_TITLE), id="portal-title", classes="section-title")
        with Horizontal(id="portal-head"):
            yield TickBox("Client portal: OFF", False, id="portal-switch", disabled=not manages)
            yield Static(classes="spacer")
            yield Button("Preview as client", id="portal-preview", compact=True)
        yield Static(
            Text(texts.ROLE_CANNOT_MANAGE_PORTAL) if not manages else "",
            id="portal-role-hint",
            classes="hint" if not manages else "hint -empty",
        )
        yield Static(Text(PERMISSIONS_TITLE), classes="section-title")
        with Grid(id="portal-permissions"):
            for category in Category:
                yield TickBox(
                    category.label, False, id=f"perm-{category.value}", disabled=not manages
                )
        yield Static("", id="portal-firm-hint", classes="hint -empty")
        yield TickBox(SENSITIVE_LABEL, False, id="portal-sensitive", disabled=not manages)
        yield Static(Text("Contacts"), classes="section-title")
        with Horizontal(classes="toolbar"):
            yield Button(
                "Invite Contact", id="portal-invite", compact=True, disabled=not self.invites
            )
            yield Button("Edit Contact", id="portal-edit", compact=True, disabled=not self.invites)
            yield Button("Action", id="portal-action", compact=True, disabled=not self.invites)
        yield ContactTable()
        yield Static("", id="portal-no-contacts", classes="hint -empty")
        yield Static("", id="portal-sign-ins", classes="hint -empty")
        yield Static(Text(PARTIES_TITLE), classes="section-title")
        yield PartyTable()

    def on_mount(self) -> None:
        self.reload()

    # Reading --------------------------------------------------------------------------------

    def reload(self) -> None:
        self.loaded.clear()
        self._load()

    def on_portal_synced(self, _: PortalSynced) -> None:
        """Delivery synced: contacts may have activated or logged in."""
        self.reload()

    def _read(self) -> PortalState:
        repo = self.staff.repo
        return PortalState(
            repo.matter(self.matter_id),
            repo.firm_portal(),
            repo.contacts(self.matter_id),
            repo.parties(self.matter_id),
        )

    @work(group="portal-load", exclusive=True)
    async def _load(self) -> None:
        state = await asyncio.to_thread(self._read)
        self._show(state)
        self.loaded.set()

    def _show(self, state: PortalState) -> None:
        # The cursor stays on the same contact, wherever a change moved them in the list.
        kept = self._current_contact()
        self.state = state
        matter, firm = state.matter, state.firm
        # Values set here are what the database says, not a user's change: no Changed.
        with self.prevent(Checkbox.Changed):
            switch = self.query_one("#portal-switch", TickBox)
            switch.value = matter.portal_enabled
            switch.label = f"Client portal: {_on_off(matter.portal_enabled)}"
            for category in Category:
                box = self.query_one(f"#perm-{category.value}", TickBox)
                offered = category in rules.f4_offered_on_matters(firm)
                box.value = category in matter.effective_permissions
                box.disabled = not (offered and self.manages)
            self.query_one("#portal-sensitive", TickBox).value = matter.sensitive
        missing = [c.label for c in Category if c not in rules.f4_offered_on_matters(firm)]
        hint = self.query_one("#portal-firm-hint", Static)
        hint.update(
            Text(texts.PERMISSIONS_NOT_AT_FIRM.format(categories=", ".join(missing)))
            if missing
            else ""
        )
        hint.set_class(not missing, "-empty")
        self._show_contacts(state, kept.id if kept is not None else None)
        self._show_parties(state.parties)

    def _show_contacts(self, state: PortalState, keep_id: int | None) -> None:
        table = self.query_one(ContactTable)
        table.clear()
        for c in state.contacts:
            table.add_row(
                text(c.name),
                text(c.email),
                Text(c.status.value.capitalize()),
                Text(_login_day(c.last_login_at)),
                key=str(c.id),
            )
        if state.contacts:
            index = next((i for i, c in enumerate(state.contacts) if c.id == keep_id), 0)
            table.move_cursor(row=index, animate=False)
        empty = self.query_one("#portal-no-contacts", Static)
        if state.contacts:
            empty.update("")
        else:
            client = inert(state.matter.client.name)
            empty.update(Text(f"Nobody is invited yet: Invite Contact invites {client}."))
        empty.set_class(bool(state.contacts), "-empty")

    def _show_parties(self, parties: list[PartyRow]) -> None:
        table = self.query_one(PartyTable)
        row = table.cursor_row
        table.clear()
        for p in parties:
            table.add_row(
                text(p.name),
                Text(p.role.label),
                Text(p.access.value.capitalize()),
                key=str(p.staff_id),
            )
        if parties:
            table.move_cursor(row=min(max(row, 0), len(parties) - 1), animate=False)

    def _current_contact(self) -> ContactRow | None:
        if self.state is None or not self.state.contacts:
            return None
        table = self.query_one(ContactTable)
        index = min(max(table.cursor_row, 0), len(self.state.contacts) - 1)
        return self.state.contacts[index]

    # The matter's switch and permissions (M1, M2, M4) ---------------------------------------

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self.state is None:
            return  # a change before the first read is overwritten by it
        box_id = event.checkbox.id or ""
        if box_id == "portal-switch":
            self._switch(event.value)
        elif box_id.startswith("perm-"):
            self._save_permissions()
        elif box_id == "portal-sensitive":
            self._save_sensitive(event.value)

    @work(group="portal-switch", exclusive=True)
    async def _switch(self, on: bool) -> None:
        app, staff = self.app, self.staff
        repo = staff.repo
        try:
            republish: bool | None = None
            try:
                change = await asyncio.to_thread(repo.set_matter_portal, self.matter_id, on)
            except NeedsConfirmation as asked:
                answer = await app.push_screen_wait(Confirm(PORTAL_TITLE, asked.question))
                if not on and not answer:
                    return  # M4: turning OFF asks first; No leaves the portal ON.
                # M4: ON again with items still marked shared: publish them again (Yes) or let
                # the marks go (No), in the same change as the switch.
                republish = answer if on else None
                change = await asyncio.to_thread(
                    lambda: repo.set_matter_portal(
                        self.matter_id, on, confirmed=True, republish=republish
                    )
                )
            staff.wake_delivery()
            app.notify(
                texts.MATTER_PORTAL_NOW.format(state=_on_off(change.enabled)),
                title=PORTAL_TITLE,
                timeout=4,
            )
            if republish is not None:
                done = texts.MATTER_REPUBLISHED if republish else texts.MATTER_NOT_REPUBLISHED
                count = change.republished if republish else change.withdrawn
                app.notify(done.format(count=count), title=PORTAL_TITLE, timeout=4)
        except Refused as refused:
            await app.push_screen_wait(Notice(PORTAL_TITLE, refused.message, error=True))
        finally:
            self._refresh_lists()
            self.reload()

    @work(group="portal-perms", exclusive=True)
    async def _save_permissions(self) -> None:
        app, staff = self.app, self.staff
        wanted = [
            category
            for category in Category
            if (box := self.query_one(f"#perm-{category.value}", TickBox)).value
            and not box.disabled
        ]
        try:
            await asyncio.to_thread(staff.repo.set_matter_permissions, self.matter_id, wanted)
        except Refused as refused:
            await app.push_screen_wait(Notice(PERMISSIONS_TITLE, refused.message, error=True))
            self.reload()
            return
        staff.wake_delivery()
        app.notify(texts.PERMISSIONS_SAVED, title=PERMISSIONS_TITLE, timeout=3)

    @work(group="portal-sensitive", exclusive=True)
    async def _save_sensitive(self, sensitive: bool) -> None:
        app, staff = self.app, self.staff
        try:
            await asyncio.to_thread(staff.repo.set_matter_sensitive, self.matter_id, sensitive)
        except (Refused, NotFound) as refused:
            message = refused.message if isinstance(refused, Refused) else str(refused)
            await app.push_screen_wait(Notice(PORTAL_TITLE, message, error=True))
            self.reload()
            return
        staff.wake_delivery()
        said = "marked sensitive" if sensitive else "no longer marked sensitive"
        app.notify(f"The matter is {said}.", title=PORTAL_TITLE, timeout=3)

    def _refresh_lists(self) -> None:
        """The Matters list's portal icon (M3) and the share icons of the matter's lists may
        have changed: every list already read, on every screen, reads itself again."""
        from ..common.item_table import ItemTable

        for screen in self.app.screen_stack:
            for table in screen.query(ItemTable):
                if table.shown_once:
                    table.reload()

    # Contacts (C1-C3) -------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        handlers: dict[str, Callable[[], None]] = {
            "portal-preview": self.action_preview,
            "portal-invite": self.action_invite,
            "portal-edit": self.action_edit_contact,
            "portal-action": self.action_contact_menu,
        }
        handler = handlers.get(event.button.id or "")
        if handler is not None:
            handler()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, ContactTable):
            self._show_sign_ins(self._current_contact())

    @work(group="portal-sign-ins", exclusive=True)
    async def _show_sign_ins(self, contact: ContactRow | None) -> None:
        """The highlighted contact's two-factor, last sign-in and live sessions, as the portal
        says now; nothing while it has not started or cannot answer (the list still shows
        the last sign-in the firm heard of)."""
        line = self.query_one("#portal-sign-ins", Static)
        source = self.staff.sign_in_source
        found = None
        if contact is not None and source is not None:
            try:
                found = await asyncio.to_thread(
                    self.staff.repo.contact_sign_ins, contact.id, source
                )
            except (Refused, NotFound):
                found = None
        if found is None:
            line.update("")
            line.add_class("-empty")
            return
        line.update(
            Text(
                texts.CONTACT_SIGN_INS.format(
                    two_factor=_on_off(found.two_factor).lower(),
                    last=_login_day(found.last_login_at),
                    sessions=found.active_sessions,
                )
            )
        )
        line.remove_class("-empty")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if isinstance(event.data_table, ContactTable):
            self.action_contact_menu()
        elif isinstance(event.data_table, PartyTable):
            self._toggle_party(event.cursor_row)

    def _refuse_contacts(self) -> bool:
        """R1/C1: a user who may not manage contacts is told so, and nothing happens."""
        decision = rules.c1_may_invite(self.staff.role)
        if decision:
            return False
        self.app.push_screen(Notice(PORTAL_TITLE, decision.message, error=True))
        return True

    def action_invite(self) -> None:
        if self.state is None or self._refuse_contacts():
            return
        self._invite_client_worker()

    @work(group="portal-contact", exclusive=True)
    async def _invite_client_worker(self) -> None:
        await self._invite_client()

    async def _invite_client(self) -> None:
        """Invite Contact from the toolbar: the matter's client, or their removed contact."""
        assert self.state is not None
        client = self.state.matter.client
        existing = next((c for c in self.state.contacts if c.client_id == client.id), None)
        await self._invite(
            client.id,
            existing.name if existing else client.name,
            existing.email if existing else client.primary_email,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_contact":  # C1: not offered to Billing and Read-only
            return self.invites
        return True

    def action_edit_contact(self) -> None:
        if self.state is None or self._refuse_contacts():
            return
        contact = self._current_contact()
        if contact is not None:
            self._edit_contact_worker(contact)

    @work(group="portal-contact", exclusive=True)
    async def _edit_contact_worker(self, contact: ContactRow) -> None:
        await self._edit_contact(contact)

    async def _edit_contact(self, contact: ContactRow) -> None:
        from .edit_contact import EDIT_CONTACT_TITLE, EditContact

        app, staff = self.app, self.staff
        decision, _ = rules.contact_transition(
            contact.status, ContactAction.EDIT, name=contact.name
        )
        if not decision:  # a removed contact is given new details when invited again
            await app.push_screen_wait(Notice(EDIT_CONTACT_TITLE, decision.message, error=True))
            return
        message = await app.push_screen_wait(EditContact(contact))
        if message is None:
            return
        staff.wake_delivery()
        self.reload()
        await app.push_screen_wait(Notice(EDIT_CONTACT_TITLE, message))

    def action_contact_menu(self) -> None:
        if self.state is None or self._refuse_contacts():
            return
        contact = self._current_contact()
        self._contact_menu(contact)

    @work(group="portal-contact", exclusive=True)
    async def _contact_menu(self, contact: ContactRow | None) -> None:
        app, staff = self.app, self.staff
        actions: list[ContactAction]
        if contact is None:
            actions = [ContactAction.INVITE]
        else:
            try:
                actions = await asyncio.to_thread(staff.repo.contact_actions, contact.id)
            except NotFound as gone:
                await app.push_screen_wait(Notice(PORTAL_TITLE, str(gone), error=True))
                self.reload()
                return
        menu = [(a.value, rules.contact_action_label(a)) for a in actions]
        if contact is not None and contact.status in SIGNS_IN:
            menu.append((SIGN_OUT, texts.CONTACT_SIGN_OUT))
        if contact is not None and rules.c1_two_factor_reset(
            contact.name,
            was_activated=contact.activated_at is not None,
            removed=contact.status is ContactStatus.REMOVED,
        ):
            menu.append((RESET_TWO_FACTOR, texts.TWO_FACTOR_RESET_LABEL))
        title = f"Action: {contact.name}" if contact is not None else "Action"
        choice = await app.push_screen_wait(ActionMenu(title, menu))
        if choice is None:
            return
        if choice == SIGN_OUT and contact is not None:
            await self._sign_out_everywhere(contact)
            return
        if choice == RESET_TWO_FACTOR:
            assert contact is not None
            await self._reset_two_factor(contact)
            return
        action = ContactAction(choice)
        if action is ContactAction.INVITE:
            if contact is None:
                await self._invite_client()
            else:
                await self._invite(contact.client_id, contact.name, contact.email)
            return
        assert contact is not None
        await self._contact_action(action, contact)

    async def _sign_out_everywhere(self, contact: ContactRow) -> None:
        """Every session of the contact's client ends at once (asked first); the portal must
        answer, or nothing is done and the screen says why."""
        app, staff = self.app, self.staff
        title = texts.CONTACT_SIGN_OUT
        source = staff.sign_in_source
        if source is None:
            await app.push_screen_wait(Notice(title, texts.PORTAL_NOT_STARTED, error=True))
            return
        question = texts.CONTACT_SIGN_OUT_CONFIRM.format(name=contact.name)
        if not await app.push_screen_wait(Confirm(title, question)):
            return
        try:
            message = await asyncio.to_thread(staff.repo.sign_out_everywhere, contact.id, source)
        except (Refused, NotFound) as failed:
            await self._failed(title, failed)
            return
        self._show_sign_ins(contact)
        await app.push_screen_wait(Notice(title, message))

    async def _contact_action(self, action: ContactAction, contact: ContactRow) -> None:
        app, staff = self.app, self.staff
        repo = staff.repo
        title = rules.contact_action_label(action)
        calls: dict[ContactAction, Callable[..., str]] = {
            ContactAction.DISABLE: repo.disable_contact,
            ContactAction.ENABLE: repo.enable_contact,
            ContactAction.REMOVE: repo.remove_contact,
            ContactAction.REINVITE: repo.reinvite_contact,
        }
        # As the screen shows the contact: an action chosen from a screen someone else's change
        # has overtaken is refused, and the list is read again.
        call = partial(calls[action], contact.id, expected_version=contact.version)
        try:
            try:
                message = await asyncio.to_thread(call)
            except NeedsConfirmation as asked:
                # C2: Enable asks first; C3: Remove warns first. No changes nothing.
                if not await app.push_screen_wait(Confirm(title, asked.question)):
                    return
                message = await asyncio.to_thread(lambda: call(confirmed=True))
        except (Refused, NotFound) as failed:
            await self._failed(title, failed)
            return
        staff.wake_delivery()
        self.reload()
        await app.push_screen_wait(Notice(title, message))

    async def _failed(self, title: str, failed: Refused | NotFound) -> None:
        """A contact's action refused, or the contact gone: said in a notice; the list is
        read again when what it shows was overtaken (gone, or changed by someone else)."""
        message = failed.message if isinstance(failed, Refused) else str(failed)
        await self.app.push_screen_wait(Notice(title, message, error=True))
        if isinstance(failed, (NotFound, EditConflict)):
            self.reload()

    async def _reset_two_factor(self, contact: ContactRow) -> None:
        """A client who lost their phone and recovery codes: asked first, then the portal
        resets it and emails them."""
        app, staff = self.app, self.staff
        title = texts.TWO_FACTOR_RESET_LABEL
        reset = partial(staff.repo.reset_two_factor, contact.id)
        try:
            try:
                message = await asyncio.to_thread(reset)
            except NeedsConfirmation as asked:
                if not await app.push_screen_wait(Confirm(title, asked.question)):
                    return
                message = await asyncio.to_thread(lambda: reset(confirmed=True))
        except (Refused, NotFound) as refused:
            text_ = refused.message if isinstance(refused, Refused) else str(refused)
            await app.push_screen_wait(Notice(title, text_, error=True))
            return
        staff.wake_delivery()
        await app.push_screen_wait(Notice(title, message))

    async def _invite(self, client_id: int, name: str, email: str | None) -> None:
        from .invite_contact import INVITE_TITLE, InviteContact

        app, staff = self.app, self.staff
        # Fresh: the switch or the contact may have changed since the pane was read.
        state = await asyncio.to_thread(self._read)
        self._show(state)
        portal = rules.MatterPortal(state.matter.portal_enabled, state.matter.permissions)
        existing = next((c for c in state.contacts if c.client_id == client_id), None)
        decision = rules.m1_portal_on(state.firm, portal)
        if decision:
            decision, _ = rules.contact_transition(
                existing.status if existing else None, ContactAction.INVITE, name=name
            )
        if not decision:
            # M1: with the portal OFF nobody is invited; the rule says why, nothing changes.
            await app.push_screen_wait(Notice(INVITE_TITLE, decision.message, error=True))
            return
        primary = state.matter.client.primary_email if client_id == state.matter.client.id else ""
        message = await app.push_screen_wait(
            InviteContact(self.matter_id, client_id, name, email, primary_email=primary)
        )
        if message is None:
            return
        staff.wake_delivery()
        self.reload()
        await app.push_screen_wait(Notice(INVITE_TITLE, message))

    # Client Portal Parties (M5) ---------------------------------------------------------------

    @work(group="portal-party")
    async def _toggle_party(self, index: int) -> None:
        app, staff = self.app, self.staff
        if self.state is None or not 0 <= index < len(self.state.parties):
            return
        decision = rules.r1_may_manage_portal(staff.role)
        if not decision:
            await app.push_screen_wait(Notice(PARTIES_TITLE, decision.message, error=True))
            return
        party = self.state.parties[index]
        access = (
            PartyAccess.RESTRICTED if party.access is PartyAccess.ALLOWED else PartyAccess.ALLOWED
        )
        try:
            await asyncio.to_thread(
                staff.repo.set_party_access, self.matter_id, party.staff_id, access
            )
        except (Refused, NotFound) as refused:
            message = refused.message if isinstance(refused, Refused) else str(refused)
            await app.push_screen_wait(Notice(PARTIES_TITLE, message, error=True))
            return
        staff.wake_delivery()
        self.reload()
        app.notify(
            texts.PARTY_ACCESS_SET.format(name=party.name, access=access.value.capitalize()),
            title=PARTIES_TITLE,
            timeout=3,
        )

    # Preview as client (P3) -------------------------------------------------------------------

    def action_preview(self) -> None:
        from .client_preview import ClientPreview

        self.app.push_screen(ClientPreview(self.matter_id))

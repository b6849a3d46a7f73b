"""The firm and its staff, and the firm-level portal settings (F1-F6)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from sqlalchemy import select

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Invalid, NeedsConfirmation, Refused
from portal_tui.domain.kinds import Category, categories_to_names
from portal_tui.domain.records import FirmIdentity, StaffRow
from portal_tui.domain.rules import FirmPortal
from portal_tui.domain.states import OutboxOp, StaffRole, TwoFactorRequirement
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import FirmSettings, StaffUser

from .base import (
    Service,
    firm_portal,
    firm_portal_of,
    firm_row,
    first_insert,
    get_row,
    queue_outbox,
    require_firm,
)

_LOGIN = re.compile(r"^[A-Za-z0-9._@-]{1,120}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def checked_staff(login: str, name: str, email: str) -> tuple[str, str, str]:
    """The fields of a staff user as they will be saved, or Invalid naming what is wrong."""
    login, name, email = login.strip(), name.strip(), email.strip()
    if not _LOGIN.match(login):
        raise Invalid(
            f"The login {login!r} is not usable: letters, digits and . _ @ - only, "
            "at most 120 characters (the OS login is a good choice)."
        )
    if not name or len(name) > 200:
        raise Invalid("A staff user needs a name (at most 200 characters).")
    if not _EMAIL.match(email) or len(email) > 320:
        raise Invalid(f"{email!r} is not an email address.")
    return login, name, email


def _staff_row(u: StaffUser) -> StaffRow:
    return StaffRow(u.id, u.login, u.name, u.email, u.role, u.active)


def firm_payload(firm: FirmPortal, name: str) -> dict[str, object]:
    return {
        "name": name,
        "enabled": firm.enabled,
        "permissions": categories_to_names(firm.permissions),
        "notify_new_items": firm.notify_new_items,
        "daily_digest": firm.daily_digest,
        "notify_staff_on_upload": firm.notify_staff_on_upload,
        "two_factor_required": firm.two_factor_required.value,
    }


class FirmService(Service):
    """The firm, its staff and its portal settings."""

    def setup_firm(self, name: str) -> None:
        """Create the firm (with the defaults of F2, F3, F5) or rename it."""
        rules.f1_may_change_firm_settings(self.ctx.actor.role).check()
        with self.db.write() as s:
            row = firm_row(s, lock=True)
            created = False
            if row is None:
                firm = rules.f2_default_firm_portal()
                row = FirmSettings(
                    id=1,
                    name=name,
                    portal_enabled=firm.enabled,
                    portal_permissions=categories_to_names(firm.permissions),
                    notify_new_items=firm.notify_new_items,
                    daily_digest=firm.daily_digest,
                    notify_staff_on_upload=firm.notify_staff_on_upload,
                    two_factor_required=firm.two_factor_required.value,
                    # Who the firm is to its portal, for good: one portal serves one firm.
                    firm_uuid=str(uuid.uuid4()),
                )
                created = first_insert(s, row)
                if not created:  # set up at the same moment by someone else: theirs stands
                    row = firm_row(s, lock=True)
                    assert row is not None
            if created:
                self.ctx.audit(s, "firm.create", kind="firm", after={"name": name})
            elif row.name != name:
                self.ctx.audit(
                    s, "firm.rename", kind="firm", before={"name": row.name}, after={"name": name}
                )
                row.name = name
            else:
                return
            s.flush()
            queue_outbox(s, OutboxOp.FIRM, firm_payload(firm_portal_of(row), row.name))

    def firm_identity(self) -> FirmIdentity | None:
        """Who this firm is to its portal; None before the firm is set up."""
        with self.db.read() as s:
            row = firm_row(s)
            if row is None or row.firm_uuid is None:
                return None
            return FirmIdentity(row.firm_uuid, row.name, row.epoch)

    def firm_name(self) -> str:
        with self.db.read() as s:
            row = firm_row(s)
            return row.name if row is not None else ""

    def firm_portal(self) -> FirmPortal:
        with self.db.read() as s:
            return firm_portal(s)

    def set_firm_portal(
        self,
        *,
        enabled: bool | None = None,
        permissions: Iterable[Category] | None = None,
        notify_new_items: bool | None = None,
        daily_digest: bool | None = None,
        notify_staff_on_upload: bool | None = None,
        two_factor_required: TwoFactorRequirement | None = None,
        confirmed: bool = False,
    ) -> FirmPortal:
        """Change the firm's portal settings. Turning the switch OFF must be confirmed (F6)."""
        rules.f1_may_change_firm_settings(self.ctx.actor.role).check()
        with self.db.write() as s:
            # Locked: the outbox row carries the whole settings as they commit, so two staff
            # changing two boxes at once cannot leave the portal with one of them undone.
            row = require_firm(s, lock=True)
            before = firm_portal_of(row)
            if enabled is not None:
                question = rules.f6_turning_firm_off_needs_confirmation(before.enabled, enabled)
                if question and not confirmed:
                    raise NeedsConfirmation("F6", question)
                row.portal_enabled = enabled
            if permissions is not None:
                row.portal_permissions = categories_to_names(frozenset(permissions))
            if notify_new_items is not None:
                row.notify_new_items = notify_new_items
            if daily_digest is not None:
                row.daily_digest = daily_digest
            if notify_staff_on_upload is not None:
                row.notify_staff_on_upload = notify_staff_on_upload
            if two_factor_required is not None:
                row.two_factor_required = two_factor_required.value
            after = firm_portal_of(row)
            if after == before:
                return after
            row.updated_at = utcnow()
            self.ctx.audit(
                s,
                "firm.portal",
                kind="firm",
                before=firm_payload(before, row.name),
                after=firm_payload(after, row.name),
            )
            queue_outbox(s, OutboxOp.FIRM, firm_payload(after, row.name))
            return after

    # Staff ----------------------------------------------------------------------------------

    def add_staff(self, login: str, name: str, email: str, role: StaffRole) -> int:
        if self.ctx.actor.role is not StaffRole.ADMIN:
            raise Refused("R1", texts.STAFF_ADMIN_ONLY)
        login, name, email = checked_staff(login, name, email)
        with self.db.write() as s:
            taken = Refused("R1", texts.STAFF_TAKEN.format(login=login))
            if s.scalar(select(StaffUser.id).where(StaffUser.login == login)) is not None:
                raise taken
            user = StaffUser(login=login, name=name, email=email, role=role, active=True)
            if not self.ctx.added(
                s,
                user,
                "staff.add",
                kind="staff",
                after={"login": login, "name": name, "role": role},
                unique=True,
            ):
                raise taken
            return user.id

    def list_staff(self) -> list[StaffRow]:
        with self.db.read() as s:
            return [_staff_row(u) for u in s.scalars(select(StaffUser).order_by(StaffUser.name))]

    def current_staff(self) -> StaffRow | None:
        """The acting staff user, or None for the built-in system actor."""
        actor = self.ctx.actor
        if actor.staff_id is None:
            return None
        with self.db.read() as s:
            return _staff_row(get_row(s, StaffUser, actor.staff_id, "staff user"))

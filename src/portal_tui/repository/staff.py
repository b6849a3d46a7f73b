"""A firm from nothing, and its staff (R1): the first run (the firm and its first Admin in one
transaction), then adding staff users, changing their role, disabling and enabling them — by
an Admin, never leaving the firm without an active Admin, never disabling oneself. Every
change is audited; a staff user changed while their app runs is refused at its next write
(Context.check_actor)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Invalid, Refused
from portal_tui.domain.kinds import categories_to_names
from portal_tui.domain.records import StaffRow
from portal_tui.domain.states import OutboxOp, StaffRole
from portal_tui.store.models import FirmSettings, StaffUser

from .base import Service, firm_portal_of, firm_row, queue_outbox
from .firm import checked_staff, firm_payload


def _row(u: StaffUser) -> StaffRow:
    return StaffRow(u.id, u.login, u.name, u.email, u.role, u.active)


class StaffLookups(Service):
    """What every change to the staff list starts with: R1's Admin check and the user by login
    (locked when it is to be changed)."""

    def _admin_only(self) -> None:
        if self.ctx.actor.role is not StaffRole.ADMIN:
            raise Refused("R1", texts.STAFF_ADMIN_ONLY)

    @staticmethod
    def _find(s: Session, login: str, *, lock: bool = False) -> StaffUser:
        query = select(StaffUser).where(StaffUser.login == login.strip())
        user = s.scalar(query.with_for_update() if lock else query)
        if user is None:
            raise Invalid(texts.STAFF_UNKNOWN.format(login=login))
        return user


class StaffService(StaffLookups):
    """The first run and the firm's staff list."""

    def firm_is_empty(self) -> bool:
        """No firm and no staff user yet: what `init` (or the first-run screen) is for."""
        with self.db.read() as s:
            if firm_row(s) is not None:
                return False
            return not s.scalar(select(func.count()).select_from(StaffUser))

    def init_firm(self, firm_name: str, login: str, name: str, email: str) -> int:
        """A new firm named `firm_name` with `login` as its first Admin, together or not at
        all; refused over a firm that exists. Returns the Admin's id."""
        firm_name = firm_name.strip()
        if not firm_name or len(firm_name) > 200:
            raise Invalid("The firm needs a name (at most 200 characters).")
        login, name, email = checked_staff(login, name, email)
        with self.db.write() as s:
            existing = firm_row(s, lock=True)
            if existing is not None:
                raise Refused("R1", texts.FIRM_ALREADY_SET_UP.format(name=existing.name))
            if s.scalar(select(func.count()).select_from(StaffUser)):
                raise Refused("R1", texts.FIRM_ALREADY_SET_UP.format(name="its staff users"))
            portal = rules.f2_default_firm_portal()
            firm = FirmSettings(
                id=1,
                name=firm_name,
                portal_enabled=portal.enabled,
                portal_permissions=categories_to_names(portal.permissions),
                notify_new_items=portal.notify_new_items,
                daily_digest=portal.daily_digest,
                notify_staff_on_upload=portal.notify_staff_on_upload,
                firm_uuid=str(uuid.uuid4()),
            )
            # A second `init` at the same moment: the primary key stops it here.
            created = self.ctx.added(
                s, firm, "firm.create", kind="firm", after={"name": firm_name}, unique=True
            )
            if not created:
                raise Refused("R1", texts.FIRM_ALREADY_SET_UP.format(name=firm_name))
            admin = StaffUser(
                login=login, name=name, email=email, role=StaffRole.ADMIN, active=True
            )
            self.ctx.added(
                s,
                admin,
                "staff.add",
                kind="staff",
                after={"login": login, "name": name, "email": email, "role": StaffRole.ADMIN},
            )
            queue_outbox(s, OutboxOp.FIRM, firm_payload(firm_portal_of(firm), firm.name))
            return admin.id

    def staff_user(self, login: str) -> StaffRow:
        with self.db.read() as s:
            return _row(self._find(s, login))

    def set_staff_role(self, login: str, role: StaffRole) -> StaffRow:
        """R1: an Admin changes a staff user's role; the last active Admin stays one."""
        self._admin_only()
        with self.db.write() as s:
            admins = self._lock_active_admins(s)
            user = self._find(s, login, lock=True)
            if user.role is role:
                return _row(user)
            if user.active and user.role is StaffRole.ADMIN and len(admins) == 1:
                raise Refused("R1", texts.STAFF_LAST_ADMIN)
            before = user.role
            user.role = role
            self.ctx.audit(
                s,
                "staff.role",
                kind="staff",
                item_id=user.id,
                before={"login": login, "role": before},
                after={"login": login, "role": role},
            )
            return _row(user)

    def set_staff_active(self, login: str, active: bool) -> StaffRow:
        """R1: an Admin disables (or enables again) a staff user: never themselves, never the
        last active Admin. A disabled user's app is refused at its next action."""
        self._admin_only()
        with self.db.write() as s:
            admins = self._lock_active_admins(s)
            user = self._find(s, login, lock=True)
            if user.active == active:
                return _row(user)
            if not active:
                if user.id == self.ctx.actor.staff_id:
                    raise Refused("R1", texts.STAFF_NOT_YOURSELF)
                if user.role is StaffRole.ADMIN and len(admins) == 1:
                    raise Refused("R1", texts.STAFF_LAST_ADMIN)
            user.active = active
            self.ctx.audit(
                s,
                "staff.enable" if active else "staff.disable",
                kind="staff",
                item_id=user.id,
                before={"login": login, "active": not active},
                after={"login": login, "active": active},
            )
            return _row(user)

    # Within a transaction ---------------------------------------------------------------------

    @staticmethod
    def _lock_active_admins(s: Session) -> list[int]:
        """Every active Admin, locked in id order: two Admins demoting or disabling each other
        at once count them one after the other, so one of them stays."""
        return list(
            s.scalars(
                select(StaffUser.id)
                .where(StaffUser.role == StaffRole.ADMIN, StaffUser.active.is_(True))
                .order_by(StaffUser.id)
                .with_for_update()
            )
        )

"""Clients and matters, and each matter's portal: switch, permissions, parties (M1-M5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Invalid, NeedsConfirmation
from portal_tui.domain.kinds import Category, categories_from_names, categories_to_names
from portal_tui.domain.records import (
    ClientRow,
    Key,
    MatterDetail,
    MatterPortalChange,
    MatterRow,
    Page,
    PartyRow,
)
from portal_tui.domain.rules import MatterPortal
from portal_tui.domain.states import ContactStatus, MatterStatus, OutboxOp, PartyAccess
from portal_tui.store.models import (
    Client,
    Matter,
    MatterParty,
    PortalContact,
    ShareMark,
    StaffUser,
)

from .base import (
    ITSELF,
    Context,
    Service,
    check_unchanged,
    firm_portal,
    get_row,
    locked_row,
    matter_portal_of,
    party_access,
    queue_outbox,
)
from .first_page import matter_row
from .paging import AnyRow, AnySelect, keyset_page, like_pattern
from .sharing import SharingService

_CLIENT_FIELDS = ("name", "primary_email", "phone", "address", "date_of_birth")
_MATTER_FIELDS = (
    "number",
    "name",
    "client_id",
    "responsible_id",
    "status",
    "practice_area",
    "description",
    "opened_on",
)
# What the portal holds of a matter (matter_payload): a change to either goes out to it.
_MATTER_ON_PORTAL = ("number", "name")


def client_row(c: Client) -> ClientRow:
    return ClientRow(
        c.id, c.name, c.primary_email, c.phone, c.address, c.edit_version, (c.name, c.id)
    )


def _matter_rows() -> AnySelect:
    """What a matter's row in a list shows: the matter, its client's and responsible's names."""
    return (
        select(
            Matter.id,
            Matter.number,
            Matter.name,
            Matter.client_id,
            Matter.status,
            Matter.portal_enabled,
            Client.name.label("client_name"),
            StaffUser.name.label("responsible_name"),
        )
        .join(Client, Client.id == Matter.client_id)
        .outerjoin(StaffUser, StaffUser.id == Matter.responsible_id)
    )


def _matter_row(r: AnyRow) -> MatterRow:
    return matter_row(
        r.id,
        r.number,
        r.name,
        r.client_id,
        r.client_name,
        r.status,
        r.portal_enabled,
        r.responsible_name,
    )


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def checked_client(changes: dict[str, Any]) -> dict[str, Any]:
    """A client's fields as they will be saved (text trimmed, blanks as none), or Invalid with
    the one sentence saying what is wrong. Only the fields given are checked."""
    out = {k: _blank_to_none(v) for k, v in changes.items()}
    if "name" in out and (out["name"] is None or len(out["name"]) > 200):
        raise Invalid(texts.CLIENT_NEEDS_NAME)
    email = out.get("primary_email")
    if email is not None and not rules.is_email(email):
        raise Invalid(texts.CLIENT_BAD_EMAIL.format(email=email))
    if len(out.get("phone") or "") > 60:
        raise Invalid(texts.CLIENT_PHONE_TOO_LONG)
    if len(out.get("address") or "") > 1000:
        raise Invalid(texts.CLIENT_ADDRESS_TOO_LONG)
    return out


def checked_matter(changes: dict[str, Any]) -> dict[str, Any]:
    """A matter's own fields as they will be saved, or Invalid; what they point at (client,
    responsible staff user, another matter's number) is checked in the transaction."""
    out = {k: _blank_to_none(v) for k, v in changes.items() if k != "description"}
    if "description" in changes:
        out["description"] = changes["description"] or None
    if "number" in out and (out["number"] is None or len(out["number"]) > 40):
        raise Invalid(texts.MATTER_NEEDS_NUMBER)
    if "name" in out and (out["name"] is None or len(out["name"]) > 300):
        raise Invalid(texts.MATTER_NEEDS_NAME)
    if len(out.get("practice_area") or "") > 120:
        raise Invalid(texts.MATTER_PRACTICE_AREA_TOO_LONG)
    if "client_id" in out and out["client_id"] is None:
        raise Invalid(texts.MATTER_NEEDS_CLIENT)
    if "status" in out:
        try:
            out["status"] = MatterStatus(out["status"])
        except ValueError:
            known = ", ".join(status.value for status in MatterStatus)
            raise Invalid(f"{out['status']!r} is not a matter status ({known}).") from None
    return out


def matter_payload(matter: Matter, portal: MatterPortal) -> dict[str, Any]:
    return {
        "matter_id": matter.id,
        "number": matter.number,
        "name": matter.name,
        "enabled": portal.enabled,
        "permissions": categories_to_names(portal.permissions),
        "sensitive": matter.portal_sensitive,
    }


def parties_payload(s: Session, matter_id: int) -> dict[str, Any]:
    """Who gets the matter's portal notices: every active staff user not restricted."""
    return {
        "matter_id": matter_id,
        "notify": [
            {"login": p.login, "name": p.name, "email": p.email}
            for p in party_rows(s, matter_id)
            if rules.m5_gets_notifications(p.access)
        ],
    }


def party_rows(s: Session, matter_id: int) -> list[PartyRow]:
    access = dict(
        s.execute(
            select(MatterParty.staff_id, MatterParty.access).where(
                MatterParty.matter_id == matter_id
            )
        ).all()
    )
    staff = s.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name))
    return [
        PartyRow(u.id, u.login, u.name, u.email, u.role, access.get(u.id, PartyAccess.ALLOWED))
        for u in staff
    ]


class MattersService(Service):
    """Clients and matters, and each matter's portal: switch, permissions, parties."""

    def __init__(self, ctx: Context, sharing: SharingService) -> None:
        super().__init__(ctx)
        self.sharing = sharing  # M4: turning a matter back ON settles its marks with it

    # Clients --------------------------------------------------------------------------------

    def add_client(
        self,
        name: str,
        *,
        primary_email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
        date_of_birth: date | None = None,
    ) -> int:
        """A new client (R1: Admin and Normal staff); bad fields are refused, nothing saved."""
        rules.r1_may_keep_records(self.ctx.actor.role).check()
        fields = checked_client(
            {
                "name": name,
                "primary_email": primary_email,
                "phone": phone,
                "address": address,
                "date_of_birth": date_of_birth,
            }
        )
        with self.db.write() as s:
            client = Client(**fields)
            self.ctx.added(
                s,
                client,
                "client.add",
                kind="client",
                after={f: getattr(client, f) for f in _CLIENT_FIELDS},
            )
            return client.id

    def edit_client(
        self, client_id: int, *, expected_version: int | None = None, **changes: Any
    ) -> ClientRow:
        """Save a client's fields (R1, checked as on add); with `expected_version` (its
        `edit_version` when read), a Save after someone else's is refused (EditConflict)."""
        unknown = set(changes) - set(_CLIENT_FIELDS)
        if unknown:
            raise Invalid(f"A client has no field(s) {sorted(unknown)}.")
        rules.r1_may_keep_records(self.ctx.actor.role).check()
        changes = checked_client(changes)
        with self.db.write() as s:
            client = locked_row(s, Client, client_id, "client")
            check_unchanged(
                s,
                client.edit_version,
                expected_version,
                what="client",
                kind="client",
                item_id=client_id,
            )
            self.ctx.apply(s, client, changes, "client.edit", "client", client.id, None)
            s.flush()  # the new edit_version, for the row handed back
            return client_row(client)

    def client(self, client_id: int) -> ClientRow:
        with self.db.read() as s:
            return client_row(get_row(s, Client, client_id, "client"))

    def list_clients(
        self,
        text: str = "",
        *,
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
    ) -> Page[ClientRow]:
        """Clients by name; `text` matches name, email or phone. Keyset-paged: a firm of
        thousands of clients is read a window at a time."""
        stmt = select(
            Client.id,
            Client.name,
            Client.primary_email,
            Client.phone,
            Client.address,
            Client.edit_version,
        )
        if text.strip():
            pattern = like_pattern(text.strip())
            stmt = stmt.where(
                or_(
                    Client.name.ilike(pattern, escape="\\"),
                    Client.primary_email.ilike(pattern, escape="\\"),
                    Client.phone.ilike(pattern, escape="\\"),
                )
            )
        with self.db.read() as s:
            return keyset_page(
                s,
                stmt,
                Client.name,
                Client.id,
                lambda r: ClientRow(
                    r.id,
                    r.name,
                    r.primary_email,
                    r.phone,
                    r.address,
                    r.edit_version,
                    (r.name, r.id),
                ),
                descending=False,
                after=after,
                before=before,
                limit=limit,
            )

    # Matters --------------------------------------------------------------------------------

    def add_matter(
        self,
        client_id: int,
        *,
        number: str,
        name: str,
        practice_area: str | None = None,
        description: str | None = None,
        opened_on: date | None = None,
        status: MatterStatus = MatterStatus.OPEN,
        responsible_id: int | None = None,
    ) -> int:
        """A new matter (R1), its portal OFF; the number must be the firm's only one, the
        responsible staff user an active one."""
        rules.r1_may_keep_records(self.ctx.actor.role).check()
        fields = checked_matter(
            {
                "client_id": client_id,
                "number": number,
                "name": name,
                "status": status,
                "practice_area": practice_area,
                "description": description,
                "opened_on": opened_on,
                "responsible_id": responsible_id,
            }
        )
        with self.db.write() as s:
            self._check_links(s, fields)
            self._check_number_free(s, fields["number"], None)
            matter = Matter(**fields, portal_enabled=False)
            if not self.ctx.added(  # numbered so by someone else at the same moment: refused
                s,
                matter,
                "matter.add",
                kind="matter",
                matter_id=ITSELF,
                after={f: getattr(matter, f) for f in _MATTER_FIELDS},
                unique=True,
            ):
                self._check_number_free(s, fields["number"], None)
                raise Invalid(f"A matter numbered {fields['number']!r} already exists.")
            return matter.id

    def edit_matter(
        self,
        matter_id: int,
        *,
        expected_version: int | None = None,
        portal_off: bool | None = None,
        **changes: Any,
    ) -> MatterDetail:
        """Save a matter's fields (R1, checked as on add); with `expected_version`, a Save
        after someone else's is refused (EditConflict). Closing a matter whose portal is ON
        asks first (NeedsConfirmation, nothing changed): `portal_off` True closes it and turns
        its portal OFF in the same transaction (M4: the share marks are kept), False closes it
        only."""
        unknown = set(changes) - set(_MATTER_FIELDS)
        if unknown:
            raise Invalid(f"A matter has no field(s) {sorted(unknown)}.")
        rules.r1_may_keep_records(self.ctx.actor.role).check()
        changes = checked_matter(changes)
        with self.db.write() as s:
            matter = locked_row(s, Matter, matter_id, "matter")
            check_unchanged(
                s,
                matter.edit_version,
                expected_version,
                what="matter",
                kind="matter",
                item_id=matter_id,
            )
            changes = {k: v for k, v in changes.items() if getattr(matter, k) != v}
            self._check_links(s, changes)
            if "number" in changes:
                self._check_number_free(s, changes["number"], matter.id)
            closing = changes.get("status") is MatterStatus.CLOSED
            question = rules.m4_closing_matter_question(
                changes.get("number", matter.number), closing, matter.portal_enabled
            )
            if question is not None and portal_off is None:
                raise NeedsConfirmation("M4", question)
            before = matter_portal_of(matter)
            self.ctx.apply(s, matter, changes, "matter.edit", "matter", matter.id, matter.id)
            try:
                with s.begin_nested():  # the number taken by another Save at this moment
                    s.flush()
            except IntegrityError:
                self._check_number_free(s, changes.get("number", ""), matter.id)
                raise
            if question is not None and portal_off:
                rules.r1_may_manage_portal(self.ctx.actor.role).check()
                self._switch_locked(s, matter, False)
            elif matter.portal_permissions is not None and any(
                k in changes for k in _MATTER_ON_PORTAL
            ):
                # The portal has this matter (it was ON once): its new number or name goes to
                # it, as the matter's clients see it listed (C4).
                queue_outbox(
                    s, OutboxOp.MATTER, matter_payload(matter, before), matter_id=matter.id
                )
            s.flush()
            return self._detail(s, matter)

    def _check_links(self, s: Session, fields: dict[str, Any]) -> None:
        """The client and the responsible staff user a matter points at exist; the latter
        is active (a disabled one cannot answer for a matter)."""
        if fields.get("client_id") is not None:
            get_row(s, Client, fields["client_id"], "client")
        if fields.get("responsible_id") is not None:
            staff = get_row(s, StaffUser, fields["responsible_id"], "staff user")
            if not staff.active:
                raise Invalid(texts.MATTER_RESPONSIBLE_INACTIVE.format(name=staff.name))

    @staticmethod
    def _check_number_free(s: Session, number: str, matter_id: int | None) -> None:
        """Refused, naming the matter that has it, when another matter has `number`."""
        stmt = (
            select(Matter.number, Matter.name, Client.name.label("client_name"))
            .join(Client, Client.id == Matter.client_id)
            .where(Matter.number == number)
        )
        if matter_id is not None:
            stmt = stmt.where(Matter.id != matter_id)
        other = s.execute(stmt).first()
        if other is not None:
            raise Invalid(
                texts.MATTER_NUMBER_TAKEN.format(
                    number=other.number, name=other.name, client=other.client_name
                )
            )

    def _detail(self, s: Session, matter: Matter) -> MatterDetail:
        client = get_row(s, Client, matter.client_id, "client")
        responsible = (
            s.get(StaffUser, matter.responsible_id) if matter.responsible_id is not None else None
        )
        portal = matter_portal_of(matter)
        firm = firm_portal(s)
        return MatterDetail(
            id=matter.id,
            number=matter.number,
            name=matter.name,
            client=client_row(client),
            status=matter.status,
            practice_area=matter.practice_area,
            description=matter.description,
            opened_on=matter.opened_on,
            portal_enabled=matter.portal_enabled,
            permissions=portal.permissions,
            effective_permissions=rules.m2_effective_permissions(firm, portal),
            responsible_id=matter.responsible_id,
            responsible_name=responsible.name if responsible is not None else None,
            edit_version=matter.edit_version,
            sensitive=matter.portal_sensitive,
        )

    def matter(self, matter_id: int) -> MatterDetail:
        with self.db.read() as s:
            return self._detail(s, get_row(s, Matter, matter_id, "matter"))

    def list_matters(
        self,
        text: str = "",
        *,
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
        portal_only: bool = False,
    ) -> Page[MatterRow]:
        """Matters by number, newest first; `text` matches number, name or client name."""
        stmt = _matter_rows()
        if text.strip():
            pattern = like_pattern(text.strip())
            stmt = stmt.where(
                or_(
                    Matter.number.ilike(pattern, escape="\\"),
                    Matter.name.ilike(pattern, escape="\\"),
                    Client.name.ilike(pattern, escape="\\"),
                )
            )
        if portal_only:
            stmt = stmt.where(Matter.portal_enabled.is_(True))
        with self.db.read() as s:
            return keyset_page(
                s,
                stmt,
                Matter.number,
                Matter.id,
                _matter_row,
                descending=True,
                after=after,
                before=before,
                limit=limit,
            )

    def client_portal_matters(self, client_id: int) -> list[MatterRow]:
        """The matters a client may reach in the portal (C4): ON, with the client an active or
        invited contact."""
        stmt = (
            _matter_rows()
            .join(PortalContact, PortalContact.matter_id == Matter.id)
            .where(
                PortalContact.client_id == client_id,
                PortalContact.status.in_([ContactStatus.ACTIVE, ContactStatus.INVITED]),
                Matter.portal_enabled.is_(True),
            )
            .order_by(Matter.number)
        )
        with self.db.read() as s:
            return [_matter_row(r) for r in s.execute(stmt)]

    # The matter's portal --------------------------------------------------------------------

    def set_matter_portal(
        self,
        matter_id: int,
        enabled: bool,
        *,
        confirmed: bool = False,
        republish: bool | None = None,
    ) -> MatterPortalChange:
        """Turn a matter's portal ON or OFF (M1, M4). ON starts from the firm's set (M2) the
        first time; OFF must be confirmed. ON again with items still marked shared asks first
        (NeedsConfirmation with M4's offer, nothing changed): `republish` True publishes them
        again, False lets the marks go — in the same transaction as the switch, the items
        withdrawn before the matter is ON, so its client never sees what was declined."""
        rules.r1_may_manage_portal(self.ctx.actor.role).check()
        with self.db.write() as s:
            # Locked: the outbox row's payload and version (its id) must be the matter's
            # state as it commits, not as it was read before another staff member's change.
            matter = locked_row(s, Matter, matter_id, "matter")
            firm = firm_portal(s)
            before = matter_portal_of(matter)
            if before.enabled == enabled:
                return MatterPortalChange(enabled)
            question = rules.m4_turning_matter_off_needs_confirmation(before.enabled, enabled)
            if question and not confirmed:
                raise NeedsConfirmation("M4", question)
            still = 0
            if enabled:
                still = (
                    s.scalar(
                        select(func.count())
                        .select_from(ShareMark)
                        .where(ShareMark.matter_id == matter.id, ShareMark.wanted.is_(True))
                    )
                    or 0
                )
                offer = rules.m4_republish_offer(still)
                if offer is not None and republish is None:
                    raise NeedsConfirmation("M4", offer)
            settled = 0
            if still and republish is False:
                # Withdrawn first: their outbox rows go before the matter's switch.
                settled = self.sharing.republish_locked(s, matter.id, publish=False)
            if enabled and matter.portal_permissions is None:
                matter.portal_permissions = categories_to_names(rules.m2_initial_permissions(firm))
            self._switch_locked(s, matter, enabled, before=before)
            if still and republish:
                settled = self.sharing.republish_locked(s, matter.id, publish=True)
            return MatterPortalChange(
                enabled,
                republished=settled if republish else 0,
                withdrawn=settled if republish is False else 0,
            )

    def _switch_locked(
        self, s: Session, matter: Matter, enabled: bool, *, before: MatterPortal | None = None
    ) -> None:
        """The matter's switch moved, on its locked row: audited, and the portal told in the
        same transaction (OFF hides it from its client at once; the marks are kept, M4)."""
        before = before or matter_portal_of(matter)
        matter.portal_enabled = enabled
        after = matter_portal_of(matter)
        self.ctx.audit(
            s,
            "matter.portal",
            kind="matter",
            item_id=matter.id,
            matter_id=matter.id,
            before=matter_payload(matter, before),
            after=matter_payload(matter, after),
        )
        queue_outbox(s, OutboxOp.MATTER, matter_payload(matter, after), matter_id=matter.id)

    def set_matter_permissions(self, matter_id: int, categories: Iterable[Category]) -> None:
        """Narrow (or widen, within the firm's) what a matter permits (M2)."""
        rules.r1_may_manage_portal(self.ctx.actor.role).check()
        wanted = frozenset(categories)
        with self.db.write() as s:
            matter = locked_row(s, Matter, matter_id, "matter")
            firm = firm_portal(s)
            rules.m2_check_permissions(firm, wanted).check()
            before = matter_portal_of(matter)
            if before.permissions == wanted and matter.portal_permissions is not None:
                return
            matter.portal_permissions = categories_to_names(wanted)
            after = matter_portal_of(matter)
            self.ctx.audit(
                s,
                "matter.permissions",
                kind="matter",
                item_id=matter.id,
                matter_id=matter.id,
                before=matter_payload(matter, before),
                after=matter_payload(matter, after),
            )
            queue_outbox(s, OutboxOp.MATTER, matter_payload(matter, after), matter_id=matter.id)

    def set_matter_sensitive(self, matter_id: int, sensitive: bool) -> None:
        """Mark the matter sensitive (or not): when the firm requires a second factor of
        sensitive matters' clients, its clients must sign in with one."""
        rules.r1_may_manage_portal(self.ctx.actor.role).check()
        with self.db.write() as s:
            matter = locked_row(s, Matter, matter_id, "matter")
            if matter.portal_sensitive == sensitive:
                return
            portal = matter_portal_of(matter)
            before = matter_payload(matter, portal)
            matter.portal_sensitive = sensitive
            after = matter_payload(matter, portal)
            self.ctx.audit(
                s,
                "matter.sensitive",
                kind="matter",
                item_id=matter.id,
                matter_id=matter.id,
                before=before,
                after=after,
            )
            queue_outbox(s, OutboxOp.MATTER, after, matter_id=matter.id)

    def matter_permissions(self, matter_id: int) -> frozenset[Category]:
        with self.db.read() as s:
            matter = get_row(s, Matter, matter_id, "matter")
            return categories_from_names(matter.portal_permissions or [])

    # Client Portal Parties (M5) ---------------------------------------------------------------

    def set_party_access(self, matter_id: int, staff_id: int, access: PartyAccess) -> None:
        rules.r1_may_manage_portal(self.ctx.actor.role).check()
        with self.db.write() as s:
            # The matter's row stands for its parties: locked, two staff changing two parties
            # at once cannot each send a list without the other's change.
            locked_row(s, Matter, matter_id, "matter")
            get_row(s, StaffUser, staff_id, "staff user")
            party = s.scalar(
                select(MatterParty).where(
                    MatterParty.matter_id == matter_id, MatterParty.staff_id == staff_id
                )
            )
            before = party.access if party is not None else PartyAccess.ALLOWED
            if party is None:
                party = MatterParty(matter_id=matter_id, staff_id=staff_id, access=access)
                s.add(party)
            party.access = access
            if before is access:
                return
            self.ctx.audit(
                s,
                "matter.party",
                kind="staff",
                item_id=staff_id,
                matter_id=matter_id,
                before={"access": before},
                after={"access": access},
            )
            s.flush()
            queue_outbox(s, OutboxOp.PARTIES, parties_payload(s, matter_id), matter_id=matter_id)

    def parties(self, matter_id: int) -> list[PartyRow]:
        """Every active staff user with their access to the matter; Allowed unless set."""
        with self.db.read() as s:
            get_row(s, Matter, matter_id, "matter")
            return party_rows(s, matter_id)

    def party_access(self, matter_id: int, staff_id: int | None = None) -> PartyAccess:
        """The acting (or named) user's access to a matter's client messages (M5)."""
        staff_id = staff_id if staff_id is not None else self.ctx.actor.staff_id
        with self.db.read() as s:
            return party_access(s, matter_id, staff_id)

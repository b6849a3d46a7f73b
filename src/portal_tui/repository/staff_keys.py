"""Staff users' SSH keys for the built-in SSH door, and what both doors (`portal-tui
ssh-serve`, `portal-tui web`) write in the firm's audit trail about who came in and who was
refused.

Keys are added and removed by an Admin (R1, as every change to the staff list) and audited
as those changes are. A key is one staff user's only: a key already registered to someone
else is refused, and the fingerprint's unique index settles two Admins adding the same key at
once. The doors' entries name the staff user where one is known (`door.sign_in`,
`door.refused`), with the door, the client's address and why it was refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.domain import texts
from portal_tui.domain.decision import Invalid, Refused
from portal_tui.domain.records import StaffKeyRow, StaffRow
from portal_tui.domain.ssh_keys import PublicKey, normal_fingerprint
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import AuditEntry, StaffKey, StaffUser

from .base import first_insert, jsonable
from .staff import StaffLookups

DOOR_SIGN_IN = "door.sign_in"
DOOR_REFUSED = "door.refused"


def _key_row(key: StaffKey, login: str) -> StaffKeyRow:
    kind = key.public_key.split(" ", 1)[0]
    return StaffKeyRow(login, key.fingerprint, kind, key.comment, key.added_at)


class StaffKeysService(StaffLookups):
    def add_staff_key(self, login: str, key: PublicKey) -> tuple[StaffKeyRow, bool]:
        """R1: an Admin registers `key` for `login`. Returns the key and whether it is new
        (the same key again for the same user changes nothing)."""
        self._admin_only()
        fingerprint = key.fingerprint
        with self.db.write() as s:
            user = self._find(s, login, lock=True)
            self._not_anothers(s, fingerprint, user)
            mine = self._key(s, user, fingerprint)
            if mine is not None:
                return _key_row(mine, user.login), False
            row = StaffKey(
                staff_id=user.id,
                fingerprint=fingerprint,
                public_key=key.line,
                comment=key.comment,
                added_at=utcnow(),
            )
            if not first_insert(s, row):  # another Admin's, a moment before
                self._not_anothers(s, fingerprint, user)
                return self._added_meanwhile(s, user, fingerprint), False
            self.ctx.audit(
                s,
                "staff.key_add",
                kind="staff",
                item_id=user.id,
                after={
                    "login": user.login,
                    "fingerprint": fingerprint,
                    "key_kind": key.kind,
                    "comment": key.comment,
                },
            )
            return _key_row(row, user.login), True

    def remove_staff_key(self, login: str, fingerprint: str) -> StaffKeyRow:
        """R1: an Admin takes a key away; the door refuses it from its next login on."""
        self._admin_only()
        fingerprint = normal_fingerprint(fingerprint)
        with self.db.write() as s:
            user = self._find(s, login, lock=True)
            key = self._key(s, user, fingerprint)
            if key is None:
                raise Invalid(
                    texts.STAFF_KEY_UNKNOWN.format(login=user.login, fingerprint=fingerprint)
                )
            shown = _key_row(key, user.login)
            s.delete(key)
            self.ctx.audit(
                s,
                "staff.key_remove",
                kind="staff",
                item_id=user.id,
                before={"login": user.login, "fingerprint": fingerprint, "comment": key.comment},
            )
            return shown

    def staff_keys(self, login: str | None = None) -> list[StaffKeyRow]:
        """Every staff user's keys (or `login`'s), by login then when added."""
        _ = self.ctx.actor  # an active staff user of this firm, as for the staff list
        with self.db.read() as s:
            query = select(StaffKey, StaffUser.login).join(
                StaffUser, StaffUser.id == StaffKey.staff_id
            )
            if login is not None:
                query = query.where(StaffKey.staff_id == self._find(s, login).id)
            rows = s.execute(query.order_by(StaffUser.login, StaffKey.added_at, StaffKey.id))
            return [_key_row(key, owner) for key, owner in rows]

    def key_owner(self, fingerprint: str) -> StaffRow | None:
        """The staff user whose key this is (active or not), or None: the SSH door's question
        at each login, read afresh every time (a key added or removed counts at once)."""
        with self.db.read() as s:
            user = s.scalar(
                select(StaffUser)
                .join(StaffKey, StaffKey.staff_id == StaffUser.id)
                .where(StaffKey.fingerprint == fingerprint)
            )
            if user is None:
                return None
            return StaffRow(user.id, user.login, user.name, user.email, user.role, user.active)

    def record_door(
        self,
        door: str,
        *,
        login: str | None,
        refused: str | None,
        address: str,
        **detail: Any,
    ) -> None:
        """One entry in the audit trail: `login` came in through `door` (refused None), or
        was refused there and why (login None when nobody is known: an unknown key, a wrong
        token). Written by the door, whoever its own settings name."""
        with self.db.write() as s:
            staff_id = None
            if login is not None:
                staff_id = s.scalar(select(StaffUser.id).where(StaffUser.login == login))
            after = {"door": door, "address": address, **detail}
            if refused is not None:
                after["reason"] = refused
            s.add(
                AuditEntry(
                    at=utcnow(),
                    staff_id=staff_id,
                    actor=login or f"{door} door",
                    action=DOOR_SIGN_IN if refused is None else DOOR_REFUSED,
                    kind="staff",
                    item_id=staff_id,
                    after=jsonable(after),
                )
            )

    # Within a transaction ---------------------------------------------------------------------

    @staticmethod
    def _key(s: Session, user: StaffUser, fingerprint: str) -> StaffKey | None:
        return s.scalar(
            select(StaffKey).where(
                StaffKey.staff_id == user.id, StaffKey.fingerprint == fingerprint
            )
        )

    @staticmethod
    def _not_anothers(s: Session, fingerprint: str, user: StaffUser) -> None:
        owner = s.scalar(
            select(StaffUser.login)
            .join(StaffKey, StaffKey.staff_id == StaffUser.id)
            .where(StaffKey.fingerprint == fingerprint, StaffUser.id != user.id)
        )
        if owner is not None:
            whose = f"registered to {owner}"
            raise Refused("R1", texts.STAFF_KEY_TAKEN.format(fingerprint=fingerprint, whose=whose))

    def _added_meanwhile(self, s: Session, user: StaffUser, fingerprint: str) -> StaffKeyRow:
        mine = self._key(s, user, fingerprint)
        if mine is None:  # taken and gone again in between: say so rather than guess
            raise Refused(
                "R1",
                texts.STAFF_KEY_TAKEN.format(fingerprint=fingerprint, whose="being changed"),
            )
        return _key_row(mine, user.login)

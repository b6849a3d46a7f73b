"""What every service of the repository shares: one database, one acting staff user (the
`Context`), the audit trail and the outbox, and how rows are loaded and locked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Protocol, TypeVar, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal_tui.database import Database
from portal_tui.domain import texts
from portal_tui.domain.decision import EditConflict, NotFound, Refused
from portal_tui.domain.kinds import categories_from_names
from portal_tui.domain.rules import FirmPortal, MatterPortal, f2_default_firm_portal
from portal_tui.domain.states import OutboxOp, PartyAccess, StaffRole, TwoFactorRequirement
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    AuditEntry,
    FirmSettings,
    Matter,
    MatterParty,
    OutboxEntry,
    StaffUser,
)

SYSTEM_LOGIN = "system"
_AUDIT = cast(Table, AuditEntry.__table__)  # its Core table: bulk inserts skip the ORM

_M = TypeVar("_M")
_R = TypeVar("_R", bound="_Identified")


class _Identified(Protocol):
    """A row with an id once flushed: what `Context.added` audits."""

    @property
    def id(self) -> int: ...


class _Itself(Enum):
    ITSELF = "itself"


# `Context.added(..., matter_id=ITSELF)`: the row added is the matter its entry is about.
ITSELF = _Itself.ITSELF


# Trail entries about an item that do not move its `edit_version`: a Save refused as crossed
# names whoever last changed the row's own fields, not whoever shared it since.
NOT_A_CHANGE_OF_THE_ROW = ("share", "unshare", "republish", "withdraw", "form.submission")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a command acts for. The built-in system actor (seeding, sync) has no staff row."""

    login: str
    role: StaffRole
    staff_id: int | None


SYSTEM = Actor(SYSTEM_LOGIN, StaffRole.ADMIN, None)


_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Values as they go into audit and outbox JSON: dates as ISO text, enums as values."""
    if type(value) in _AS_THEY_ARE:  # the most of them: one look, not a run of isinstance
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def firm_portal_of(row: FirmSettings | None) -> FirmPortal:
    if row is None:
        return f2_default_firm_portal()
    return FirmPortal(
        enabled=row.portal_enabled,
        permissions=categories_from_names(row.portal_permissions),
        notify_new_items=row.notify_new_items,
        daily_digest=row.daily_digest,
        notify_staff_on_upload=row.notify_staff_on_upload,
        two_factor_required=two_factor_requirement(row.two_factor_required),
    )


def two_factor_requirement(value: str) -> TwoFactorRequirement:
    known = {r.value for r in TwoFactorRequirement}
    return TwoFactorRequirement(value) if value in known else TwoFactorRequirement.OFF


def matter_portal_of(matter: Matter) -> MatterPortal:
    return MatterPortal(
        enabled=matter.portal_enabled,
        permissions=categories_from_names(matter.portal_permissions or []),
    )


def first_insert(s: Session, row: object) -> bool:
    """Insert `row` in a savepoint: False, and nothing of it kept, when a row with the same
    unique key is there already (on PostgreSQL, an insert of the same key by a transaction
    still running waits for it to end, then fails here). The transaction goes on either way."""
    try:
        with s.begin_nested():
            s.add(row)
    except IntegrityError:
        return False
    return True


def get_row(s: Session, model: type[_M], ident: int, what: str) -> _M:
    row = s.get(model, ident)
    if row is None:
        raise NotFound(f"No {what} with id {ident}.")
    return row


def locked_row(s: Session, model: type[_M], ident: int, what: str) -> _M:
    """`get_row`, with the row locked until this transaction ends (SELECT … FOR UPDATE; on
    SQLite the writer's BEGIN IMMEDIATE holds the file already): a command that decides from
    the row and writes it back must not let another staff member's do so between."""
    row = s.get(model, ident, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"No {what} with id {ident}.")
    return row


def check_unchanged(
    s: Session,
    version: int,
    expected: int | None,
    *,
    what: str,
    kind: str,
    item_id: int,
) -> None:
    """A Save made from a screen that read the row at `expected` is refused if anyone has
    changed the row since (its version moved on), naming who and when from the trail: their
    change stands, and this one must be made again on the new version. Called on the row
    locked, so no change can slip in after the check."""
    if expected is None or version == expected:
        return
    last = s.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.kind == kind,
            AuditEntry.item_id == item_id,
            AuditEntry.action.not_in(NOT_A_CHANGE_OF_THE_ROW),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if last is None:
        raise EditConflict(
            texts.EDIT_CROSSED_UNKNOWN.format(what=what), changed_by="", changed_at=None
        )
    who = last.actor
    if last.staff_id is not None:
        staff = s.get(StaffUser, last.staff_id)
        who = staff.name if staff is not None else who
    elif who == SYSTEM_LOGIN:
        who = "portal-tui"
    when = last.at.astimezone().strftime("%Y-%m-%d %H:%M")
    raise EditConflict(
        texts.EDIT_CROSSED.format(who=who, what=what, when=when),
        changed_by=who,
        changed_at=last.at,
    )


def firm_row(s: Session, *, lock: bool = False) -> FirmSettings | None:
    return s.get(FirmSettings, 1, with_for_update=lock, populate_existing=lock)


def firm_portal(s: Session) -> FirmPortal:
    return firm_portal_of(firm_row(s))


def require_firm(s: Session, *, lock: bool = False) -> FirmSettings:
    row = firm_row(s, lock=lock)
    if row is None:
        raise Refused("F2", texts.NO_FIRM)
    return row


def party_access(s: Session, matter_id: int, staff_id: int | None) -> PartyAccess:
    """A staff user's access to a matter's client messages (M5): Allowed unless set."""
    if staff_id is None:
        return PartyAccess.ALLOWED
    found = s.scalar(
        select(MatterParty.access).where(
            MatterParty.matter_id == matter_id, MatterParty.staff_id == staff_id
        )
    )
    return found or PartyAccess.ALLOWED


def queue_outbox(
    s: Session,
    op: OutboxOp,
    payload: dict[str, Any],
    *,
    kind: str | None = None,
    item_id: int | None = None,
    matter_id: int | None = None,
    version: int = 1,
    batch: str | None = None,
) -> OutboxEntry:
    """An outbox row for the portal, written in the caller's transaction (with its change)."""
    entry = OutboxEntry(
        op=op,
        kind=kind,
        item_id=item_id,
        matter_id=matter_id,
        version=version,
        payload=jsonable(payload),
        created_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    if batch is not None:
        entry.batch = batch
    s.add(entry)
    return entry


class Context:
    """What the repository's services share: the firm database and the acting staff user
    (`staff_login`; None acts as the built-in system actor), who every audit entry names."""

    def __init__(self, db: Database, staff_login: str | None = None) -> None:
        self.db = db
        self._staff_login = staff_login
        self._actor: Actor | None = SYSTEM if staff_login is None else None

    @property
    def actor(self) -> Actor:
        """The acting staff user, looked up once: reading needs none, so a bare list works even
        before the firm has staff."""
        if self._actor is None:
            with self.db.read() as s:
                self._actor = self._resolve_actor(s)
        return self._actor

    def _resolve_actor(self, s: Session) -> Actor:
        assert self._staff_login is not None
        staff = s.scalar(select(StaffUser).where(StaffUser.login == self._staff_login))
        if staff is None or not staff.active:
            raise Refused(
                "R1",
                f"No active staff user with login {self._staff_login!r} in this firm database. "
                "Set staff_user in config.toml (or PORTAL_TUI_STAFF_USER) to a staff login; "
                "an Admin adds one with `portal-tui staff add`, and a new firm starts with "
                "`portal-tui init`.",
            )
        return Actor(staff.login, staff.role, staff.id)

    def check_actor(self, s: Session, actor: Actor) -> None:
        now = s.execute(
            select(StaffUser.active, StaffUser.role).where(StaffUser.id == actor.staff_id)
        ).one_or_none()
        if now is None or not now.active:
            raise Refused("R1", texts.STAFF_NOW_DISABLED.format(login=actor.login))
        if now.role is not actor.role:
            raise Refused(
                "R1", texts.STAFF_ROLE_CHANGED.format(login=actor.login, role=now.role.label)
            )

    # Writing the trail ----------------------------------------------------------------------

    def audit(
        self,
        s: Session,
        action: str,
        *,
        kind: str | None = None,
        item_id: int | None = None,
        matter_id: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        actor = self.actor
        s.add(
            AuditEntry(
                at=utcnow(),
                staff_id=actor.staff_id,
                actor=actor.login,
                action=action,
                kind=kind,
                item_id=item_id,
                matter_id=matter_id,
                before=jsonable(before) if before is not None else None,
                after=jsonable(after) if after is not None else None,
            )
        )

    def added(
        self,
        s: Session,
        row: _R,
        action: str,
        *,
        kind: str,
        matter_id: int | Literal[_Itself.ITSELF] | None = None,
        after: dict[str, Any] | None = None,
        unique: bool = False,
    ) -> bool:
        """Insert `row` and its audit entry, which names it by the id it gets (flushed now).
        `matter_id=ITSELF`: the row is a matter, and the entry is about it. `unique`: the row
        has a unique key someone else may take at the same moment, so it goes in through
        `first_insert`: False, and nothing written, when theirs is there first."""
        if unique:
            if not first_insert(s, row):
                return False
        else:
            s.add(row)
            s.flush()
        self.audit(
            s,
            action,
            kind=kind,
            item_id=row.id,
            matter_id=row.id if matter_id is ITSELF else matter_id,
            after=after,
        )
        return True

    def added_many(
        self,
        s: Session,
        key: InstrumentedAttribute[Any],
        rows: Sequence[dict[str, Any]],
        action: str,
        *,
        kind: str,
        matter_ids: Sequence[int | None] | Literal[_Itself.ITSELF],
        afters: Sequence[dict[str, Any]],
    ) -> list[int]:
        """`added` for many rows of one table at once (an import's chunk), each with a unique
        `key` column given in its row: one executemany INSERT of the rows, one query for their
        ids, one executemany INSERT of their audit entries — not a flush and two INSERTs a
        row. The rows bypass the session (nothing of them is in its identity map). Returns
        the ids in the rows' order."""
        if not rows:
            return []
        table: Any = key.class_.__table__
        # One INSERT takes rows of the same columns: a row leaves out a column the file left
        # blank (its default, or NULL), so rows go in grouped by the columns they give. With
        # RETURNING, SQLAlchemy writes each group as multi-row VALUES statements (not one
        # statement a row): SQLite's full-text triggers (the list filters) cost per statement.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        column = table.c[key.key]
        found: dict[Any, int] = {}
        for group in groups.values():
            # The ids come back in no set order: each is found again by its row's key.
            made = s.execute(insert(table).returning(column, table.c.id), group)
            found.update((k, item_id) for k, item_id in made)
        ids = [found[row[key.key]] for row in rows]
        actor, at = self.actor, utcnow()
        mids = ids if matter_ids is ITSELF else matter_ids
        s.execute(
            insert(_AUDIT),
            [
                {
                    "at": at,
                    "staff_id": actor.staff_id,
                    "actor": actor.login,
                    "action": action,
                    "kind": kind,
                    "item_id": item_id,
                    "matter_id": mid,
                    "after": jsonable(after),
                }
                for item_id, mid, after in zip(ids, mids, afters, strict=True)
            ],
        )
        return ids

    def apply(
        self,
        s: Session,
        obj: object,
        changes: dict[str, Any],
        action: str,
        kind: str,
        item_id: int,
        matter_id: int | None,
    ) -> dict[str, Any]:
        """Set fields, and audit only what really changed. Returns the old values changed."""
        before = {k: getattr(obj, k) for k in changes if getattr(obj, k) != changes[k]}
        if not before:
            return {}
        for k in before:
            setattr(obj, k, changes[k])
        after = {k: changes[k] for k in before}
        self.audit(
            s, action, kind=kind, item_id=item_id, matter_id=matter_id, before=before, after=after
        )
        return before


class StaffWrites:
    """The firm database as a staff user's commands see it: every writing transaction first
    checks that the acting staff user is still active and still has the role their app
    started with (R1: a disabled user's app is refused at its next action, a demoted one's
    does not go on with the old role)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._db = ctx.db

    @contextmanager
    def write(self) -> Iterator[Session]:
        actor = self._ctx.actor  # resolved before the write begins: a read of its own
        with self._db.write() as s:
            if actor.staff_id is not None:
                self._ctx.check_actor(s, actor)
            yield s

    def read(self) -> AbstractContextManager[Session]:
        return self._db.read()

    @property
    def is_sqlite(self) -> bool:
        return self._db.is_sqlite

    @property
    def is_memory(self) -> bool:
        return self._db.is_memory


class Service:
    """A part of the repository: one subject's queries and commands, on the shared context.
    A service of staff commands writes through StaffWrites; one that delivers or applies
    what the portal sends (`staff_commands = False`) works for whoever runs it."""

    staff_commands = True

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.db: StaffWrites | Database = StaffWrites(ctx) if self.staff_commands else ctx.db

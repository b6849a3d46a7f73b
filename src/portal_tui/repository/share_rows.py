"""What one share or unshare decides and writes, apart from how items are read and rows written:
the one-by-one path (sharing.py, through the ORM) and the bulk (bulk_share.py, set-based) both
call these, so they refuse with the same texts and write rows the delivery relay cannot tell
apart. The two share nothing else: each imports this module, neither the other's."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import NeedsConfirmation, Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import InvoiceLineRow, Share
from portal_tui.domain.rules import FirmPortal, MatterPortal
from portal_tui.domain.states import (
    FormRule,
    InvoiceStatus,
    OutboxOp,
    PartyAccess,
    ShareState,
    StaffRole,
)
from portal_tui.store.models import (
    CalendarEvent,
    Document,
    IntakeForm,
    Invoice,
    Message,
    Note,
    ShareMark,
    Task,
)

from .base import Actor, get_row, jsonable

# The items that are shared ------------------------------------------------------------------

ItemModel = Invoice | CalendarEvent | Task | Note | Document | Message | IntakeForm

MODEL_OF: dict[ItemKind, type[ItemModel]] = {
    ItemKind.INVOICE: Invoice,
    ItemKind.EVENT: CalendarEvent,
    ItemKind.TASK: Task,
    ItemKind.NOTE: Note,
    ItemKind.DOCUMENT: Document,
    ItemKind.MESSAGE: Message,
    ItemKind.FORM: IntakeForm,
}

# A bulk share's held rows go out after this even if the call that was to release them never
# came (the app died mid-bulk): late, and with its email, but never lost.
HOLD = timedelta(minutes=5)
# Ids per IN (...): well under every backend's limit on bound parameters.
IN_CHUNK = 500


def new_batch() -> str:
    """A batch id: the rows of one share, or of one bulk done in several calls."""
    return uuid.uuid4().hex


def item_of(s: Session, kind: ItemKind, item_id: int) -> ItemModel:
    return get_row(s, MODEL_OF[kind], item_id, kind.label)


def share_of(mark: ShareMark | None) -> Share:
    if mark is None:
        return Share()
    return Share(mark.state, mark.wanted, mark.last_error)


def mark_of(s: Session, kind: ItemKind, item_id: int) -> ShareMark | None:
    return s.scalar(select(ShareMark).where(ShareMark.kind == kind, ShareMark.item_id == item_id))


# The portal's copy of an item ---------------------------------------------------------------

# What the portal's copy of each kind holds, beyond what snapshot_data() adds itself.
SNAPSHOT_FIELDS: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.INVOICE: (
        "number",
        "issued_on",
        "due_on",
        "status",
        "total_cents",
        "paid_cents",
        "memo",
        # The firm's own PDF, by its fingerprint: the bytes go apart, and only when the
        # portal lacks them (portal_client), so a republish does not carry them again.
        "pdf_sha256",
    ),
    # An all-day event's copy adds its days (all_day, first_day, last_day); a timed one's
    # goes without them, as it always has (see snapshot_data).
    ItemKind.EVENT: (
        "title",
        "starts_at",
        "ends_at",
        "location",
        "description",
        "all_day",
        "first_day",
        "last_day",
    ),
    ItemKind.TASK: ("title", "due_on", "done", "description"),
    ItemKind.NOTE: ("subject", "body", "created_at"),
    ItemKind.DOCUMENT: ("name", "content_type", "size", "sha256", "created_at"),
    ItemKind.MESSAGE: ("subject", "body", "author_name", "from_client", "sent_at"),
    ItemKind.FORM: ("name", "description", "fields"),
}


def _quantity(milli: int) -> str:
    whole, frac = divmod(milli, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def line_row(line: Any) -> InvoiceLineRow:
    """An invoice line (a model, or a row read with the same column names) as the portal's."""
    return InvoiceLineRow(
        line.description, _quantity(line.quantity_milli), line.rate_cents, line.amount_cents
    )


def snapshot_data(
    kind: ItemKind, item: Any, *, lines: Iterable[InvoiceLineRow] = (), folder: str = ""
) -> dict[str, Any]:
    """The copy of an item the portal receives: what a client may read, nothing more. `item`
    is a model or anything with its field names (a bulk reads plain rows). An invoice's copy
    adds its lines; a document's, its folder's name (the bytes travel separately: the delivery
    worker reads them when it sends)."""
    data = {f: getattr(item, f) for f in SNAPSHOT_FIELDS[kind]}
    if kind is ItemKind.INVOICE:
        data["lines"] = [asdict(line) for line in lines]
    elif kind is ItemKind.DOCUMENT:
        data["folder"] = folder
    elif kind is ItemKind.EVENT and not data["all_day"]:
        # A timed event's copy stays as it was before events could be all day: a copy the
        # portal holds already is not sent again for nothing.
        for day_field in ("all_day", "first_day", "last_day"):
            del data[day_field]
    return data


# Share marks --------------------------------------------------------------------------------


@dataclass(slots=True)
class MarkValues:
    """A share mark as a bulk holds it in memory: the columns sharing reads and writes. `id`
    is None for a mark not yet in the database."""

    kind: ItemKind
    item_id: int
    matter_id: int
    wanted: bool
    state: ShareState
    version: int
    id: int | None = None
    shared_by_id: int | None = None
    shared_at: datetime | None = None
    unshared_by_id: int | None = None
    unshared_at: datetime | None = None
    last_error: str | None = None
    # The version the mark had when it was read; None for a new mark. Its UPDATE applies
    # only where the mark still has it.
    read_version: int | None = None

    def __post_init__(self) -> None:
        if self.id is not None and self.read_version is None:
            self.read_version = self.version


AnyMark = ShareMark | MarkValues

# A mark before its first share, which `publish_rows` then moves on.
NEW_MARK: dict[str, Any] = {"wanted": False, "state": ShareState.NOT_SHARED, "version": 0}


def next_version(mark: AnyMark) -> int:
    """The version a share or unshare moves `mark` to. Worked out here, in Python, because
    every caller holds the item's row lock (SharingService.lock, or the bulk's items read FOR
    UPDATE), so no one else moves the mark meanwhile; and its UPDATE is a compare-and-set on
    the version read (ShareMark's version counter, the bulk's WHERE version = read_version),
    so a path that forgot the lock fails loudly instead of writing a version twice."""
    return mark.version + 1


# The rules, in the order the one-by-one path has always checked them ------------------------


def check_share_rules(
    role: StaffRole,
    kind: ItemKind,
    firm: FirmPortal,
    portal: MatterPortal | None,
    *,
    form_rule: FormRule | None = None,
    access: PartyAccess = PartyAccess.ALLOWED,
) -> None:
    """Every rule a share of an item on a matter whose portal is `portal` must pass (R1, S4 for
    a form, S5 for a message, M1, S6), in the order a user would want to hear them. Only a form
    may have no matter (None); `access` is the acting user's to the matter's messages (M5)."""
    rules.r1_may_share(role, kind).check()
    if kind is ItemKind.FORM:
        assert form_rule is not None
        rules.s4_may_share_form(form_rule, portal, firm).check()
        return
    assert portal is not None
    if kind is ItemKind.MESSAGE:
        rules.s5_may_message(firm, portal, access).check()
    rules.may_share(role, kind, firm, portal).check()


def check_not_shared(kind: ItemKind, mark: AnyMark | None) -> None:
    """S0: an item shared (or on its way) is not shared twice; a failed share may be retried."""
    if mark is not None and mark.wanted and mark.state is not ShareState.FAILED:
        raise Refused("S0", texts.ALREADY_SHARED.format(label=kind.label))


def must_finalise(status: InvoiceStatus, *, confirmed: bool) -> bool:
    """S1: whether sharing this invoice marks it Final first; unconfirmed, the question."""
    if not rules.s1_needs_finalising(status):
        return False
    if not confirmed:
        raise NeedsConfirmation("S1", texts.UNFINAL_INVOICE_CONFIRM)
    return True


def check_shared(role: StaffRole, kind: ItemKind, mark: AnyMark | None) -> None:
    """What an unshare must pass: the role (R1), and something to take back (S0)."""
    rules.may_unshare(role, kind).check()
    if mark is None or not mark.wanted:
        raise Refused("S0", texts.NOT_SHARED_YET.format(label=kind.label))


# The rows, as column values -----------------------------------------------------------------

# Values jsonable() returns as they are: a bulk's payloads are made of little else.
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _json(value: Any) -> Any:
    """jsonable(value), quicker for the flat dicts of plain values sharing writes (a bulk of
    10,000 items has 30,000 of them): exact plain types and dicts are handled here, anything
    else (dates, enums, lists …) by jsonable itself."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {str(k): v if type(v) in _PLAIN else _json(v) for k, v in value.items()}
    return jsonable(value)


def audit_values(
    actor: Actor,
    action: str,
    *,
    kind: ItemKind,
    item_id: int,
    matter_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """An audit entry's columns, as Context.audit writes them."""
    return {
        "at": now,
        "staff_id": actor.staff_id,
        "actor": actor.login,
        "action": action,
        "kind": kind.value,
        "item_id": item_id,
        "matter_id": matter_id,
        "before": _json(before),
        "after": _json(after),
    }


def outbox_values(
    op: OutboxOp,
    payload: dict[str, Any],
    *,
    kind: ItemKind,
    item_id: int,
    matter_id: int,
    version: int,
    batch: str | None,
    now: datetime,
) -> dict[str, Any]:
    """An outbox row's columns, as base.queue_outbox writes them; the model's defaults
    fill in the rest (idempotency key, state, attempts, and a batch of its own if none)."""
    values: dict[str, Any] = {
        "op": op,
        "kind": kind.value,
        "item_id": item_id,
        "matter_id": matter_id,
        "version": version,
        "payload": _json(payload),
        "created_at": now,
        "next_attempt_at": now,
    }
    if batch is not None:
        values["batch"] = batch
    return values


def finalise_audit(actor: Actor, item_id: int, matter_id: int, now: datetime) -> dict[str, Any]:
    """S1: the audit entry of an invoice marked Final by its share."""
    return audit_values(
        actor,
        "invoice.finalise",
        kind=ItemKind.INVOICE,
        item_id=item_id,
        matter_id=matter_id,
        before={"status": InvoiceStatus.DRAFT},
        after={"status": InvoiceStatus.FINAL},
        now=now,
    )


def publish_rows(
    actor: Actor,
    kind: ItemKind,
    item_id: int,
    mark: AnyMark,
    *,
    notify: bool,
    data: dict[str, Any],
    batch: str | None,
    action: str,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move `mark` to a new wanted version, pending until delivered. Returns the outbox row
    that asks for the portal's copy (`data`) and the audit entry, as column values."""
    before = {"state": mark.state, "wanted": mark.wanted}
    if not mark.wanted:
        mark.shared_by_id, mark.shared_at = actor.staff_id, now
    mark.wanted = True
    mark.state = ShareState.PENDING
    mark.version = next_version(mark)
    mark.last_error = None
    matter_id, version = mark.matter_id, mark.version
    payload = {
        "kind": kind,
        "item_id": item_id,
        "matter_id": matter_id,
        "version": version,
        "notify": notify,
        "data": data,
    }
    return (
        outbox_values(
            OutboxOp.PUBLISH,
            payload,
            kind=kind,
            item_id=item_id,
            matter_id=matter_id,
            version=version,
            batch=batch,
            now=now,
        ),
        audit_values(
            actor,
            action,
            kind=kind,
            item_id=item_id,
            matter_id=matter_id,
            before=before,
            after={"state": mark.state, "version": version},
            now=now,
        ),
    )


def revoke_rows(
    actor: Actor,
    kind: ItemKind,
    item_id: int,
    mark: AnyMark,
    *,
    batch: str | None,
    now: datetime,
    action: str = "unshare",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move `mark` to a new unwanted version, pending until delivered. Returns the outbox row
    that takes the portal's copy back and the audit entry, as column values."""
    before = {"state": mark.state, "wanted": mark.wanted}
    if mark.wanted:  # a withdrawal sent again (after a restore) keeps who unshared it, when
        mark.unshared_by_id, mark.unshared_at = actor.staff_id, now
    mark.wanted = False
    mark.state = ShareState.PENDING
    mark.version = next_version(mark)
    mark.last_error = None
    matter_id, version = mark.matter_id, mark.version
    payload = {"kind": kind, "item_id": item_id, "matter_id": matter_id, "version": version}
    return (
        outbox_values(
            OutboxOp.REVOKE,
            payload,
            kind=kind,
            item_id=item_id,
            matter_id=matter_id,
            version=version,
            batch=batch,
            now=now,
        ),
        audit_values(
            actor,
            action,
            kind=kind,
            item_id=item_id,
            matter_id=matter_id,
            before=before,
            after={"state": mark.state, "version": version},
            now=now,
        ),
    )

"""What the repository hands to the app: plain, immutable rows. No ORM objects leave it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from .kinds import Category, ItemKind
from .states import (
    ContactStatus,
    DocumentSource,
    FormRule,
    InvoiceStatus,
    MatterStatus,
    PartyAccess,
    ShareState,
    StaffRole,
)

# A row's place in its list: (sort value, id). Opaque to callers; handed back to page on.
Key = tuple[Any, int]

RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    """One window of a list, in display order. `more_after`/`more_before` say whether the list
    goes on past the last/first row."""

    rows: tuple[RowT, ...]
    more_before: bool
    more_after: bool


@dataclass(frozen=True, slots=True)
class Share:
    """The far-left icon of a row (S0), and why a delivery failed."""

    state: ShareState = ShareState.NOT_SHARED
    wanted: bool = False
    error: str | None = None

    @property
    def is_shared(self) -> bool:
        """Whether the item counts as shared: asked for, whether or not delivered yet."""
        return self.wanted


NOT_SHARED = Share()


@dataclass(frozen=True, slots=True)
class FirmIdentity:
    """Who the firm is to its portal: its id (made when it was set up; a restored backup is the
    same firm), its name, and its epoch (grows each time a backup is restored)."""

    firm_id: str
    name: str
    epoch: int


@dataclass(frozen=True, slots=True)
class StaffRow:
    id: int
    login: str
    name: str
    email: str
    role: StaffRole
    active: bool


@dataclass(frozen=True, slots=True)
class StaffKeyRow:
    """A staff user's SSH key for the built-in SSH door."""

    login: str
    fingerprint: str
    kind: str
    comment: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class ClientRow:
    id: int
    name: str
    primary_email: str | None
    phone: str | None
    address: str | None
    # As read: an Edit saved from this row is refused if the client changed since.
    edit_version: int = 0
    key: Key = ("", 0)  # its place in the clients list (by name)


@dataclass(frozen=True, slots=True)
class MatterRow:
    id: int
    number: str
    name: str
    client_id: int
    client_name: str
    status: MatterStatus
    portal_enabled: bool
    key: Key
    responsible_name: str | None = None  # the responsible staff user's name, if any


@dataclass(frozen=True, slots=True)
class MatterDetail:
    id: int
    number: str
    name: str
    client: ClientRow
    status: MatterStatus
    practice_area: str | None
    description: str | None
    opened_on: date | None
    portal_enabled: bool
    permissions: frozenset[Category]
    # The matter's boxes narrowed by the firm's (F4): what it really permits today.
    effective_permissions: frozenset[Category]
    responsible_id: int | None = None
    responsible_name: str | None = None
    edit_version: int = 0  # as read: an Edit saved from it is refused if it changed since
    sensitive: bool = False  # its clients may be required a second factor


@dataclass(frozen=True, slots=True)
class InvoiceLineRow:
    description: str
    quantity: str  # decimal as text, e.g. "1.5"
    rate_cents: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    matter_id: int
    matter_number: str
    client_name: str
    number: str
    issued_on: date
    due_on: date | None
    status: InvoiceStatus
    total_cents: int
    paid_cents: int
    share: Share
    key: Key
    kind: ItemKind = ItemKind.INVOICE
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    matter_id: int
    matter_number: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    location: str | None
    description: str | None
    # All day: its days, last included (domain/event_days.py); None for a timed event.
    all_day: bool
    first_day: date | None
    last_day: date | None
    share: Share
    key: Key
    kind: ItemKind = ItemKind.EVENT
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    matter_id: int
    matter_number: str
    title: str
    due_on: date | None
    done: bool
    assignee_id: int | None
    description: str | None
    share: Share
    key: Key
    kind: ItemKind = ItemKind.TASK
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    matter_id: int
    matter_number: str
    subject: str
    body: str
    created_at: datetime
    share: Share
    key: Key
    kind: ItemKind = ItemKind.NOTE
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: int
    matter_id: int
    folder_id: int
    folder_name: str
    name: str
    source: DocumentSource
    content_type: str
    size: int
    from_client: bool
    created_at: datetime
    share: Share
    key: Key
    kind: ItemKind = ItemKind.DOCUMENT
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on


@dataclass(frozen=True, slots=True)
class FolderRow:
    id: int
    matter_id: int
    name: str
    linked_path: str | None


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    matter_id: int
    matter_number: str
    author_name: str
    from_client: bool
    subject: str
    body: str
    sent_at: datetime
    share: Share
    key: Key
    kind: ItemKind = ItemKind.MESSAGE
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on


@dataclass(frozen=True, slots=True)
class FormField:
    key: str
    label: str
    type: str  # a FieldType value
    required: bool = False
    choices: tuple[str, ...] = ()
    target: str | None = None  # "client.<field>" or "matter.<field>"


@dataclass(frozen=True, slots=True)
class FormRow:
    id: int
    name: str
    description: str | None
    rule: FormRule
    matter_id: int | None
    fields: tuple[FormField, ...]
    share: Share
    key: Key
    kind: ItemKind = ItemKind.FORM
    edit_version: int = 0  # as read: an Edit screen's Save is refused if it moved on


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    form_id: int
    matter_id: int | None
    answers: dict[str, Any]
    submitted_by: str
    submitted_at: datetime
    processed_at: datetime | None
    changes: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    matter_id: int
    client_id: int
    name: str
    email: str
    status: ContactStatus
    invited_at: datetime
    invitations_sent: int
    activated_at: datetime | None
    last_login_at: datetime | None
    version: int = 0  # as read: an action chosen from a screen that is overtaken is refused


@dataclass(frozen=True, slots=True)
class ContactSignIns:
    """What the portal knows of a contact's client signing in: two-factor, the last sign-in
    and how many sessions are alive now (one client signs in once for all their matters)."""

    two_factor: bool
    last_login_at: datetime | None
    active_sessions: int


@dataclass(frozen=True, slots=True)
class PartyRow:
    staff_id: int
    login: str
    name: str
    email: str
    role: StaffRole
    access: PartyAccess


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    kind: str | None
    item_id: int | None
    matter_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ShareRecord:
    """An item's share mark in full, for its share history."""

    kind: ItemKind
    item_id: int
    matter_id: int
    share: Share
    version: int
    shared_by: str | None
    shared_at: datetime | None
    unshared_by: str | None
    unshared_at: datetime | None
    first_viewed_at: datetime | None
    first_downloaded_at: datetime | None


@dataclass(frozen=True, slots=True)
class MatterPortalChange:
    """What turning a matter's portal ON or OFF did (M4: the items still marked shared,
    published again or withdrawn with it)."""

    enabled: bool
    republished: int = 0
    withdrawn: int = 0


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of an item's share history."""

    at: datetime
    what: str  # what happened, in words
    who: str | None = None  # the staff member's name, when staff did it
    detail: str | None = None  # who was to be emailed, why a delivery failed, …


@dataclass(frozen=True, slots=True)
class ShareHistory:
    """An item's share history, oldest first: who shared and unshared it, delivery to the
    portal, the clients' email, and the client's first view and download."""

    kind: ItemKind
    item_id: int
    share: Share
    entries: tuple[HistoryEntry, ...]

    @property
    def ever_shared(self) -> bool:
        return bool(self.entries)


@dataclass(frozen=True, slots=True)
class InvoicePdfChange:
    """What attaching, replacing or removing an invoice's own PDF did: `changed` False when
    it already was so (the same PDF again, or none to remove); `republished` when the client's
    copy of the shared invoice goes out again with it."""

    number: str
    pdf_sha256: str | None
    changed: bool
    republished: bool

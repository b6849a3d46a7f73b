"""Request and response bodies of the staff API.

Every body forbids unknown fields and every value is constrained to what the service's
database can hold (32-bit ids, 63-bit versions, bounded text without NUL or lone surrogates),
so bad input is a 422 with a message instead of a database error and a 500.

The bodies mirror the firm's outbox payloads (repository/: `firm_payload`, `matter_payload`,
`_parties_payload`, contacts' `_payload`, sharing's `_publish`/`_revoke`): the delivery worker
sends a payload as it is, adding only `version` where the payload lacks it. Ids that are also
in the path (`matter_id`, `item_id`, `kind`, `contact_id`) may be repeated in the body; when they
are, they must match the path.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from portal_tui.domain.kinds import Category, ItemKind
from portal_tui.domain.states import ContactAction, ContactStatus, FieldType, InvoiceStatus

# Column limits of service/models.py: Integer ids are 32-bit on PostgreSQL, versions BigInteger.
MAX_ID = 2**31 - 1
MAX_VERSION = 2**63 - 1
# Money in cents, kept well inside what a JSON reader (and JavaScript) holds exactly.
MAX_CENTS = 10**15
LONG_TEXT = 1_000_000


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded at all: both
    # would fail inside the database driver, long after validation.
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION, description="Only a higher one applies.")]
Cents = Annotated[int, Field(ge=-MAX_CENTS, le=MAX_CENTS)]
Name = Annotated[str, StringConstraints(max_length=300), AfterValidator(_storable)]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
LongText = Annotated[str, StringConstraints(max_length=LONG_TEXT), AfterValidator(_storable)]
Login = Annotated[str, StringConstraints(min_length=1, max_length=120), AfterValidator(_storable)]
# Deliberately loose (the firm checked it when it was typed): one @, no spaces or brackets.
EMAIL_PATTERN = r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+$"
Email = Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=EMAIL_PATTERN)]
# Staff users may have no email on file; they then simply get no notices.
StaffEmail = Annotated[str, StringConstraints(max_length=320, pattern=r"^$|" + EMAIL_PATTERN)]
BATCH_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Batch = Annotated[str, StringConstraints(pattern=BATCH_PATTERN)]
# A media type, parameters allowed ("text/plain; charset=utf-8"); no control characters.
ContentType = Annotated[
    str,
    StringConstraints(
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
        r"( *;[\x20-\x7e]*)?$",
    ),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Quantity = Annotated[
    str, StringConstraints(max_length=40, pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$")
]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)


def _categories(value: list[Category]) -> list[Category]:
    # A set in meaning: duplicates are harmless, stored once in the canonical order.
    return [c for c in Category if c in set(value)]


Permissions = Annotated[
    list[Category],
    Field(max_length=len(Category) * 4, description="Permitted categories (F3, M2)."),
    AfterValidator(_categories),
]


# Firm and matters ------------------------------------------------------------------------------


class FirmIn(ApiModel):
    """The firm's portal settings as they should now be (F2-F5)."""

    name: Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
    enabled: bool
    permissions: Permissions
    notify_new_items: bool
    daily_digest: bool
    notify_staff_on_upload: bool
    version: Version


class MatterIn(ApiModel):
    """A matter's portal switch and permissions as they should now be (M1-M4)."""

    matter_id: Id | None = None
    number: Annotated[str, StringConstraints(max_length=40), AfterValidator(_storable)]
    name: Name
    enabled: bool
    permissions: Permissions
    version: Version


class NotifyParty(ApiModel):
    login: Login
    name: ShortText
    email: StaffEmail


class MatterNotifyIn(ApiModel):
    """The staff who get the matter's portal notices: its Allowed parties (M5)."""

    matter_id: Id | None = None
    notify: Annotated[list[NotifyParty], Field(max_length=1000)]
    version: Version


class Applied(ApiModel):
    """The answer to a versioned write: whether it changed anything, and the version now held.

    A version not newer than the stored one is acknowledged but changes nothing."""

    applied: bool
    version: int


# Contacts ---------------------------------------------------------------------------------------


class ContactIn(ApiModel):
    """A portal contact (C1-C3) after a staff action. `status` is the firm's view; an
    activation the firm has not yet heard of is kept (the client really did activate)."""

    contact_id: Id | None = None
    matter_id: Id
    client_id: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)]
    email: Email
    status: ContactStatus
    action: ContactAction
    version: Version
    # The firm's own count; informational (the service counts what it sent).
    invitations_sent: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None


class ContactOut(ApiModel):
    applied: bool
    version: int
    status: ContactStatus
    invitations_sent: int
    invite_expires_at: AwareDatetime | None


# Items -----------------------------------------------------------------------------------------


class InvoiceLine(ApiModel):
    description: LongText
    quantity: Quantity
    rate_cents: Cents
    amount_cents: Cents


class InvoiceData(ApiModel):
    number: Annotated[str, StringConstraints(max_length=40), AfterValidator(_storable)]
    issued_on: date
    due_on: date | None = None
    status: InvoiceStatus
    total_cents: Cents
    paid_cents: Cents
    memo: LongText | None = None
    lines: Annotated[list[InvoiceLine], Field(max_length=5000)] = []


class EventData(ApiModel):
    title: Name
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    location: Name | None = None
    description: LongText | None = None


class TaskData(ApiModel):
    title: Name
    due_on: date | None = None
    done: bool = False
    description: LongText | None = None


class NoteData(ApiModel):
    subject: Name
    body: LongText
    created_at: AwareDatetime


class DocumentData(ApiModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_storable)]
    content_type: ContentType
    size: Annotated[int, Field(ge=0, le=2**62)]
    sha256: Sha256 | None = None
    created_at: AwareDatetime
    folder: ShortText = ""


class MessageData(ApiModel):
    subject: Name
    body: LongText
    author_name: ShortText
    from_client: bool = False
    sent_at: AwareDatetime


class FormField(ApiModel):
    key: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)]
    label: Name
    type: FieldType
    required: bool = False
    choices: Annotated[list[ShortText], Field(max_length=200)] = []
    target: Annotated[str, StringConstraints(max_length=80), AfterValidator(_storable)] | None = (
        None
    )


class FormData(ApiModel):
    name: ShortText
    description: LongText | None = None
    fields: Annotated[list[FormField], Field(max_length=500)]

    @field_validator("fields")
    @classmethod
    def _unique_keys(cls, fields: list[FormField]) -> list[FormField]:
        keys = [f.key for f in fields]
        if len(set(keys)) != len(keys):
            raise ValueError("two fields share a key")
        return fields


class PublishBase(ApiModel):
    """An item as the client should now see it. A version not newer than the stored one
    (also a revoke's) is acknowledged and changes nothing."""

    item_id: Id | None = None
    matter_id: Id
    version: Version
    # Items published together; POST /batches/{batch}/notify then sends one email per client.
    batch: Batch | None = None
    # False: the item joins no "new items" email (the firm has F5's notice off, say).
    notify: bool = True


class PublishInvoice(PublishBase):
    kind: Literal[ItemKind.INVOICE] | None = None
    data: InvoiceData


class PublishEvent(PublishBase):
    kind: Literal[ItemKind.EVENT] | None = None
    data: EventData


class PublishTask(PublishBase):
    kind: Literal[ItemKind.TASK] | None = None
    data: TaskData


class PublishNote(PublishBase):
    kind: Literal[ItemKind.NOTE] | None = None
    data: NoteData


class PublishDocument(PublishBase):
    kind: Literal[ItemKind.DOCUMENT] | None = None
    data: DocumentData


class PublishMessage(PublishBase):
    kind: Literal[ItemKind.MESSAGE] | None = None
    data: MessageData


class PublishForm(PublishBase):
    kind: Literal[ItemKind.FORM] | None = None
    data: FormData


class BatchOut(ApiModel):
    batch: str
    queued: int


# Changes feed ----------------------------------------------------------------------------------


class ChangeOut(ApiModel):
    seq: int
    type: str
    at: AwareDatetime
    matter_id: int | None
    payload: dict[str, object]


class ChangesOut(ApiModel):
    changes: list[ChangeOut]
    cursor: str = Field(description="Pass back as ?cursor= for the changes after these.")
    more: bool = Field(description="More changes follow at once.")


class ItemState(ApiModel):
    """The portal's copy of an item: published, or a tombstone keeping the version."""

    kind: ItemKind
    item_id: int
    matter_id: int | None
    published: bool
    version: int
    # Documents only: whether the bytes are there (a document is shown only then).
    has_content: bool | None = None


class ItemOut(ItemState):
    """An item after a publish or revoke; `applied` is False for a stale version."""

    applied: bool


class ErrorOut(BaseModel):
    detail: str

"""Request and response bodies of the staff API.

Every body forbids unknown fields and every value is constrained to what the service's
database can hold (32-bit ids, bounded text without NUL or lone surrogates) and what every JSON
reader holds exactly (other whole numbers up to 2**53 - 1), so bad input is a 422 with a
message instead of a database error and a 500. The OpenAPI document states each of these
bounds, so a request it allows is one the API takes.

The bodies mirror the firm's outbox payloads (repository/: `firm_payload`, `matter_payload`,
`_parties_payload`, contacts' `_payload`, sharing's `_publish`/`_revoke`): the delivery worker
sends a payload as it is, adding only `version` where the payload lacks it. Ids that are also
in the path (`matter_id`, `item_id`, `kind`, `contact_id`) may be repeated in the body; when they
are, they must match the path.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from portal_tui.domain import rules
from portal_tui.domain.kinds import Category, ItemKind
from portal_tui.domain.states import (
    ContactAction,
    ContactStatus,
    FieldType,
    InvoiceStatus,
    TwoFactorRequirement,
)

from .binding import MAX_EPOCH

# Column limits of service/models.py: Integer ids are 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1
# Every other whole number stays inside what every JSON reader holds exactly (RFC 8259 §6:
# doubles), so that a client or checker reading the document's bounds that way agrees with
# the API on the last value it takes. Versions and epochs count up from 1 and never get near.
MAX_JSON_INT = 2**53 - 1
MAX_VERSION = MAX_JSON_INT
# Money in cents, kept well inside that too.
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


class _Storable:
    """Text the database can hold (`_storable`), and the JSON Schema saying so of NUL (a lone
    surrogate cannot be said in a pattern, and a JSON writer does not make one)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_storable, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = NO_NUL_PATTERN
        return json_schema


NO_NUL_PATTERN = "^[^\\x00]*$"
STORABLE = _Storable()

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION, description="Only a higher one applies.")]
Cents = Annotated[int, Field(ge=-MAX_CENTS, le=MAX_CENTS)]
Name = Annotated[str, StringConstraints(max_length=300), STORABLE]
ShortText = Annotated[str, StringConstraints(max_length=200), STORABLE]
LongText = Annotated[str, StringConstraints(max_length=LONG_TEXT), STORABLE]
Login = Annotated[str, StringConstraints(min_length=1, max_length=120), STORABLE]
# Deliberately loose (the firm checked it when it was typed): one @, no spaces or brackets.
EMAIL_PATTERN = r"^[^@\s<>\"',;\x00]+@[^@\s<>\"',;\x00]+$"
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

    name: Annotated[str, StringConstraints(max_length=200), STORABLE]
    enabled: bool
    permissions: Permissions
    notify_new_items: bool
    daily_digest: bool
    notify_staff_on_upload: bool
    # Absent from a firm that predates it: nobody is required a second factor.
    two_factor_required: TwoFactorRequirement = TwoFactorRequirement.OFF
    version: Version


class MatterIn(ApiModel):
    """A matter's portal switch and permissions as they should now be (M1-M4)."""

    matter_id: Id | None = None
    number: Annotated[str, StringConstraints(max_length=40), STORABLE]
    name: Name
    enabled: bool
    permissions: Permissions
    # Its clients may be required a second factor (the firm's two_factor_required).
    sensitive: bool = False
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


class TwoFactorResetOut(ApiModel):
    """Whether the client had a second factor on that is now reset (and every session of the
    client ended); false: none was on, and nothing changed."""

    reset: bool


class Applied(ApiModel):
    """The answer to a versioned write: whether it changed anything, and the version now held.

    A version not newer than the stored one is acknowledged but changes nothing."""

    applied: bool
    version: int


# Contacts ---------------------------------------------------------------------------------------


# The statuses each action can end in, from any status (the firm computed it by the rules).
ENDS_IN: dict[ContactAction, frozenset[ContactStatus]] = {
    action: frozenset(
        target
        for status in (None, *ContactStatus)
        for activated in (False, True)
        if (target := rules.contact_transition(status, action, was_activated=activated)[1])
        is not None
    )
    for action in ContactAction
}


def _status_follows_action(schema: dict[str, Any]) -> None:
    # The document says which statuses go with each action, as put_contact checks (422).
    schema["anyOf"] = [
        {
            "properties": {
                "action": {"const": action.value},
                "status": {"enum": sorted(status.value for status in ENDS_IN[action])},
            }
        }
        for action in ContactAction
    ]


class ContactIn(ApiModel):
    """A portal contact (C1-C3) after a staff action. `status` is the firm's view; an
    activation the firm has not yet heard of is kept (the client really did activate)."""

    model_config = ConfigDict(json_schema_extra=_status_follows_action)

    contact_id: Id | None = None
    matter_id: Id
    client_id: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), STORABLE]
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


class ContactSecurityOut(ApiModel):
    contact_id: int
    two_factor: bool
    last_login_at: AwareDatetime | None
    active_sessions: int


class SignedOutOut(ApiModel):
    contact_id: int
    ended: int  # how many sessions ended


# Items -----------------------------------------------------------------------------------------


class InvoiceLine(ApiModel):
    description: LongText
    quantity: Quantity
    rate_cents: Cents
    amount_cents: Cents


class InvoiceData(ApiModel):
    number: Annotated[str, StringConstraints(max_length=40), STORABLE]
    issued_on: date
    due_on: date | None = None
    status: InvoiceStatus
    total_cents: Cents
    paid_cents: Cents
    memo: LongText | None = None
    lines: Annotated[list[InvoiceLine], Field(max_length=5000)] = []
    # The firm's own PDF of the invoice, by its SHA-256: its bytes follow in PUT
    # /items/invoice/{id}/content when the portal does not hold them (has_content false), and
    # the client downloads it instead of the PDF made from the lines. None: no PDF of its own.
    pdf_sha256: Sha256 | None = None


def _days_follow_all_day(schema: dict[str, Any]) -> None:
    # The document says what _days checks, but that the last day is not before the first
    # (no JSON Schema compares two fields): a timed event has no days, an all-day one both.
    schema["anyOf"] = [
        {
            "properties": {
                "all_day": {"const": False},
                "first_day": {"type": "null"},
                "last_day": {"type": "null"},
            }
        },
        {
            "properties": {
                "all_day": {"const": True},
                "first_day": {"type": "string", "format": "date"},
                "last_day": {"type": "string", "format": "date"},
            },
            "required": ["all_day", "first_day", "last_day"],
        },
    ]


class EventData(ApiModel):
    model_config = ConfigDict(json_schema_extra=_days_follow_all_day)

    title: Name
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    location: Name | None = None
    description: LongText | None = None
    # All day: its days, the last included, which the pages and calendar.ics show as dates
    # (no zone moves a date); starts_at and ends_at are then only where it sorts. A firm
    # that sends none of the three sends a timed event.
    all_day: bool = False
    first_day: date | None = None
    last_day: date | None = None

    @model_validator(mode="after")
    def _days(self) -> EventData:
        if not self.all_day:
            if self.first_day is not None or self.last_day is not None:
                raise ValueError("first_day and last_day are for an all-day event only")
        elif self.first_day is None or self.last_day is None:
            raise ValueError("an all-day event needs first_day and last_day")
        elif self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        return self


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
    name: Annotated[str, StringConstraints(min_length=1, max_length=300), STORABLE]
    content_type: ContentType
    size: Annotated[int, Field(ge=0, le=MAX_JSON_INT)]
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
    key: Annotated[str, StringConstraints(min_length=1, max_length=200), STORABLE]
    label: Name
    type: FieldType
    required: bool = False
    choices: Annotated[list[ShortText], Field(max_length=200)] = []
    target: Annotated[str, StringConstraints(max_length=80), STORABLE] | None = None


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


# The body of PUT /items/{kind}/{item_id}, whichever kind: each has its own `data`.
PublishItem = (
    PublishInvoice
    | PublishEvent
    | PublishTask
    | PublishNote
    | PublishDocument
    | PublishMessage
    | PublishForm
)


class BatchOut(ApiModel):
    batch: str
    queued: int


# A firm's reset after restoring a backup ----------------------------------------------------


class BindingOut(ApiModel):
    """The firm this portal serves (nulls before any firm has spoken to it)."""

    firm_id: str | None
    name: str | None
    epoch: int | None


class ResetIn(ApiModel):
    """The restored firm starts over on the portal: every copy it holds is withdrawn until the
    firm sends it again, and contacts the restored firm does not know lose their access."""

    epoch: Annotated[
        int, Field(ge=1, le=MAX_EPOCH, description="The firm's epoch after restoring.")
    ]
    contacts: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]],
        Field(max_length=1_000_000, description="Every contact id the restored firm has."),
    ]


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
    # Documents: whether the bytes are there (a document is shown only then). Invoices whose
    # copy names a PDF of their own (`pdf_sha256`): whether the portal holds those bytes.
    has_content: bool | None = None


class ItemOut(ItemState):
    """An item after a publish or revoke; `applied` is False for a stale version."""

    applied: bool


class ErrorOut(BaseModel):
    detail: str


# Many publishes and revokes at once (POST /items/batch) ----------------------------------------

MAX_OPERATIONS = 1000


class BatchPublishInvoice(PublishInvoice):
    """Publish an invoice: the body of PUT /items/invoice/{item_id}, with `op`, `kind` and
    `item_id`."""

    op: Literal["publish"]
    kind: Literal[ItemKind.INVOICE]
    item_id: Id


class BatchPublishEvent(PublishEvent):
    """Publish a calendar event, as PUT /items/event/{item_id} would."""

    op: Literal["publish"]
    kind: Literal[ItemKind.EVENT]
    item_id: Id


class BatchPublishTask(PublishTask):
    """Publish a task, as PUT /items/task/{item_id} would."""

    op: Literal["publish"]
    kind: Literal[ItemKind.TASK]
    item_id: Id


class BatchPublishNote(PublishNote):
    """Publish a note, as PUT /items/note/{item_id} would."""

    op: Literal["publish"]
    kind: Literal[ItemKind.NOTE]
    item_id: Id


class BatchPublishDocument(PublishDocument):
    """Publish a document's details, as PUT /items/document/{item_id} would (its bytes still
    go to PUT /items/document/{item_id}/content)."""

    op: Literal["publish"]
    kind: Literal[ItemKind.DOCUMENT]
    item_id: Id


class BatchPublishMessage(PublishMessage):
    """Publish a message, as PUT /items/message/{item_id} would."""

    op: Literal["publish"]
    kind: Literal[ItemKind.MESSAGE]
    item_id: Id


class BatchPublishForm(PublishForm):
    """Publish an intake form, as PUT /items/form/{item_id} would."""

    op: Literal["publish"]
    kind: Literal[ItemKind.FORM]
    item_id: Id


class BatchRevoke(ApiModel):
    """Revoke (unshare) an item, as DELETE /items/{kind}/{item_id}?version=&matter_id= would."""

    op: Literal["revoke"]
    kind: ItemKind
    item_id: Id
    version: Version
    matter_id: Id | None = Field(
        default=None,
        description="The item's matter: lets a tombstone be kept for an item the portal never "
        "had, so a late publish of an older version cannot bring it back.",
    )


BatchPublish = (
    BatchPublishInvoice
    | BatchPublishEvent
    | BatchPublishTask
    | BatchPublishNote
    | BatchPublishDocument
    | BatchPublishMessage
    | BatchPublishForm
)


def _operation_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        op, kind = value.get("op"), value.get("kind")
    else:
        op, kind = getattr(value, "op", None), getattr(value, "kind", None)
    if op == "revoke":
        return "revoke"
    if op == "publish" and isinstance(kind, str):
        return f"publish:{kind.value if isinstance(kind, ItemKind) else kind}"
    return None


BatchOperation = Annotated[
    Annotated[BatchPublishInvoice, Tag("publish:invoice")]
    | Annotated[BatchPublishEvent, Tag("publish:event")]
    | Annotated[BatchPublishTask, Tag("publish:task")]
    | Annotated[BatchPublishNote, Tag("publish:note")]
    | Annotated[BatchPublishDocument, Tag("publish:document")]
    | Annotated[BatchPublishMessage, Tag("publish:message")]
    | Annotated[BatchPublishForm, Tag("publish:form")]
    | Annotated[BatchRevoke, Tag("revoke")],
    Discriminator(_operation_tag),
]
_OPERATION: TypeAdapter[BatchPublish | BatchRevoke] = TypeAdapter(BatchOperation)


class InvalidOperation(ApiModel):
    """An operation of a batch that is not valid: it is answered "rejected" with `reason`,
    and the others of the batch still apply."""

    reason: str
    kind: str | None = None
    item_id: int | None = None


def _invalid(value: Any, exc: ValidationError) -> InvalidOperation:
    raw = value if isinstance(value, dict) else {}
    op, kind, item_id = raw.get("op"), raw.get("kind"), raw.get("item_id")
    known = [k.value for k in ItemKind]
    if op not in ("publish", "revoke"):
        reason = 'Invalid request: op: Input should be "publish" or "revoke"'
    elif op == "publish" and kind not in known:
        reason = f"There is no item kind {kind!r}; the kinds are: {', '.join(known)}."
    else:
        errors = exc.errors()
        shown = []
        for err in errors[:5]:
            # The first part of the place is the union's tag ("publish:invoice"): not a field.
            where = ".".join(str(part) for part in err["loc"][1:])
            shown.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
        if len(errors) > 5:
            shown.append(f"and {len(errors) - 5} more")
        reason = "Invalid request: " + "; ".join(shown)
    return InvalidOperation(
        reason=reason,
        kind=kind if isinstance(kind, str) and kind in known else None,
        item_id=item_id
        if isinstance(item_id, int) and not isinstance(item_id, bool) and 1 <= item_id <= MAX_ID
        else None,
    )


def _each_on_its_own(
    value: Any, _handler: ValidatorFunctionWrapHandler
) -> BatchPublish | BatchRevoke | InvalidOperation:
    # Validated here rather than by the handler, so that one bad operation is rejected on
    # its own instead of failing the whole batch.
    try:
        return _OPERATION.validate_python(value)
    except ValidationError as exc:
        return _invalid(value, exc)


# The batch takes anything as an operation: one that is none of the above is answered
# "rejected" with its reason, in a 200 with the others' results; the document says so.
_ANYTHING_ELSE: JsonSchemaValue = {
    "description": "Anything else: not applied, its result `rejected` with the reason."
}


class ItemsBatchIn(ApiModel):
    """Publishes and revokes, applied in order in one transaction. Each operation is checked
    as the single request would be; one that is not valid is rejected on its own."""

    operations: Annotated[
        list[
            Annotated[
                BatchOperation | Annotated[InvalidOperation, WithJsonSchema(_ANYTHING_ELSE)],
                WrapValidator(_each_on_its_own),
            ]
        ],
        Field(min_length=1, max_length=MAX_OPERATIONS),
    ]


BatchResultKind = Literal["applied", "stale", "rejected", "retry"]


class BatchItemResult(ApiModel):
    """What became of one operation. `status` is what the single request would have been
    answered: 200 (applied, or stale: a version not newer than the portal's, acknowledged and
    changing nothing), 409 (retry: not now, e.g. its matter has not arrived) or 422
    (rejected: retrying will not change it)."""

    result: BatchResultKind
    status: int
    kind: ItemKind | None = Field(description="The operation's kind, when it had a valid one.")
    item_id: int | None = Field(description="The operation's item id, when it had a valid one.")
    detail: str | None = Field(default=None, description="Why it was rejected or must wait.")
    retry_after: int | None = Field(default=None, description="Seconds to wait before a retry.")
    item: ItemState | None = Field(
        default=None, description="The portal's copy after the operation (applied or stale)."
    )


class ItemsBatchOut(ApiModel):
    """One result per operation, in the order sent, and how many of each."""

    results: list[BatchItemResult]
    applied: int
    stale: int
    rejected: int
    retry: int

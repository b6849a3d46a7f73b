"""Typed views of the portal's item copies, for the templates.

A copy's `data` is JSON the firm sent (repository.sharing.snapshot: dates as ISO text). It is
read defensively: a field missing or of the wrong type shows as empty rather than failing the
page, since one odd item must not lock a client out of a whole screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from portal_tui.domain.states import FieldType

from ..models import PortalItem


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0


def parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # The firm sends UTC; a naive value is read as UTC rather than as server-local time.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: str
    rate_cents: int
    amount_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceView:
    id: int
    number: str
    issued_on: date | None
    due_on: date | None
    total_cents: int
    paid_cents: int
    memo: str
    lines: tuple[InvoiceLine, ...]

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents


class InvoiceListRow(NamedTuple):
    """An invoice as its list shows it (no lines, no memo: those are on its own page). A
    tuple rather than a frozen dataclass: a long list builds many, and this is cheaper."""

    id: int
    number: str
    issued_on: date | None
    due_on: date | None
    total_cents: int
    paid_cents: int

    @property
    def balance_cents(self) -> int:
        return self.total_cents - self.paid_cents


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    location: str
    description: str
    version: int
    published_at: datetime | None
    # All day: its first and last day (a copy that says all_day without them is timed).
    first_day: date | None = None
    last_day: date | None = None

    @property
    def all_day(self) -> bool:
        return self.first_day is not None


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    title: str
    due_on: date | None
    done: bool
    description: str


@dataclass(frozen=True, slots=True)
class NoteView:
    id: int
    subject: str
    body: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: int
    name: str
    content_type: str
    size: int
    created_at: datetime | None
    folder: str
    downloadable: bool = False


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """One message of a matter's thread: the firm's shared messages and the client's replies."""

    author_name: str
    from_client: bool
    subject: str
    body: str
    sent_at: datetime | None
    item_id: int | None = None


@dataclass(frozen=True, slots=True)
class FormFieldView:
    key: str
    label: str
    type: str
    required: bool
    choices: tuple[str, ...]

    @property
    def input_type(self) -> str:
        return {
            FieldType.DATE.value: "date",
            FieldType.EMAIL.value: "email",
            FieldType.PHONE.value: "tel",
        }.get(self.type, "text")

    @property
    def autocomplete(self) -> str:
        return {FieldType.EMAIL.value: "email", FieldType.PHONE.value: "tel"}.get(self.type, "off")


@dataclass(frozen=True, slots=True)
class FormView:
    id: int
    name: str
    description: str
    fields: tuple[FormFieldView, ...] = field(default_factory=tuple)


def invoice_view(item: PortalItem) -> InvoiceView:
    data = item.data or {}
    raw_lines = data.get("lines")
    lines = tuple(
        InvoiceLine(
            _str(ln, "description"),
            _str(ln, "quantity"),
            _int(ln, "rate_cents"),
            _int(ln, "amount_cents"),
        )
        for ln in (raw_lines if isinstance(raw_lines, list) else [])
        if isinstance(ln, dict)
    )
    return InvoiceView(
        id=item.item_id,
        number=_str(data, "number"),
        issued_on=parse_date(data.get("issued_on")),
        due_on=parse_date(data.get("due_on")),
        total_cents=_int(data, "total_cents"),
        paid_cents=_int(data, "paid_cents"),
        memo=_str(data, "memo"),
        lines=lines,
    )


def _int_text(value: object) -> int:
    """An amount read out of the JSON by the database, which hands every field over as text."""
    if value is None:
        return 0
    try:
        return int(str(value))
    except ValueError:
        return 0


def invoice_list_row(
    item_id: int,
    number: str | None,
    issued_on: str | None,
    due_on: str | None,
    total_cents: str | None,
    paid_cents: str | None,
) -> InvoiceListRow:
    """A row of the invoice list from the fields the database extracted from `data` (each as
    text or None), read as defensively as invoice_view reads the whole document."""
    return InvoiceListRow(
        int(item_id),
        number or "",
        parse_date(issued_on),
        parse_date(due_on),
        _int_text(total_cents),
        _int_text(paid_cents),
    )


def event_view(item: PortalItem) -> EventView:
    data = item.data or {}
    return EventView(
        id=item.item_id,
        title=_str(data, "title"),
        starts_at=parse_datetime(data.get("starts_at")),
        ends_at=parse_datetime(data.get("ends_at")),
        location=_str(data, "location"),
        description=_str(data, "description"),
        version=item.version,
        published_at=item.published_at,
        **_days(data),
    )


def _days(data: dict[str, Any]) -> dict[str, date | None]:
    """An all-day copy's days; none for a timed one, or one whose days do not read."""
    first, last = parse_date(data.get("first_day")), parse_date(data.get("last_day"))
    if data.get("all_day") is not True or first is None:
        return {}
    return {"first_day": first, "last_day": last if last is not None and last >= first else first}


def task_view(item: PortalItem) -> TaskView:
    data = item.data or {}
    return TaskView(
        id=item.item_id,
        title=_str(data, "title"),
        due_on=parse_date(data.get("due_on")),
        done=data.get("done") is True,
        description=_str(data, "description"),
    )


def note_view(item: PortalItem) -> NoteView:
    data = item.data or {}
    return NoteView(
        id=item.item_id,
        subject=_str(data, "subject"),
        body=_str(data, "body"),
        created_at=parse_datetime(data.get("created_at")),
    )


def document_view(item: PortalItem, *, downloadable: bool) -> DocumentView:
    data = item.data or {}
    return DocumentView(
        id=item.item_id,
        name=_str(data, "name") or f"document-{item.item_id}",
        content_type=_str(data, "content_type") or "application/octet-stream",
        size=_int(data, "size"),
        created_at=parse_datetime(data.get("created_at")),
        folder=_str(data, "folder"),
        downloadable=downloadable,
    )


def message_entry(item: PortalItem) -> ThreadEntry:
    data = item.data or {}
    return ThreadEntry(
        author_name=_str(data, "author_name"),
        from_client=data.get("from_client") is True,
        subject=_str(data, "subject"),
        body=_str(data, "body"),
        sent_at=parse_datetime(data.get("sent_at")),
        item_id=item.item_id,
    )


def form_view(item: PortalItem) -> FormView:
    data = item.data or {}
    known = {t.value for t in FieldType}
    raw = data.get("fields")
    fields: list[FormFieldView] = []
    for f in raw if isinstance(raw, list) else []:
        if not isinstance(f, dict) or not _str(f, "key"):
            continue
        ftype = _str(f, "type")
        choices = f.get("choices")
        fields.append(
            FormFieldView(
                key=_str(f, "key"),
                label=_str(f, "label") or _str(f, "key"),
                type=ftype if ftype in known else FieldType.TEXT.value,
                required=f.get("required") is True,
                choices=tuple(str(c) for c in choices) if isinstance(choices, list) else (),
            )
        )
    return FormView(
        id=item.item_id,
        name=_str(data, "name") or f"Form {item.item_id}",
        description=_str(data, "description"),
        fields=tuple(fields),
    )


_NEVER = datetime.max.replace(tzinfo=UTC)


def by_start(event: EventView) -> tuple[datetime, int]:
    return (event.starts_at or _NEVER, event.id)


def by_due(task: TaskView) -> tuple[bool, date, int]:
    return (task.done, task.due_on or date.max, task.id)
